"""Tests for the Lab01 checks: correct solutions pass, each typical mistake gets a specific hint."""

import gan_lab  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)

import json
import re
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from check_helpers import failure, named

from gan_lab.checks import CheckFailed, check_build_generator, check_sample_noise

NOISE_PASSED = "sample_noise: all 11 checks passed\n"
GENERATOR_PASSED = "build_generator: all 12 checks passed\n"
LAB = Path(__file__).resolve().parent.parent / "solutions" / "lab01_generator.ipynb"
layers = keras.layers


def assert_quotes_the_lab(message):
    """Assert that `message` quotes the lab, and that the quote is word for word the lab's text."""
    quotes = re.findall(r'the lab asks for "([^"]+)"', message)
    cells = json.loads(LAB.read_text(encoding="utf-8"))["cells"]
    text = " ".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert quotes and all(quote in " ".join(text.split()) for quote in quotes), (quotes, message)


# ---------------------------------------------------------------- sample_noise


_SEEDS = keras.random.SeedGenerator(7)
_RNG = np.random.default_rng(3)
_TF_RNG = tf.random.Generator.from_seed(3)

CORRECT_NOISE = {
    "keras_normal": lambda b, d: keras.random.normal((b, d)),
    "keras_normal_seed_generator": lambda b, d: keras.random.normal((b, d), seed=_SEEDS),
    "tf_random_normal": lambda b, d: tf.random.normal([b, d]),
    "tf_random_generator": lambda b, d: _TF_RNG.normal([b, d]),
    "numpy_float32_made_a_tensor": lambda b, d: tf.constant(_RNG.normal(size=(b, d)), tf.float32),
}


@pytest.mark.parametrize("solution", CORRECT_NOISE.values(), ids=CORRECT_NOISE.keys())
def test_correct_noise_passes_and_prints_success_line(solution, capsys):
    check_sample_noise(named("sample_noise")(solution))
    assert capsys.readouterr().out == NOISE_PASSED


def test_success_line_uses_student_function_name_or_course_name_for_lambda(capsys):
    @named("my_noise")
    def solution(b, d):
        return keras.random.normal((b, d))

    check_sample_noise(solution)
    check_sample_noise(lambda b, d: keras.random.normal((b, d)))
    assert capsys.readouterr().out == "my_noise: all 11 checks passed\n" + NOISE_PASSED


WRONG_NOISE = {
    "uniform_0_1": (
        lambda b, d: keras.random.uniform((b, d)), ">= 0, as from keras.random.uniform in [0, 1)"
    ),
    "uniform_minus1_1": (
        lambda b, d: keras.random.uniform((b, d), minval=-1.0, maxval=1.0),
        "uniformly distributed",
    ),
    "uniform_scaled_to_std_1": (
        lambda b, d: np.sqrt(3.0) * keras.random.uniform((b, d), minval=-1.0, maxval=1.0),
        "uniformly distributed",
    ),
    "fixed_seed_every_call": (
        lambda b, d: keras.random.normal((b, d), seed=42),
        "same numbers on two calls",
    ),
    "mean_one_half": (lambda b, d: keras.random.normal((b, d), mean=0.5), "mean 0"),
    "stddev_one_half": (
        lambda b, d: keras.random.normal((b, d), stddev=0.5), "standard deviation 1"
    ),
    "copied_rows": (
        lambda b, d: keras.ops.tile(keras.random.normal((1, d)), (b, 1)),
        "rows of sample_noise's result are copies",
    ),
    "copied_columns": (
        lambda b, d: keras.ops.tile(keras.random.normal((b, 1)), (1, d)),
        "columns of sample_noise's result are copies",
    ),
    "hard_coded_batch_size": (
        lambda b, d: keras.random.normal((64, d)),
        "returned shape (64, 3), expected (7, 3)",
    ),
    "swapped_dimensions": (
        lambda b, d: keras.random.normal((d, b)),
        "returned shape (3, 7), expected (7, 3)",
    ),
    "numpy_float64": (
        lambda b, d: np.random.standard_normal((b, d)), "returned a NumPy array, not a tensor"
    ),
    "numpy_float32": (
        lambda b, d: _RNG.normal(size=(b, d)).astype("float32"),
        "returned a NumPy array, not a tensor",
    ),
    "python_list": (
        lambda b, d: _RNG.normal(size=(b, d)).tolist(), "returned a list, not a tensor"
    ),
    "keras_float64": (
        lambda b, d: keras.random.normal((b, d), dtype="float64"), "returned dtype float64"
    ),
    "numpy_float64_made_a_tensor": (
        lambda b, d: keras.ops.convert_to_tensor(np.random.standard_normal((b, d))),
        "returned dtype float64",
    ),
    "integer_tensor": (lambda b, d: keras.random.randint((b, d), -3, 4), "returned dtype int32"),
}


