"""Print the anchor figures the README quotes for gan_lab.metrics (10,000 images per set).

    python bench/metrics_anchors.py

The ceiling is the MNIST test set itself; 10,000 training images give the real-vs-real floor of
the Frechet distance; an untrained MLP generator gives the floor of the score.
"""

import time

import numpy as np

import gan_lab  # noqa: F401 - selects the Keras backend before keras is imported
from gan_lab import metrics
from gan_lab.data import load_mnist

SAMPLE_COUNT = metrics.REFERENCE_SAMPLE_COUNT
NOISE_DIM = 100
SEED = 0


def untrained_mlp_generator():
    """The course's MLP generator (100 -> 500 -> 500 -> 784 tanh), freshly initialised."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(SEED)
    return keras.Sequential(
        [
            keras.Input(shape=(NOISE_DIM,)),
            layers.Dense(500, activation="relu"),
            layers.Dense(500, activation="relu"),
            layers.Dense(784, activation="tanh"),
            layers.Reshape((28, 28, 1)),
        ],
        name="untrained_generator",
    )


def report(name, images):
    """Print the score, the distance to the test set and the class histogram of `images`."""
    result = metrics.evaluate_images(images)
    histogram = " ".join(f"{fraction:.3f}" for fraction in result["class_histogram"])
    print(f"{name:<34} score {result['mnist_score']:6.3f}   distance {result['frechet_distance']:8.3f}")
    print(f"{'':<34} class histogram (digits 0-9): {histogram}")


def main():
    """Compute and print every anchor."""
    started = time.perf_counter()
    (x_train, _), (x_test, y_test) = load_mnist()
    accuracy = (metrics.class_probabilities(x_test).argmax(axis=1) == y_test).mean()
    print(f"classifier test accuracy: {accuracy:.4f} (10,000 test images)")
    report("MNIST test images (ceiling)", x_test)
    report("MNIST training images (floor of d)", x_train[:SAMPLE_COUNT])
    noise = np.random.default_rng(SEED).standard_normal((SAMPLE_COUNT, NOISE_DIM)).astype(np.float32)
    samples = untrained_mlp_generator().predict(noise, batch_size=500, verbose=0)
    report("untrained MLP generator", samples)
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
