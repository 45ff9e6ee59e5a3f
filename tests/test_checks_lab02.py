"""Tests for the Lab02 checks: correct discriminators and losses pass, mistakes get hints."""

import gan_lab  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)

import json
import re
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from check_helpers import failure, named

from gan_lab.checks import (
    CheckFailed,
    check_build_discriminator,
    check_discriminator_loss,
    check_generator_loss,
)

LAB = Path(__file__).resolve().parent.parent / "solutions" / "lab02_discriminator.ipynb"
layers = keras.layers
ops = keras.ops
BCE = keras.losses.BinaryCrossentropy(from_logits=True)
BCE_ON_PROBABILITIES = keras.losses.BinaryCrossentropy()


def assert_quotes_the_lab(message):
    """Assert that `message` quotes the lab, and that the quote is word for word the lab's text."""
    quotes = re.findall(r'the lab (?:asks for|says) "([^"]+)"', message)
    cells = json.loads(LAB.read_text(encoding="utf-8"))["cells"]
    text = " ".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert quotes and all(quote in " ".join(text.split()) for quote in quotes), (quotes, message)


# ---------------------------------------------------------------- build_discriminator


def _hidden(image_shape):
    return [
        keras.Input(image_shape),
        layers.Flatten(),
        layers.Dense(500), layers.LeakyReLU(negative_slope=0.2),
        layers.Dense(500), layers.LeakyReLU(negative_slope=0.2),
    ]


def _discriminator_with(last_activation):
    @named("build_discriminator")
    def build_discriminator(image_shape=(28, 28, 1)):
        return keras.Sequential(
            [*_hidden(image_shape), layers.Dense(1, activation=last_activation)]
        )

    return build_discriminator


def _discriminator_from(*hidden):
    """A Sequential discriminator: Flatten, the `hidden` layers (made fresh per call), Dense(1)."""

    @named("build_discriminator")
    def build_discriminator(image_shape=(28, 28, 1)):
        return keras.Sequential(
            [keras.Input(image_shape), layers.Flatten(), *[make() for make in hidden],
             layers.Dense(1)]
        )

    return build_discriminator


def _dense(units=500, **kwargs):
    return lambda: layers.Dense(units, **kwargs)


def _layer(kind, *args, **kwargs):
    return lambda: kind(*args, **kwargs)


@named("build_discriminator")
def functional_discriminator(image_shape=(28, 28, 1)):
    images = keras.Input(image_shape)
    hidden = layers.Dense(500, activation="leaky_relu")(layers.Flatten()(images))
    hidden = layers.Dense(500, activation="leaky_relu")(hidden)
    return keras.Model(images, layers.Dense(1)(hidden))


class SubclassedDiscriminator(keras.Model):
    """One hidden layer whose activation (by default keras.ops.leaky_relu, slope 0.2) is an op."""

    def __init__(self, activation=ops.leaky_relu):
        super().__init__()
        self.flatten = layers.Flatten()
        self.hidden = layers.Dense(500)
        self.activation = activation
        self.dropout = layers.Dropout(0.3)
        self.logit = layers.Dense(1)

    def call(self, images, training=False):
        hidden = self.activation(self.hidden(self.flatten(images)))
        return self.logit(self.dropout(hidden, training=training))


@named("build_discriminator")
def subclassed_discriminator(image_shape=(28, 28, 1)):
    return SubclassedDiscriminator()


@named("build_discriminator")
def batchnorm_dropout_leaky_discriminator(image_shape=(28, 28, 1)):
    return keras.Sequential(
        [
            keras.Input(image_shape),
            layers.Flatten(),
            layers.Dense(500), layers.BatchNormalization(), layers.LeakyReLU(0.2),
            layers.Dropout(0.3),
            layers.Dense(500), layers.BatchNormalization(), layers.LeakyReLU(0.2),
            layers.Dropout(0.3),
            layers.Dense(1),
        ]
    )


