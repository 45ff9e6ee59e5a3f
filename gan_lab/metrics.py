"""Offline GAN quality scores computed with a small MNIST classifier that ships with the kit.

Images may be float in [-1, 1] (what a tanh generator makes) or uint8 pixels in [0, 255] (what
`gan_lab.data.load_mnist` returns), shaped (n, 28, 28) or (n, 28, 28, 1). The reference sample
count is 10,000 images: the Frechet distance (and, more mildly, the score) depends on the number of
images, so compare only figures computed from the same count. A conditional generator's samples
are also scored by how often the classifier sees the digit that was asked for (`evaluate_conditional`).
"""

from functools import lru_cache
from pathlib import Path

import numpy as np

from gan_lab.data import DataError, load_mnist, sha256_of

ASSETS = Path(__file__).resolve().parent / "assets"
CLASSIFIER_WEIGHTS = ASSETS / "mnist_classifier.weights.h5"
CLASSIFIER_SHA256 = ASSETS / "mnist_classifier.sha256"
FEATURES_LAYER = "features"
NUM_CLASSES = 10
REFERENCE_SAMPLE_COUNT = 10_000
EPS = 1e-12
_REBUILD_HINT = (
    "restore it with `git checkout -- gan_lab/assets/mnist_classifier.weights.h5 "
    "gan_lab/assets/mnist_classifier.sha256` or rebuild it with `python scripts/train_classifier.py`"
)


def build_classifier():
    """Return the untrained MNIST classifier: a small CNN from (n, 28, 28, 1) images in [-1, 1] to p(y|x)."""
    import keras
    from keras import layers

    images = keras.Input(shape=(28, 28, 1), name="images")
    x = layers.Conv2D(32, 3, activation="relu")(images)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Dropout(0.25)(layers.Flatten()(x))
    features = layers.Dense(128, activation="relu", name=FEATURES_LAYER)(x)
    x = layers.Dropout(0.5)(features)
    probabilities = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(images, probabilities, name="mnist_classifier")


def as_classifier_input(images):
    """Return images as float32 (n, 28, 28, 1) in [-1, 1]; uint8 is read as pixels in [0, 255]."""
    array = np.asarray(images)
    if array.ndim == 3:
        array = array[..., np.newaxis]
    if array.ndim != 4 or array.shape[1:] != (28, 28, 1) or len(array) == 0:
        shape = np.shape(images)
        raise ValueError(f"images must have shape (n, 28, 28) or (n, 28, 28, 1) with n >= 1, got {shape}")
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 127.5 - 1.0
    array = array.astype(np.float32)
    low, high = float(array.min()), float(array.max())
    if not (-1.001 <= low and high <= 1.001):  # also false for NaN
        raise ValueError(
            f"float images must lie in [-1, 1], got values in [{low:g}, {high:g}]: "
            "pass pixels as uint8 or scale them with x / 127.5 - 1"
        )
    return array


def _verify_classifier_weights(weights_path, checksum_path):
    for path, what in ((weights_path, "classifier weights"), (checksum_path, "classifier checksum file")):
        if not path.is_file():
            raise DataError(f"{what} {path} is missing: {_REBUILD_HINT}")
    digest = sha256_of(weights_path)
    if digest != checksum_path.read_text().strip():
        problem = f"are corrupt (SHA-256 differs from {checksum_path})"
        raise DataError(f"classifier weights {weights_path} {problem}: {_REBUILD_HINT}")
    return digest


def _verified_models():
    weights_path = Path(CLASSIFIER_WEIGHTS)
    digest = _verify_classifier_weights(weights_path, Path(CLASSIFIER_SHA256))
    return _classifier_and_features(str(weights_path), digest)


def load_classifier():
    """Return the shipped classifier, its weights verified against their SHA-256 (built once per process)."""
    return _verified_models()[0]


@lru_cache(maxsize=2)
def _classifier_and_features(weights_path, _digest):
    import keras

    classifier = build_classifier()
    try:
        classifier.load_weights(weights_path)
    except Exception as error:  # noqa: BLE001 - any read failure means the same fix
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        problem = f"cannot load classifier weights {weights_path} ({message})"
        raise DataError(f"{problem}: {_REBUILD_HINT}") from None
    # One pass over the images gives both the probabilities and the penultimate features.
    both = keras.Model(classifier.input, [classifier.output, classifier.get_layer(FEATURES_LAYER).output])
    return classifier, both


def _probabilities_and_features(images, batch_size=500, model=None):
    inputs = as_classifier_input(images)
    model = model or _verified_models()[1]
    probabilities, features = model.predict(inputs, batch_size=batch_size, verbose=0)
    return probabilities.astype(np.float64), features.astype(np.float64)


def class_probabilities(images, batch_size=500):
    """Return the classifier's p(y|x) for each image: an (n, 10) float64 array whose rows sum to 1."""
    return _probabilities_and_features(images, batch_size)[0]


def classifier_features(images, batch_size=500):
    """Return the classifier's penultimate-layer ("features") activations: an (n, 128) float64 array."""
    return _probabilities_and_features(images, batch_size)[1]


def _score_from_probabilities(probabilities):
    marginal = probabilities.mean(axis=0)
    kl_per_image = np.sum(probabilities * (np.log(probabilities + EPS) - np.log(marginal + EPS)), axis=1)
    return float(np.exp(kl_per_image.mean()))