@pytest.mark.parametrize(
    "solution, phrase", WRONG_NOISE.values(), ids=WRONG_NOISE.keys()
)
def test_wrong_noise_is_rejected_with_specific_hint(solution, phrase):
    message = failure(check_sample_noise, named("sample_noise")(solution))
    assert phrase in message
    assert len(message.splitlines()) <= 2


def test_uniform_noise_hint_says_use_keras_random_normal():
    message = failure(check_sample_noise, lambda b, d: keras.random.uniform((b, d), -1.0, 1.0))
    assert "use keras.random.normal" in message
    assert "instead of keras.random.uniform" in message


def test_numpy_noise_hint_quotes_the_lab_and_names_keras_random_normal():
    message = failure(check_sample_noise, lambda b, d: np.random.standard_normal((b, d)))
    assert_quotes_the_lab(message)
    assert 'the lab asks for "a float32 tensor of shape `(batch_size, latent_dim)`"' in message
    assert message.endswith("use keras.random.normal((batch_size, latent_dim), seed=noise_seed).")


def test_float64_noise_hint_quotes_the_lab_and_says_keras_random_normal_is_float32():
    message = failure(check_sample_noise, lambda b, d: keras.random.normal((b, d), dtype="float64"))
    assert_quotes_the_lab(message)
    assert message.endswith("use keras.random.normal, which returns float32.")


def test_fixed_seed_hint_suggests_a_seed_generator():
    message = failure(check_sample_noise, lambda b, d: keras.random.normal((b, d), seed=42))
    assert "keras.random.SeedGenerator" in message


def test_unwritten_noise_is_reported_as_not_written_yet():
    @named("sample_noise")
    def solution(batch_size, latent_dim):
        raise NotImplementedError()

    message = failure(check_sample_noise, solution)
    assert message.startswith("sample_noise is not written yet")


def test_error_inside_student_noise_names_the_exception():
    @named("sample_noise")
    def solution(batch_size, latent_dim):
        raise ValueError("latent_dim is weird")

    message = failure(check_sample_noise, solution)
    assert message == "sample_noise(7, 3) raised ValueError: latent_dim is weird"


def test_check_failed_is_an_assertion_error_that_renders_only_the_hint():
    with pytest.raises(AssertionError) as info:
        check_sample_noise(lambda b, d: keras.random.uniform((b, d)))
    error = info.value
    assert isinstance(error, CheckFailed)
    assert error._render_traceback_() == [f"CheckFailed: {error}"]
    assert "use keras.random.normal" in str(error) and "Traceback" not in str(error)


def test_laplace_noise_is_rejected_as_not_bell_shaped():
    message = failure(
        check_sample_noise,
        lambda b, d: tf.constant(np.random.laplace(0, 2**-0.5, (b, d)), tf.float32),
    )
    assert message == (
        "the values from sample_noise are not bell-shaped (Gaussian): use keras.random.normal."
    )


# ---------------------------------------------------------------- build_generator


def _mlp_head(latent_dim):
    return [
        keras.Input((latent_dim,)),
        layers.Dense(500, activation="relu"),
        layers.Dense(500, activation="relu"),
    ]


@named("build_generator")
def sequential_generator(latent_dim=100):
    return keras.Sequential(
        [*_mlp_head(latent_dim), layers.Dense(784, activation="tanh"), layers.Reshape((28, 28, 1))]
    )


@named("build_generator")
def lazy_sequential_generator(latent_dim=100):
    return keras.Sequential(
        [layers.Dense(500, activation="relu"), layers.Dense(784, activation="tanh"),
         layers.Reshape((28, 28, 1))]
    )


@named("build_generator")
def functional_generator(latent_dim=100):
    noise = keras.Input((latent_dim,))
    hidden = layers.Dense(500, activation="relu")(noise)
    hidden = layers.Dense(500, activation="relu")(hidden)
    pixels = layers.Dense(784)(hidden)
    images = layers.Reshape((28, 28, 1))(layers.Activation("tanh")(pixels))
    return keras.Model(noise, images)