@named("build_discriminator")
def lazy_discriminator(image_shape=(28, 28, 1)):
    return keras.Sequential(
        [layers.Flatten(), layers.Dense(500), layers.LeakyReLU(negative_slope=0.2), layers.Dense(1)]
    )


CORRECT_DISCRIMINATORS = {
    "sequential_leaky_relu_layers": _discriminator_with(None),
    "activation_string_leaky_relu": _discriminator_from(
        _dense(activation="leaky_relu"), _dense(activation="leaky_relu")
    ),
    "activation_function_leaky_relu": _discriminator_from(
        _dense(activation=keras.activations.leaky_relu),
        _dense(activation=keras.activations.leaky_relu),
    ),
    "relu_layer_with_slope_0_2": _discriminator_from(
        _dense(), _layer(layers.ReLU, negative_slope=0.2),
    ),
    "other_sizes_three_hidden_layers": _discriminator_from(
        _dense(1024, activation="leaky_relu"), _dense(256, activation="leaky_relu"),
        _dense(64, activation="leaky_relu"),
    ),
    "dropout_after_activation": _discriminator_from(
        _dense(), _layer(layers.LeakyReLU, negative_slope=0.2), _layer(layers.Dropout, 0.3),
        _dense(), _layer(layers.LeakyReLU, negative_slope=0.2), _layer(layers.Dropout, 0.5),
    ),
    "layer_norm_before_activation": _discriminator_from(
        _dense(), _layer(layers.LayerNormalization), _layer(layers.LeakyReLU, negative_slope=0.2),
    ),
    "functional_activation_string": functional_discriminator,
    "subclassed_ops_leaky_relu_in_call": subclassed_discriminator,
    "subclassed_tf_nn_leaky_relu_in_call": named("build_discriminator")(
        lambda image_shape=(28, 28, 1): SubclassedDiscriminator(tf.nn.leaky_relu)
    ),
    "bn_dropout_leaky": batchnorm_dropout_leaky_discriminator,
    "lazy_one_hidden_layer": lazy_discriminator,
}


@pytest.mark.parametrize(
    "solution", CORRECT_DISCRIMINATORS.values(), ids=CORRECT_DISCRIMINATORS.keys()
)
def test_correct_discriminator_passes_and_prints_success_line(solution, capsys):
    check_build_discriminator(solution)
    assert capsys.readouterr().out == "build_discriminator: all 11 checks passed\n"


def test_discriminator_without_hidden_layer_is_rejected_with_the_labs_hidden_layers():
    message = failure(check_build_discriminator, _discriminator_from())
    assert message.startswith("build_discriminator's model has no hidden layer")
    assert 'the lab asks for "two hidden Dense layers of 500 units"' in message
    assert message.endswith(
        "add two layers.Dense(500), each followed by layers.LeakyReLU(negative_slope=0.2)."
    )
    assert_quotes_the_lab(message)


def test_subclassed_discriminator_without_hidden_layer_is_rejected():
    class LogitOnly(keras.Model):
        def __init__(self):
            super().__init__()
            self.flatten, self.logit = layers.Flatten(), layers.Dense(1)

        def call(self, images):
            return self.logit(self.flatten(images))

    message = failure(check_build_discriminator, lambda image_shape=(28, 28, 1): LogitOnly())
    assert "has no hidden layer" in message


class _ReluInCall(SubclassedDiscriminator):
    def __init__(self):
        super().__init__(activation=ops.relu)


