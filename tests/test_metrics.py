"""Tests for gan_lab.metrics: the shipped MNIST classifier and the scores computed with it."""

import json
import shutil

import numpy as np
import pytest

from gan_lab import metrics
from gan_lab.data import DataError, load_mnist


@pytest.fixture(scope="module")
def mnist():
    """((x_train, y_train), (x_test, y_test)) as uint8 arrays."""
    return load_mnist()


@pytest.fixture(scope="module")
def test_set_probabilities(mnist):
    _, (x_test, _) = mnist
    return metrics.class_probabilities(x_test)


@pytest.fixture(scope="module")
def test_set_report(mnist):
    _, (x_test, _) = mnist
    return metrics.evaluate_images(x_test)


def as_tanh_range(images):
    return images.astype(np.float32) / 127.5 - 1.0


def samples_with_exact_statistics(rng, mean, variances, n=400):
    """Samples whose sample mean is `mean` and sample covariance is exactly diag(variances)."""
    noise = rng.normal(size=(n, len(mean)))
    noise -= noise.mean(axis=0)
    whitened = noise @ np.linalg.inv(np.linalg.cholesky(np.cov(noise, rowvar=False))).T
    return mean + whitened * np.sqrt(variances)


def test_shipped_classifier_reaches_99_percent_accuracy_on_the_full_test_set(mnist, test_set_probabilities):
    _, (_, y_test) = mnist
    assert test_set_probabilities.shape == (10000, 10)
    np.testing.assert_allclose(test_set_probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert (test_set_probabilities.argmax(axis=1) == y_test).mean() >= 0.99


def test_load_classifier_builds_the_model_once_per_process():
    assert metrics.load_classifier() is metrics.load_classifier()


def test_classifier_features_are_the_128_wide_penultimate_layer(mnist):
    _, (x_test, _) = mnist
    features = metrics.classifier_features(x_test[:50])
    assert features.shape == (50, 128) and features.dtype == np.float64


def test_mnist_score_of_real_test_images_is_above_9(test_set_report):
    assert 9.0 < test_set_report["mnist_score"] <= 10.0


def test_mnist_score_of_one_repeated_image_is_about_1(mnist):
    _, (x_test, _) = mnist
    assert metrics.mnist_score(np.repeat(x_test[:1], 200, axis=0)) == pytest.approx(1.0, abs=1e-6)


def test_class_histogram_of_real_test_images_matches_the_label_fractions(mnist, test_set_report):
    _, (_, y_test) = mnist
    histogram = np.array(test_set_report["class_histogram"])
    assert histogram.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(histogram, np.bincount(y_test) / len(y_test), atol=0.01)


def test_class_histogram_of_a_set_collapsed_to_one_digit_peaks_above_90_percent(mnist):
    _, (x_test, y_test) = mnist
    only_threes = x_test[y_test == 3][:300]
    histogram = metrics.class_histogram(only_threes)
    assert histogram.argmax() == 3 and histogram.max() > 0.9


def test_uint8_and_tanh_range_inputs_of_the_same_images_give_the_same_results(mnist):
    _, (x_test, _) = mnist
    pixels = x_test[:300]
    from_uint8 = metrics.class_probabilities(pixels)
    from_floats = metrics.class_probabilities(as_tanh_range(pixels)[..., np.newaxis])
    np.testing.assert_allclose(from_uint8, from_floats, atol=1e-6)
    assert metrics.mnist_score(pixels) == pytest.approx(metrics.mnist_score(as_tanh_range(pixels)), rel=1e-6)


def test_frechet_distance_of_a_set_with_itself_is_zero():
    features = np.random.default_rng(0).normal(size=(500, 16))
    assert metrics.frechet_distance(features, features) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_is_symmetric():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(500, 16))
    b = rng.normal(loc=0.5, size=(300, 16)) @ rng.normal(size=(16, 16))
    assert metrics.frechet_distance(a, b) == pytest.approx(metrics.frechet_distance(b, a), rel=1e-9)


def test_frechet_distance_equals_the_analytic_value_for_diagonal_gaussians():
    rng = np.random.default_rng(2)
    mean_a, mean_b = np.array([0.0, 1.0, -2.0, 3.0]), np.array([1.0, 1.0, 0.0, 3.5])
    variances_a, variances_b = np.array([1.0, 4.0, 0.25, 9.0]), np.array([4.0, 1.0, 0.25, 16.0])
    a = samples_with_exact_statistics(rng, mean_a, variances_a)
    b = samples_with_exact_statistics(rng, mean_b, variances_b)
    expected = np.sum((mean_a - mean_b) ** 2) + np.sum((np.sqrt(variances_a) - np.sqrt(variances_b)) ** 2)
    assert metrics.frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)


