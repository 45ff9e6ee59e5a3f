"""Checks for Lab01: the noise sampler and the generator."""

import math

import numpy as np

from ._harness import Checklist, call_student, student_name, to_numpy
from ._hidden_layers import hidden_layers
from ._models import (
    build,
    built_generator,
    require_batch_follows_input,
    require_depends_on_input,
    require_finite_floats,
    require_tanh_range,
    require_trainable,
    run,
    run_with_scaled_weights,
)

_GAUSS_CDF_AT = np.linspace(-2.5, 2.5, 21)
_IMAGE = (28, 28, 1)
_NOISE_ASKED = 'the lab asks for "a float32 tensor of shape `(batch_size, latent_dim)`"'
_MLP_ASKED = 'the lab asks for "an MLP 100 -> 500 -> 500 -> 784"'


def _draw(name, sample_noise, batch_size, latent_dim):
    """Call sample_noise; return what it returned and the same values as a NumPy array."""
    value = call_student(name, sample_noise, batch_size, latent_dim)
    return value, to_numpy(value, f"the result of {name}({batch_size}, {latent_dim})")


def _require_float32_tensor(checks, name, value, array):
    """Require a float32 tensor, as the exercise asks, rather than a NumPy array or float64."""
    import keras

    kind = "a NumPy array" if isinstance(value, np.ndarray) else f"a {type(value).__name__}"
    checks.require(
        keras.ops.is_tensor(value),
        f"{name} returned {kind}, not a tensor: {_NOISE_ASKED}; use "
        "keras.random.normal((batch_size, latent_dim), seed=noise_seed).",
    )
    checks.require(
        array.dtype == np.float32,
        f"{name} returned dtype {array.dtype}: {_NOISE_ASKED}; use keras.random.normal, "
        "which returns float32.",
    )


def _has_copied_rows(x):
    """Whether two different rows of `x` are equal (never so for independent Gaussian rows)."""
    return len(np.unique(x, axis=0)) < len(x)


def _gaussian_misfit(values):
    """Largest gap between the empirical CDF of the standardised values and the normal CDF."""
    z = np.sort((values - values.mean()) / values.std())
    empirical = np.searchsorted(z, _GAUSS_CDF_AT) / z.size
    normal = np.array([0.5 * (1.0 + math.erf(t / math.sqrt(2.0))) for t in _GAUSS_CDF_AT])
    return float(np.max(np.abs(empirical - normal)))


def check_sample_noise(sample_noise):
    """Check that sample_noise(batch_size, latent_dim) returns fresh standard Gaussian noise."""
    name = student_name(sample_noise, "sample_noise")
    checks = Checklist(name)
    value, small = _draw(name, sample_noise, 7, 3)
    wrong = small.shape != (7, 3)
    big = small if wrong else _draw(name, sample_noise, 256, 256)[1]
    asked, got = ((7, 3), small.shape) if wrong else ((256, 256), big.shape)
    checks.require(
        not wrong and big.shape == (256, 256),
        f"{name}{asked} returned shape {got}, expected {asked}: return an array of shape "
        "(batch_size, latent_dim) built from the arguments, not from fixed numbers.",
    )
    _require_float32_tensor(checks, name, value, big)
    checks.require(np.all(np.isfinite(big)), f"{name} returned inf or nan values.")
    checks.require(
        not _has_copied_rows(big),
        f"some rows of {name}'s result are copies of each other: draw the whole (batch_size, "
        "latent_dim) array at once so that every sample gets its own noise.",
    )
    checks.require(
        not _has_copied_rows(big.T),
        f"some columns of {name}'s result are copies of each other: draw the whole (batch_size, "
        "latent_dim) array at once so that every latent dimension is independent.",
    )
    checks.require(
        not np.array_equal(small, _draw(name, sample_noise, 7, 3)[1]),
        f"{name} returned the same numbers on two calls: a fixed seed (e.g. seed=42) restarts the "
        "random numbers on every call; drop it, or pass a keras.random.SeedGenerator made once.",
    )
    checks.require(
        big.min() < 0,
        f"all values from {name} are >= 0, as from keras.random.uniform in [0, 1): standard "
        "Gaussian noise has mean 0 and std 1, use keras.random.normal.",
    )
    values = big.astype(np.float64).ravel()
    kurtosis = float(np.mean(((values - values.mean()) / values.std()) ** 4))
    uniform = kurtosis < 2.4  # a uniform distribution has kurtosis 1.8, a Gaussian 3
    checks.require(
        _gaussian_misfit(values) < 0.02,
        f"the values from {name} are not bell-shaped (Gaussian)"
        + (": they look uniformly distributed, with no tails; use keras.random.normal instead of "
           "keras.random.uniform." if uniform else ": use keras.random.normal."),
    )
    checks.require(
        abs(values.mean()) < 0.03,
        f"the noise should have mean 0 but has mean {values.mean():.3f}: draw standard Gaussian "
        "noise, keras.random.normal(shape) with its default mean=0.",
    )
    checks.require(
        abs(values.std() - 1.0) < 0.03,
        f"the noise should have standard deviation 1 but has {values.std():.3f}: draw standard "
        "Gaussian noise, keras.random.normal(shape) with its default stddev=1.",
    )
    checks.passed()