WRONG_HIDDEN_ACTIVATIONS = {
    "relu_string": (
        _discriminator_from(_dense(activation="relu"), _dense(activation="relu")),
        "has slope 0 for negative inputs, as ReLU does",
    ),
    "relu_layers": (
        _discriminator_from(_dense(), _layer(layers.ReLU), _dense(), _layer(layers.ReLU)),
        "has slope 0 for negative inputs, as ReLU does",
    ),
    "keras3_leaky_relu_default_0_3": (
        _discriminator_from(_dense(), _layer(layers.LeakyReLU), _dense(), _layer(layers.LeakyReLU)),
        "has slope 0.3 for negative inputs, the default of Keras 3's layers.LeakyReLU()",
    ),
    "leaky_relu_slope_0_1": (
        _discriminator_from(_dense(), _layer(layers.LeakyReLU, negative_slope=0.1)),
        "has slope 0.1 for negative inputs",
    ),
    "no_activation": (
        _discriminator_from(_dense(), _dense()), "has no activation after it"
    ),
    "elu": (_discriminator_from(_dense(activation="elu")), "is not LeakyReLU but elu"),
    "tanh": (_discriminator_from(_dense(activation="tanh")), "is not LeakyReLU but tanh"),
    "second_hidden_layer_relu": (
        _discriminator_from(_dense(activation="leaky_relu"), _dense(activation="relu")),
        "as ReLU does",
    ),
    "layer_norm_then_relu": (
        _discriminator_from(_dense(), _layer(layers.LayerNormalization), _layer(layers.ReLU)),
        "is not LeakyReLU but relu",
    ),
    "subclassed_ops_relu_in_call": (
        named("build_discriminator")(lambda image_shape=(28, 28, 1): _ReluInCall()),
        "as ReLU does",
    ),
}


@pytest.mark.parametrize(
    "solution, phrase", WRONG_HIDDEN_ACTIVATIONS.values(), ids=WRONG_HIDDEN_ACTIVATIONS.keys()
)
def test_discriminator_without_leaky_relu_0_2_is_rejected_quoting_the_lab(solution, phrase):
    message = failure(check_build_discriminator, solution)
    assert phrase in message
    assert message.endswith(
        'the lab says "Hidden layers use LeakyReLU (slope 0.2 for negative inputs)"; use '
        "layers.LeakyReLU(negative_slope=0.2) after each hidden Dense layer."
    )
    assert_quotes_the_lab(message)


def test_activation_hint_names_the_hidden_layer():
    solution = _discriminator_from(_dense(name="first"), _layer(layers.LeakyReLU, 0.2),
                                   _dense(name="second"), _layer(layers.ReLU))
    message = failure(check_build_discriminator, solution)
    assert message.startswith(
        "the activation after build_discriminator's hidden layer Dense 'second' has slope 0"
    )


def test_discriminator_check_leaves_the_students_layers_as_they_were():
    model = batchnorm_dropout_leaky_discriminator((32, 32, 3))
    images = np.random.default_rng(0).uniform(-1, 1, (4, 32, 32, 3)).astype("float32")
    before = ops.convert_to_numpy(model(images))
    activations = [getattr(layer, "activation", None) for layer in model.layers]
    with pytest.raises(CheckFailed, match="default image_shape"):
        check_build_discriminator(lambda image_shape=(28, 28, 1): model)
    assert all("call" not in vars(layer) for layer in model.layers)
    assert activations == [getattr(layer, "activation", None) for layer in model.layers]
    np.testing.assert_array_equal(before, ops.convert_to_numpy(model(images)))


def test_discriminator_with_sigmoid_output_is_rejected_with_logits_hint():
    message = failure(check_build_discriminator, _discriminator_with("sigmoid"))
    assert "stay in [0, 1] even for extreme inputs and weights, as after a sigmoid" in message
    assert "return logits, with no activation on the last layer" in message


def test_discriminator_with_tanh_output_is_rejected_with_logits_hint():
    message = failure(check_build_discriminator, _discriminator_with("tanh"))
    assert "stay in [-1, 1] even for extreme inputs and weights, as after a tanh" in message
    assert "no activation on the last layer" in message


def test_discriminator_with_relu_output_is_rejected_with_logits_hint():
    message = failure(check_build_discriminator, _discriminator_with("relu"))
    assert "the outputs are never negative" in message
    assert "use no activation there" in message


def test_discriminator_ignoring_image_shape_is_rejected_with_image_shape_hint():
    @named("build_discriminator")
    def solution(image_shape=(28, 28, 1)):
        return _discriminator_with(None)()

    message = failure(check_build_discriminator, solution)
    assert "make its input shape image_shape" in message
    assert "(ValueError:" in message and "\x1b" not in message