def test_real_vs_real_distance_is_far_below_real_vs_noise(mnist, test_set_report):
    (x_train, _), _ = mnist
    assert test_set_report["frechet_distance"] == pytest.approx(0.0, abs=1e-6)  # the test set against itself
    real_vs_real = metrics.frechet_distance_to_mnist(x_train[:10000])
    noise = np.random.default_rng(3).uniform(-1, 1, size=(10000, 28, 28)).astype(np.float32)
    real_vs_noise = metrics.frechet_distance_to_mnist(noise)
    assert real_vs_real * 50 < real_vs_noise


def test_evaluate_images_returns_plain_json_ready_numbers(test_set_report):
    assert set(test_set_report) == {"mnist_score", "frechet_distance", "class_histogram", "n_images"}
    assert test_set_report["n_images"] == 10000
    assert json.loads(json.dumps(test_set_report)) == test_set_report
    assert all(type(fraction) is float for fraction in test_set_report["class_histogram"])


@pytest.mark.parametrize("shape", [(5, 28, 28, 3), (28, 28), (5, 784), (0, 28, 28), (5, 32, 32)])
def test_wrong_image_shapes_are_a_one_line_value_error(shape):
    with pytest.raises(ValueError) as error:
        metrics.mnist_score(np.zeros(shape, dtype=np.float32))
    assert "\n" not in str(error.value) and str(shape) in str(error.value)


def test_float_images_outside_the_tanh_range_are_a_one_line_value_error(mnist):
    _, (x_test, _) = mnist
    with pytest.raises(ValueError, match=r"\[-1, 1\]") as error:
        metrics.class_histogram(x_test[:10].astype(np.float32))
    assert "\n" not in str(error.value)


def test_frechet_distance_rejects_feature_sets_of_different_widths():
    with pytest.raises(ValueError, match="width"):
        metrics.frechet_distance(np.zeros((10, 4)), np.zeros((10, 5)))


@pytest.fixture
def classifier_copy(monkeypatch, tmp_path):
    """Point gan_lab.metrics at a private copy of the weights and their checksum."""
    weights, checksum = tmp_path / "classifier.weights.h5", tmp_path / "classifier.sha256"
    shutil.copyfile(metrics.CLASSIFIER_WEIGHTS, weights)
    shutil.copyfile(metrics.CLASSIFIER_SHA256, checksum)
    monkeypatch.setattr(metrics, "CLASSIFIER_WEIGHTS", weights)
    monkeypatch.setattr(metrics, "CLASSIFIER_SHA256", checksum)
    return weights, checksum


def assert_one_line_error_naming(error, path, *words):
    message = str(error.value)
    assert "\n" not in message and str(path) in message and "scripts/train_classifier.py" in message
    assert all(word in message for word in words)


def test_missing_weights_are_a_one_line_error_naming_the_path_and_the_fix(classifier_copy):
    weights, _ = classifier_copy
    weights.unlink()
    with pytest.raises(DataError) as error:
        metrics.load_classifier()
    assert_one_line_error_naming(error, weights, "missing", "git checkout")


def test_missing_checksum_file_is_a_one_line_error_naming_the_path(classifier_copy):
    _, checksum = classifier_copy
    checksum.unlink()
    with pytest.raises(DataError) as error:
        metrics.load_classifier()
    assert_one_line_error_naming(error, checksum, "missing")