def _require_hidden_layers(checks, name, model, noise):
    """Require a hidden layer, and an activation after each one (else the MLP is one linear map)."""
    # Larger noise bends any curved activation visibly, while a linear map stays straight.
    count, hidden = hidden_layers(model, noise * 4.0)
    checks.require(
        count >= 2,
        f"{name}'s model has no hidden layer: it maps the noise straight to the 784 outputs, but "
        f'{_MLP_ASKED}; add two layers.Dense(500, activation="relu") before the output layer.',
    )
    linear = [layer for layer in hidden if layer.leak is not None and abs(layer.leak - 1.0) < 0.01]
    checks.require(
        not linear,
        f"{name}'s hidden layer {linear[0].describe() if linear else ''} has no activation, so "
        f"the model is one linear map and a tanh: {_MLP_ASKED}, with ReLU after each hidden "
        'layer; use layers.Dense(500, activation="relu").',
    )


def check_build_generator(build_generator):
    """Check that build_generator(latent_dim) maps noise to a batch of 28x28x1 images in [-1, 1]."""
    name = student_name(build_generator, "build_generator")
    checks = Checklist(name)
    model, what, noise, images = built_generator(
        checks, name, build_generator,
        "make its input size latent_dim (e.g. keras.Input(shape=(latent_dim,))), not a fixed number.",
    )
    if images.shape[1:] == (784,):
        fix = "reshape the 784 outputs into images with keras.layers.Reshape((28, 28, 1))."
    else:
        fix = "end with 784 units, then keras.layers.Reshape((28, 28, 1))."
    checks.require(
        images.shape == (16, *_IMAGE),
        f"{what} gave output shape {images.shape} for noise of shape (16, 12), "
        f"expected (16, 28, 28, 1): {fix}",
    )
    require_batch_follows_input(checks, model, noise, _IMAGE, what)
    require_finite_floats(checks, images, what)
    # Larger noise or weights drive any unbounded output far outside [-1, 1]; tanh saturates at +-1.
    outputs = np.concatenate([
        images.ravel(),
        run(model, noise * 1000.0, what, "it must accept any noise values.").ravel(),
        run_with_scaled_weights(model, noise, 10.0, what).ravel(),
    ])
    require_tanh_range(checks, outputs)
    require_depends_on_input(checks, images, what, "noise vector")
    require_trainable(checks, model, what)
    _require_hidden_layers(checks, name, model, noise)
    default = build(checks, name, build_generator)
    default_noise = np.random.default_rng(1).standard_normal((2, 100)).astype("float32")
    shape = run(default, default_noise, f"the model from {name}()",
                "the default latent_dim must be 100: def build_generator(latent_dim=100).").shape
    checks.require(
        shape == (2, *_IMAGE),
        f"the model from {name}() gave shape {shape} for noise of shape (2, 100), expected "
        "(2, 28, 28, 1): the default latent_dim must be 100.",
    )
    checks.passed()