def test_discriminator_with_hard_coded_flat_size_is_rejected_with_argument_hint():
    @named("build_discriminator")
    def solution(image_shape=(28, 28, 1)):
        return keras.Sequential(
            [keras.Input(image_shape), layers.Reshape((784,)), layers.Dense(1)]
        )

    message = failure(check_build_discriminator, solution)
    assert message.startswith("build_discriminator(image_shape=(32, 32, 3)) raised ValueError")
    assert message.endswith("use its image_shape argument instead of fixed sizes.")


def test_discriminator_returning_flat_logits_is_rejected_with_dense_1_hint():
    class Flat(SubclassedDiscriminator):
        def call(self, images, training=False):
            return ops.squeeze(super().call(images, training), axis=-1)

    message = failure(check_build_discriminator, lambda image_shape=(28, 28, 1): Flat())
    assert "gave output shape (64,) for 64 images, expected (64, 1)" in message
    assert "keras.layers.Dense(1)" in message


def test_discriminator_with_two_outputs_is_rejected():
    @named("build_discriminator")
    def solution(image_shape=(28, 28, 1)):
        return keras.Sequential([*_hidden(image_shape), layers.Dense(2)])

    assert "expected (64, 1)" in failure(check_build_discriminator, solution)


def test_discriminator_with_wrong_default_image_shape_is_rejected():
    @named("build_discriminator")
    def solution(image_shape=(64, 64, 3)):
        return _discriminator_with(None)(image_shape)

    assert "default image_shape must be (28, 28, 1)" in failure(check_build_discriminator, solution)


def test_discriminator_check_puts_the_weights_it_scales_back():
    model = functional_discriminator((32, 32, 3))
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(CheckFailed, match="default image_shape"):
        check_build_discriminator(lambda image_shape=(28, 28, 1): model)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_unwritten_discriminator_is_reported_as_not_written_yet():
    @named("build_discriminator")
    def solution(image_shape=(28, 28, 1)):
        raise NotImplementedError()

    message = failure(check_build_discriminator, solution)
    assert message.startswith("build_discriminator is not written yet")


# ---------------------------------------------------------------- losses: helpers


def _ones(x):
    return ops.ones_like(x)


def _zeros(x):
    return ops.zeros_like(x)


def _unstable_log_d(x):
    return ops.log(ops.sigmoid(x))


def _unstable_log_one_minus_d(x):
    return ops.log(1.0 - ops.sigmoid(x))


def _discriminator_loss(fn):
    return named("discriminator_loss")(fn)


def _generator_loss(non_saturating, saturating):
    @named("generator_loss")
    def generator_loss(fake_logits, saturating=False):
        return saturating_fn(fake_logits) if saturating else non_saturating(fake_logits)

    saturating_fn = saturating
    return generator_loss


# ---------------------------------------------------------------- discriminator_loss


CORRECT_DISCRIMINATOR_LOSSES = {
    "bce_object_from_logits": lambda r, f: BCE(_ones(r), r) + BCE(_zeros(f), f),
    "tf_sigmoid_cross_entropy": lambda r, f: (
        tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(r), logits=r))
        + tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.zeros_like(f), logits=f))
    ),
    "softplus": lambda r, f: ops.mean(ops.softplus(-r)) + ops.mean(ops.softplus(f)),
    "log_sigmoid": lambda r, f: -(ops.mean(ops.log_sigmoid(r)) + ops.mean(ops.log_sigmoid(-f))),
    "hand_written_stable_formula": lambda r, f: (
        ops.mean(ops.maximum(r, 0) - r + ops.log1p(ops.exp(-ops.abs(r))))
        + ops.mean(ops.maximum(f, 0) + ops.log1p(ops.exp(-ops.abs(f))))
    ),
    "ops_binary_crossentropy": lambda r, f: (
        ops.mean(ops.binary_crossentropy(_ones(r), r, from_logits=True))
        + ops.mean(ops.binary_crossentropy(_zeros(f), f, from_logits=True))
    ),
}