def test_corrupt_weights_are_rejected_by_checksum_with_a_one_line_error(classifier_copy):
    weights, _ = classifier_copy
    payload = bytearray(weights.read_bytes())
    payload[len(payload) // 2] ^= 0xFF
    weights.write_bytes(bytes(payload))
    with pytest.raises(DataError) as error:
        metrics.mnist_score(np.zeros((2, 28, 28), dtype=np.uint8))
    assert_one_line_error_naming(error, weights, "corrupt")


# ---------------------------------------------------------------- conditional generators


def noise_index(noise, count):
    """A repeatable index in range(count) for each noise vector (what a fake generator 'draws')."""
    return (np.abs(np.asarray(noise)[:, 0]) * 1e6).astype(np.int64) % count


class RealDigitsOfTheAskedClass:
    """A perfect conditional 'generator': a real test digit of the asked class for each noise vector."""

    def __init__(self, x_test, y_test):
        self.pools = [as_tanh_range(x_test[y_test == digit])[..., np.newaxis] for digit in range(10)]
        self.calls = []

    def __call__(self, inputs, training=False):
        noise, labels = inputs
        self.calls.append((np.asarray(noise), np.asarray(labels), training))
        picks = noise_index(noise, 800)
        return np.stack([self.pools[label][pick] for label, pick in zip(np.asarray(labels), picks)])


def labels_ignored(x_test):
    """A 'generator' drawing real test digits from the noise alone, whatever digit is asked for."""
    def generate(inputs, training=False):
        return as_tanh_range(x_test[noise_index(inputs[0], len(x_test))])
    return generate


def test_conditional_accuracy_of_real_digits_with_their_labels_is_the_classifier_accuracy(
        mnist, test_set_probabilities):
    _, (x_test, y_test) = mnist
    accuracy = metrics.conditional_accuracy(x_test, y_test)
    assert accuracy == (test_set_probabilities.argmax(axis=1) == y_test).mean()
    assert accuracy >= 0.99


def test_conditional_accuracy_of_real_digits_with_shuffled_labels_is_chance(mnist):
    _, (x_test, y_test) = mnist
    shuffled = np.random.default_rng(0).permutation(y_test[:3000])
    assert 0.07 < metrics.conditional_accuracy(x_test[:3000], shuffled) < 0.13


@pytest.mark.parametrize("labels, problem", [(np.zeros(4, np.int32), "5 integer class ids"),
                                             (np.zeros(5, np.float32), "integer class ids"),
                                             (np.array([0, 1, 2, 3, 10]), r"0\.\.9")])
def test_conditional_accuracy_rejects_bad_labels_in_one_line(mnist, labels, problem):
    _, (x_test, _) = mnist
    with pytest.raises(ValueError, match=problem) as error:
        metrics.conditional_accuracy(x_test[:5], labels)
    assert "\n" not in str(error.value)


def test_evaluate_conditional_of_a_generator_drawing_the_asked_digits_is_near_perfect(mnist):
    _, (x_test, y_test) = mnist
    report = metrics.evaluate_conditional(RealDigitsOfTheAskedClass(x_test, y_test), latent_dim=8, per_class=200)
    assert report["conditional_accuracy"] >= 0.98
    assert len(report["per_class_accuracy"]) == 10 and min(report["per_class_accuracy"]) >= 0.95
    np.testing.assert_allclose(report["class_histogram"], 0.1, atol=0.01)
    assert report["mnist_score"] > 9.0 and report["n_images"] == 2000
    assert json.loads(json.dumps(report)) == report


def test_evaluate_conditional_of_a_generator_that_ignores_the_labels_is_chance(mnist):
    _, (x_test, _) = mnist
    report = metrics.evaluate_conditional(labels_ignored(x_test), latent_dim=8, per_class=200)
    assert 0.06 < report["conditional_accuracy"] < 0.14
    assert max(report["per_class_accuracy"]) < 0.25
    assert report["mnist_score"] > 9.0  # good digits, just not the ones asked for


def test_evaluate_conditional_asks_each_digit_per_class_times_with_fixed_noise_in_batches(mnist):
    from gan_lab.training import fixed_noise

    _, (x_test, y_test) = mnist
    generator = RealDigitsOfTheAskedClass(x_test, y_test)
    metrics.evaluate_conditional(generator, latent_dim=8, per_class=120, seed=3)
    noise = np.concatenate([call[0] for call in generator.calls])
    labels = np.concatenate([call[1] for call in generator.calls])
    assert max(len(call[1]) for call in generator.calls) <= 500 and len(generator.calls) > 1
    np.testing.assert_array_equal(noise, fixed_noise(1200, 8, seed=3))
    assert labels.tolist() == [digit for digit in range(10) for _ in range(120)]
    assert {call[2] for call in generator.calls} == {False}


def test_evaluate_conditional_gives_the_figures_evaluate_images_gives_for_its_samples(mnist):
    _, (x_test, y_test) = mnist
    generator = RealDigitsOfTheAskedClass(x_test, y_test)
    report = metrics.evaluate_conditional(generator, latent_dim=8, per_class=100)
    images, asked = metrics.conditional_samples(generator, latent_dim=8, per_class=100)
    assert {key: report[key] for key in metrics.evaluate_images(images)} == metrics.evaluate_images(images)
    assert report["conditional_accuracy"] == metrics.conditional_accuracy(images, asked)