def mnist_score(images):
    """Inception Score with the MNIST classifier, exp(E_x KL(p(y|x) || p(y))): 1 (one class or unsure) to 10.

    High when each image is classified confidently and the classes are evenly used; 10,000 real
    test images give about 9.7. Compute it from 10,000 images to compare with the README's figures.
    """
    return _score_from_probabilities(class_probabilities(images))


def _histogram_from_probabilities(probabilities):
    counts = np.bincount(probabilities.argmax(axis=1), minlength=NUM_CLASSES)
    return counts / counts.sum()


def class_histogram(images):
    """Return the fraction of images per predicted digit (10 floats summing to 1); collapse is a peak."""
    return _histogram_from_probabilities(class_probabilities(images))


def _statistics(features):
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"features must have shape (n, d) with n >= 2, got {np.shape(features)}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def _symmetric_sqrt(matrix):
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T


def _frechet_from_statistics(mean_a, cov_a, mean_b, cov_b):
    # Tr((S_a S_b)^(1/2)) equals the sum of the square roots of the eigenvalues of the symmetric
    # positive semi-definite sqrt(S_a) S_b sqrt(S_a), which eigh handles stably (no scipy needed).
    sqrt_a = _symmetric_sqrt(cov_a)
    middle = sqrt_a @ cov_b @ sqrt_a
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2)
    trace_sqrt = np.sqrt(np.clip(eigenvalues, 0.0, None)).sum()
    distance = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt
    return max(float(distance), 0.0)  # rounding can leave a tiny negative number for equal sets


def frechet_distance(features_a, features_b):
    """Frechet distance between Gaussians fitted to two (n, d) feature sets (lower is closer).

    d = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)), with S the sample covariances.

    It depends on the sample counts (small sets look farther apart), so compare only distances
    computed from equal counts; the README's figures use 10,000 images per set.
    """
    mean_a, cov_a = _statistics(features_a)
    mean_b, cov_b = _statistics(features_b)
    if mean_a.shape != mean_b.shape:
        raise ValueError(f"feature sets differ in width: {np.shape(features_a)} and {np.shape(features_b)}")
    return _frechet_from_statistics(mean_a, cov_a, mean_b, cov_b)


@lru_cache(maxsize=2)
def _mnist_test_statistics(model):
    _, (test_images, _) = load_mnist()
    return _statistics(_probabilities_and_features(test_images, model=model)[1])


def _distance_from_features(features):
    return _frechet_from_statistics(*_statistics(features), *_mnist_test_statistics(_verified_models()[1]))


def frechet_distance_to_mnist(images):
    """Frechet distance between the classifier features of `images` and of the 10,000 MNIST test images.

    Use 10,000 images (the reference count) to compare with the README: 10,000 training images
    score the real-vs-real floor, and fewer images give a larger distance for the same generator.
    """
    return _distance_from_features(classifier_features(images))


def _report(probabilities, features):
    return {
        "mnist_score": _score_from_probabilities(probabilities),
        "frechet_distance": _distance_from_features(features),
        "class_histogram": [float(fraction) for fraction in _histogram_from_probabilities(probabilities)],
        "n_images": int(len(probabilities)),
    }


def evaluate_images(images):
    """Return score, distance to MNIST and class histogram as a JSON-ready dict (use 10,000 images)."""
    return _report(*_probabilities_and_features(images))


def _as_labels(labels, count):
    array = np.asarray(labels)
    if array.shape != (count,) or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"labels must be {count} integer class ids, one per image, got shape {array.shape} "
                         f"of {array.dtype}")
    if not 0 <= array.min() <= array.max() < NUM_CLASSES:
        raise ValueError(f"labels must lie in 0..{NUM_CLASSES - 1}, got values in [{array.min()}, {array.max()}]")
    return array


def conditional_accuracy(images, asked_labels):
    """The share (0 to 1) of images that the shipped classifier labels as the digit asked for."""
    probabilities = class_probabilities(images)
    asked = _as_labels(asked_labels, len(probabilities))
    return float(np.mean(probabilities.argmax(axis=1) == asked))


def conditional_samples(generator, latent_dim, per_class=1000, seed=1, num_classes=NUM_CLASSES,
                        batch_size=500):
    """per_class images of each digit from generator([noise, labels]) on fixed noise: (images, asked labels)."""
    from gan_lab.training import fixed_noise

    if isinstance(per_class, bool) or not isinstance(per_class, (int, np.integer)) or per_class < 1:
        raise ValueError(f"per_class must be a positive integer, got {per_class!r}")
    labels = np.repeat(np.arange(num_classes, dtype=np.int32), per_class)
    noise = fixed_noise(len(labels), latent_dim, seed)
    batches = [generator([noise[start:start + batch_size], labels[start:start + batch_size]], training=False)
               for start in range(0, len(labels), batch_size)]
    return np.concatenate([np.asarray(batch) for batch in batches]), labels


def evaluate_conditional(generator, latent_dim, per_class=1000, seed=1, num_classes=NUM_CLASSES):
    """Score a conditional generator's samples: accuracy overall and per digit, plus evaluate_images' figures."""
    images, asked = conditional_samples(generator, latent_dim, per_class, seed, num_classes)
    probabilities, features = _probabilities_and_features(images)
    correct = probabilities.argmax(axis=1) == asked
    return {
        "conditional_accuracy": float(correct.mean()),
        "per_class_accuracy": [float(correct[asked == digit].mean()) for digit in range(num_classes)],
        **_report(probabilities, features),
    }