@pytest.mark.parametrize(
    "solution", CORRECT_DISCRIMINATOR_LOSSES.values(), ids=CORRECT_DISCRIMINATOR_LOSSES.keys()
)
def test_correct_discriminator_loss_passes_and_prints_success_line(solution, capsys):
    check_discriminator_loss(_discriminator_loss(solution))
    assert capsys.readouterr().out == "discriminator_loss: all 9 checks passed\n"


def _numpy_discriminator_loss(r, f):
    r, f = np.asarray(r), np.asarray(f)
    return np.mean(np.logaddexp(0, -r)) + np.mean(np.logaddexp(0, f))


WRONG_DISCRIMINATOR_LOSSES = {
    "flipped_labels": (lambda r, f: BCE(_zeros(r), r) + BCE(_ones(f), f), "the labels are flipped"),
    "sum_instead_of_mean": (
        lambda r, f: ops.sum(ops.softplus(-r)) + ops.sum(ops.softplus(f)),
        "off by the batch size",
    ),
    "concatenated_then_averaged": (
        lambda r, f: BCE(ops.concatenate([_ones(r), _zeros(f)]), ops.concatenate([r, f])),
        "the course's loss is the SUM of two means",
    ),
    "concatenated_mean_doubled": (
        lambda r, f: 2 * BCE(ops.concatenate([_ones(r), _zeros(f)]), ops.concatenate([r, f])),
        "real and fake batches can differ in size",
    ),
    "wrong_sign": (lambda r, f: -(BCE(_ones(r), r) + BCE(_zeros(f), f)), "the sign is wrong"),
    "from_logits_false_on_logits": (
        lambda r, f: BCE_ON_PROBABILITIES(_ones(r), r) + BCE_ON_PROBABILITIES(_zeros(f), f),
        "these are logits, not probabilities: use from_logits=True",
    ),
    "fake_term_missing": (lambda r, f: BCE(_ones(r), r), "the fake term is missing"),
    "unstable_log_of_sigmoid": (
        lambda r, f: -(ops.mean(_unstable_log_d(r)) + ops.mean(_unstable_log_one_minus_d(f))),
        "gives inf for",
    ),
    "log_of_sigmoid_plus_epsilon": (
        lambda r, f: -(ops.mean(ops.log(ops.sigmoid(r) + 1e-7))
                       + ops.mean(ops.log(1 - ops.sigmoid(f) + 1e-7))),
        "log(sigmoid(x)) overflows or gets clipped",
    ),
    "clipped_probabilities_from_tf_sigmoid": (
        lambda r, f: BCE_ON_PROBABILITIES(_ones(r), tf.sigmoid(r))
        + BCE_ON_PROBABILITIES(_zeros(f), tf.sigmoid(f)),
        "from the logits with keras.losses.BinaryCrossentropy(from_logits=True)",
    ),
    "per_example_losses": (
        lambda r, f: keras.losses.binary_crossentropy(_ones(r), r, from_logits=True),
        "must return one number but returned shape (4,)",
    ),
    "numpy_not_differentiable": (_numpy_discriminator_loss, "is not differentiable"),
}


@pytest.mark.parametrize(
    "solution, phrase", WRONG_DISCRIMINATOR_LOSSES.values(), ids=WRONG_DISCRIMINATOR_LOSSES.keys()
)
def test_wrong_discriminator_loss_is_rejected_with_specific_hint(solution, phrase):
    assert phrase in failure(check_discriminator_loss, _discriminator_loss(solution))


def _softplus_with_where(x):
    # Right values, but the branch that is not taken overflows and poisons the gradient with nan.
    return ops.where(x < 0, ops.log1p(ops.exp(x)), x + ops.log1p(ops.exp(-x)))


def test_discriminator_loss_with_nan_gradients_at_extreme_logits_is_rejected():
    solution = _discriminator_loss(
        lambda r, f: ops.mean(_softplus_with_where(-r)) + ops.mean(_softplus_with_where(f))
    )
    message = failure(check_discriminator_loss, solution)
    assert message.startswith(
        "the gradients of discriminator_loss are inf or nan for real logits [100, -100, 3]"
    )
    assert "keras.ops.softplus" in message