class SubclassedGenerator(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = [layers.Dense(500, activation="relu"), layers.Dense(500, activation="relu")]
        self.out = layers.Dense(784, activation="tanh")

    def call(self, z):
        for layer in self.hidden:
            z = layer(z)
        return keras.ops.reshape(self.out(z), (-1, 28, 28, 1))


@named("build_generator")
def subclassed_generator(latent_dim=100):
    return SubclassedGenerator()


@named("build_generator")
def batchnorm_dropout_leaky_generator(latent_dim=100):
    return keras.Sequential(
        [
            keras.Input((latent_dim,)),
            layers.Dense(500), layers.BatchNormalization(), layers.LeakyReLU(0.2),
            layers.Dropout(0.3),
            layers.Dense(500), layers.BatchNormalization(), layers.LeakyReLU(0.2),
            layers.Dense(784, activation="tanh"),
            layers.Reshape((28, 28, 1)),
        ]
    )


class ReluInCallGenerator(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = [layers.Dense(500), layers.Dense(500)]
        self.out = layers.Dense(784, activation="tanh")

    def call(self, z):
        for layer in self.hidden:
            z = keras.ops.relu(layer(z))
        return keras.ops.reshape(self.out(z), (-1, 28, 28, 1))


@named("build_generator")
def relu_in_call_generator(latent_dim=100):
    return ReluInCallGenerator()


@named("build_generator")
def tanh_hidden_generator(latent_dim=100):
    return keras.Sequential(
        [keras.Input((latent_dim,)), layers.Dense(256, activation="tanh"),
         layers.Dense(784, activation="tanh"), layers.Reshape((28, 28, 1))]
    )


CORRECT_GENERATORS = {
    "sequential": sequential_generator,
    "one_hidden_layer_lazy": lazy_sequential_generator,
    "functional": functional_generator,
    "subclassed": subclassed_generator,
    "subclassed_relu_in_call": relu_in_call_generator,
    "bn_dropout_leaky": batchnorm_dropout_leaky_generator,
    "tanh_hidden_other_size": tanh_hidden_generator,
}


@pytest.mark.parametrize("solution", CORRECT_GENERATORS.values(), ids=CORRECT_GENERATORS.keys())
def test_correct_generator_passes_and_prints_success_line(solution, capsys):
    check_build_generator(solution)
    assert capsys.readouterr().out == GENERATOR_PASSED


def _generator_with(last_activation, reshape=(28, 28, 1)):
    @named("build_generator")
    def build_generator(latent_dim=100):
        tail = [layers.Reshape(reshape)] if reshape else []
        return keras.Sequential(
            [*_mlp_head(latent_dim), layers.Dense(784, activation=last_activation), *tail]
        )

    return build_generator


def test_generator_with_linear_output_is_rejected_with_tanh_hint():
    message = failure(check_build_generator, _generator_with(None))
    assert "must lie in [-1, 1]" in message
    assert "use tanh on the last layer since real images are scaled to [-1, 1]" in message


def test_generator_with_sigmoid_output_is_rejected_with_tanh_hint():
    message = failure(check_build_generator, _generator_with("sigmoid"))
    assert "never go below 0.00" in message
    assert "use tanh on the last layer (not sigmoid or relu)" in message


def _generator_from(*hidden):
    @named("build_generator")
    def build_generator(latent_dim=100):
        return keras.Sequential(
            [keras.Input((latent_dim,)), *hidden, layers.Dense(784, activation="tanh"),
             layers.Reshape((28, 28, 1))]
        )

    return build_generator


def test_generator_without_hidden_layer_is_rejected_with_the_labs_mlp():
    message = failure(check_build_generator, _generator_from())
    assert message.startswith("build_generator's model has no hidden layer")
    assert 'the lab asks for "an MLP 100 -> 500 -> 500 -> 784"' in message
    assert 'add two layers.Dense(500, activation="relu") before the output layer.' in message
    assert_quotes_the_lab(message)


def test_functional_generator_without_hidden_layer_is_rejected():
    @named("build_generator")
    def solution(latent_dim=100):
        noise = keras.Input((latent_dim,))
        return keras.Model(noise, layers.Reshape((28, 28, 1))(layers.Dense(784, "tanh")(noise)))

    assert "has no hidden layer" in failure(check_build_generator, solution)


@pytest.mark.filterwarnings("ignore:`build\\(\\)` was called:UserWarning")
def test_subclassed_generator_that_skips_its_hidden_layer_is_rejected():
    class Skipping(SubclassedGenerator):
        def call(self, z):
            return keras.ops.reshape(self.out(z), (-1, 28, 28, 1))

    message = failure(check_build_generator, named("build_generator")(lambda latent_dim=100: Skipping()))
    assert "has no hidden layer" in message


def test_generator_with_hidden_layers_but_no_activation_is_rejected_with_relu_hint():
    message = failure(check_build_generator, _generator_from(layers.Dense(500), layers.Dense(500)))
    assert "hidden layer Dense" in message and "has no activation" in message
    assert 'use layers.Dense(500, activation="relu").' in message
    assert_quotes_the_lab(message)


def test_generator_with_one_linear_hidden_layer_among_relus_is_rejected():
    solution = _generator_from(layers.Dense(500, activation="relu"), layers.Dense(500))
    assert "has no activation" in failure(check_build_generator, solution)


def test_generator_without_reshape_is_rejected_with_reshape_hint():
    message = failure(check_build_generator, _generator_with("tanh", reshape=None))
    assert "(16, 784)" in message
    assert "keras.layers.Reshape((28, 28, 1))" in message


def test_generator_without_channel_axis_is_rejected_with_expected_shape():
    message = failure(check_build_generator, _generator_with("tanh", reshape=(28, 28)))
    assert "shape (16, 28, 28) for noise of shape (16, 12), expected (16, 28, 28, 1)" in message


def test_generator_ignoring_latent_dim_is_rejected_with_latent_dim_hint():
    @named("build_generator")
    def solution(latent_dim=100):
        return sequential_generator(100)

    message = failure(check_build_generator, solution)
    assert "make its input size latent_dim" in message
    assert "(ValueError:" in message
    # Keras' own multi-line error is cut down to its gist.
    assert len(message.splitlines()) == 2 and "\x1b" not in message
    assert "Arguments received" not in message


def test_generator_with_wrong_default_latent_dim_is_rejected():
    @named("build_generator")
    def solution(latent_dim=64):
        return sequential_generator(latent_dim)

    assert "default latent_dim must be 100" in failure(check_build_generator, solution)


@pytest.mark.filterwarnings("ignore:`build\\(\\)` was called:UserWarning")
def test_generator_with_hard_coded_batch_size_is_rejected():
    class FixedBatch(SubclassedGenerator):
        def call(self, z):
            return keras.ops.reshape(self.out(z), (16, 28, 28, 1))

    solution = named("build_generator")(lambda latent_dim=100: FixedBatch())
    message = failure(check_build_generator, solution)
    assert "do not hard-code the batch size" in message


def test_generator_ignoring_its_noise_is_rejected():
    class Constant(keras.Model):
        def __init__(self):
            super().__init__()
            init = keras.initializers.RandomNormal(stddev=2.0, seed=1)
            self.out = layers.Dense(784, activation="tanh", bias_initializer=init)

        def call(self, z):
            return keras.ops.reshape(self.out(keras.ops.zeros_like(z)), (-1, 28, 28, 1))

    message = failure(check_build_generator, lambda latent_dim=100: Constant())
    assert "same output for every noise vector" in message


def test_builder_returning_a_function_is_rejected_with_model_hint():
    solution = named("build_generator")(lambda latent_dim=100: tf.tanh)
    message = failure(check_build_generator, solution)
    assert message.startswith("build_generator(latent_dim=12) must return a Keras model")


def test_unwritten_generator_is_reported_as_not_written_yet():
    @named("build_generator")
    def solution(latent_dim=100):
        raise NotImplementedError()

    assert failure(check_build_generator, solution).startswith("build_generator is not written yet")


def test_error_in_generator_builder_names_exception_and_argument():
    @named("build_generator")
    def solution(latent_dim=100):
        raise ValueError("bad size")

    message = failure(check_build_generator, solution)
    assert message.splitlines() == [
        "build_generator(latent_dim=12) raised ValueError: bad size",
        "Make build_generator use its latent_dim argument instead of fixed sizes.",
    ]


def test_noise_without_return_statement_is_rejected_with_return_hint():
    @named("sample_noise")
    def solution(batch_size, latent_dim):
        keras.random.normal((batch_size, latent_dim))

    message = failure(check_sample_noise, solution)
    assert message == (
        "the result of sample_noise(7, 3) is None: did you forget a `return` statement?"
    )