def test_discriminator_loss_with_stopped_fake_gradient_is_rejected_as_not_differentiable():
    solution = _discriminator_loss(
        lambda r, f: BCE(_ones(r), r) + BCE(_zeros(f), ops.stop_gradient(f))
    )
    message = failure(check_discriminator_loss, solution)
    assert message.startswith("discriminator_loss is not differentiable with respect to the logits")


def test_discriminator_loss_with_right_value_but_wrong_gradient_is_rejected():
    # softplus(f) = f + softplus(-f): the value is right, but half of it no longer gets a gradient.
    solution = _discriminator_loss(
        lambda r, f: BCE(_ones(r), r) + ops.mean(f) + ops.stop_gradient(ops.mean(ops.softplus(-f)))
    )
    message = failure(check_discriminator_loss, solution)
    assert message.startswith(
        "the gradients of discriminator_loss are wrong for real logits [1.5, -0.5, 2, 0.3]"
    )
    assert "without clipping, rounding or stop_gradient" in message


def test_discriminator_loss_failure_shows_the_logits_and_both_values():
    flipped = WRONG_DISCRIMINATOR_LOSSES["flipped_labels"][0]
    message = failure(check_discriminator_loss, _discriminator_loss(flipped))
    assert message.startswith(
        "discriminator_loss gives 2.45568 for real logits [1.5, -0.5, 2, 0.3] and fake logits "
        "[-1, 0.7, -2.2, 0.1], expected 1.03068: the labels are flipped"
    )


def test_error_inside_discriminator_loss_names_the_exception():
    @named("discriminator_loss")
    def solution(real_logits, fake_logits):
        # Right for equal batch sizes; adding a (6, 1) and a (3, 1) tensor raises inside TensorFlow.
        return ops.mean(ops.softplus(-real_logits) + ops.softplus(fake_logits))

    message = failure(check_discriminator_loss, solution)
    assert message.startswith(
        "discriminator_loss(<tensor of shape (6, 1)>, <tensor of shape (3, 1)>) "
        "raised InvalidArgumentError:"
    )
    assert len(message.splitlines()) == 1


def test_unwritten_discriminator_loss_is_reported_and_renders_only_the_hint():
    @named("discriminator_loss")
    def solution(real_logits, fake_logits):
        raise NotImplementedError()

    with pytest.raises(AssertionError) as info:
        check_discriminator_loss(solution)
    hint = (
        "discriminator_loss is not written yet: "
        "replace `raise NotImplementedError()` with your code."
    )
    assert info.value._render_traceback_() == [f"CheckFailed: {hint}"]


# ---------------------------------------------------------------- generator_loss


def _bce_ns(f):
    return BCE(_ones(f), f)


def _bce_sat(f):
    return -BCE(_zeros(f), f)


CORRECT_GENERATOR_LOSSES = {
    "bce_object_from_logits": _generator_loss(_bce_ns, _bce_sat),
    "softplus": _generator_loss(
        lambda f: ops.mean(ops.softplus(-f)), lambda f: -ops.mean(ops.softplus(f))
    ),
    "log_sigmoid": _generator_loss(
        lambda f: -ops.mean(ops.log_sigmoid(f)), lambda f: ops.mean(ops.log_sigmoid(-f))
    ),
    "tf_sigmoid_cross_entropy": _generator_loss(
        lambda f: tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(f), f)),
        lambda f: -tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.zeros_like(f), f)),
    ),
}


@pytest.mark.parametrize(
    "solution", CORRECT_GENERATOR_LOSSES.values(), ids=CORRECT_GENERATOR_LOSSES.keys()
)
def test_correct_generator_loss_passes_and_prints_success_line(solution, capsys):
    check_generator_loss(solution)
    assert capsys.readouterr().out == "generator_loss: all 10 checks passed\n"


WRONG_GENERATOR_LOSSES = {
    "forms_swapped": (
        _generator_loss(_bce_sat, _bce_ns),
        "by default (saturating=False) return the non-saturating",
    ),
    "wrong_sign_mean_log_d": (
        _generator_loss(lambda f: -_bce_ns(f), _bce_sat),
        "mean(log D(G(z))) is what G maximises",
    ),
    "flipped_labels": (
        _generator_loss(lambda f: BCE(_zeros(f), f), _bce_sat), "the labels are flipped"
    ),
    "sum_instead_of_mean": (
        _generator_loss(lambda f: ops.sum(ops.softplus(-f)), _bce_sat),
        "off by the batch size",
    ),
    "from_logits_false_on_logits": (
        _generator_loss(lambda f: BCE_ON_PROBABILITIES(_ones(f), f), _bce_sat),
        "these are logits, not probabilities",
    ),
    "saturating_argument_ignored": (
        _generator_loss(_bce_ns, _bce_ns),
        "seems to ignore the saturating argument",
    ),
    "saturating_with_wrong_sign": (
        _generator_loss(_bce_ns, lambda f: BCE(_zeros(f), f)),
        "G minimises mean(log(1 - D(G(z)))) = -mean BCE(fake, 0), a negative number",
    ),
    "saturating_summed": (
        _generator_loss(_bce_ns, lambda f: -ops.sum(ops.softplus(f))),
        "off by the batch size",
    ),
    "unstable_non_saturating": (
        _generator_loss(lambda f: -ops.mean(_unstable_log_d(f)), _bce_sat),
        "gives inf for fake logits [-100, 100, -3, 0.5]",
    ),
    "unstable_saturating": (
        _generator_loss(_bce_ns, lambda f: ops.mean(_unstable_log_one_minus_d(f))),
        "gives -inf for fake logits [-100, 100, -3, 0.5] with saturating=True",
    ),
    "numpy_not_differentiable": (
        _generator_loss(lambda f: np.mean(np.logaddexp(0, -np.asarray(f))), _bce_sat),
        "is not differentiable",
    ),
}


@pytest.mark.parametrize(
    "solution, phrase", WRONG_GENERATOR_LOSSES.values(), ids=WRONG_GENERATOR_LOSSES.keys()
)
def test_wrong_generator_loss_is_rejected_with_specific_hint(solution, phrase):
    assert phrase in failure(check_generator_loss, solution)


def test_generator_loss_with_nan_gradients_at_extreme_logits_is_rejected():
    solution = _generator_loss(lambda f: ops.mean(_softplus_with_where(-f)), _bce_sat)
    message = failure(check_generator_loss, solution)
    assert message.startswith(
        "the gradients of generator_loss are inf or nan for fake logits [-100, 100, -3, 0.5]"
    )


def test_generator_loss_with_stopped_gradient_in_saturating_form_is_rejected():
    solution = _generator_loss(_bce_ns, lambda f: ops.stop_gradient(_bce_sat(f)))
    message = failure(check_generator_loss, solution)
    assert message.startswith("generator_loss is not differentiable")


def test_unstable_generator_loss_hint_says_compute_from_logits():
    message = failure(check_generator_loss, WRONG_GENERATOR_LOSSES["unstable_non_saturating"][0])
    assert "compute the loss from the logits" in message
    assert "keras.ops.softplus" in message


def test_generator_loss_without_saturating_argument_names_the_type_error():
    @named("generator_loss")
    def solution(fake_logits):
        return _bce_ns(fake_logits)

    message = failure(check_generator_loss, solution)
    assert message.startswith(
        "generator_loss(<tensor of shape (5, 1)>, saturating=False) raised TypeError"
    )


def test_loss_without_return_statement_is_rejected_with_return_hint():
    @named("generator_loss")
    def solution(fake_logits, saturating=False):
        _bce_ns(fake_logits)

    message = failure(check_generator_loss, solution)
    assert message == "the result of generator_loss is None: did you forget a `return` statement?"
