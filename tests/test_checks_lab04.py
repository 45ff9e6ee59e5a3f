"""Tests for the Lab04 checks: DCGANs that follow the rules pass, each broken rule gets its hint."""

import gan_lab  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)

import keras
import pytest
from check_helpers import failure, named

from gan_lab.checks import check_build_dcgan_discriminator, check_build_dcgan_generator
from gan_lab.checks.lab04 import (
    BATCH_NORM,
    DISCRIMINATOR_ACTIVATIONS,
    GENERATOR_ACTIVATIONS,
    NO_HIDDEN_DENSE,
    STRIDED,
)

layers = keras.layers


def _doublings(height):
    steps = 0
    while height % 2 == 0 and height > 7:
        height, steps = height // 2, steps + 1
    return height, steps


def generator_maker(kernel=4, filters=32, hidden=lambda: layers.ReLU(), output="tanh",
                    output_norm=False, hidden_norm=True, extra=(), projection_first=False):
    """A DCGAN generator builder; each argument breaks or varies one part of it."""

    @named("build_dcgan_generator")
    def build_dcgan_generator(latent_dim=100, image_shape=(28, 28, 1)):
        size, steps = _doublings(image_shape[0])
        width = filters * 2 ** (steps - 1)
        model = keras.Sequential([keras.Input(shape=(latent_dim,))])
        if projection_first:
            model.add(layers.Dense(64))
            model.add(layers.ReLU())
        model.add(layers.Dense(size * size * width, use_bias=False))
        if hidden_norm:
            model.add(layers.BatchNormalization())
        model.add(hidden())
        model.add(layers.Reshape((size, size, width)))
        for step in range(1, steps):
            model.add(layers.Conv2DTranspose(width // 2**step, kernel, strides=2, padding="same"))
            if hidden_norm:
                model.add(layers.BatchNormalization())
            model.add(hidden())
        for layer in extra:
            model.add(layer)
        model.add(layers.Conv2DTranspose(image_shape[-1], kernel, strides=2, padding="same", activation=output))
        if output_norm:
            model.add(layers.BatchNormalization())
        return model

    return build_dcgan_generator


def discriminator_maker(kernel=4, filters=16, activation=lambda: layers.LeakyReLU(0.2), dropout=0.0,
                        input_norm=False, hidden_norm=True, pooling=False, hidden_dense=False, output=None):
    """A DCGAN discriminator builder; each argument breaks or varies one part of it."""

    @named("build_dcgan_discriminator")
    def build_dcgan_discriminator(image_shape=(28, 28, 1)):
        _, steps = _doublings(image_shape[0])
        model = keras.Sequential([keras.Input(shape=image_shape)])
        for step in range(steps):
            strides = 1 if pooling else 2
            model.add(layers.Conv2D(filters * 2**step, kernel, strides=strides, padding="same"))
            if (step > 0 and hidden_norm) or (step == 0 and input_norm):
                model.add(layers.BatchNormalization())
            model.add(activation())
            if pooling:
                model.add(layers.MaxPooling2D())
            if dropout:
                model.add(layers.Dropout(dropout))
        model.add(layers.Flatten())
        if hidden_dense:
            model.add(layers.Dense(64))
            model.add(layers.LeakyReLU(0.2))
        model.add(layers.Dense(1, activation=output))
        return model

    return build_dcgan_discriminator


# ---------------------------------------------------------------- generator


@pytest.mark.parametrize("builder", [
    generator_maker(),
    generator_maker(kernel=5, filters=16),
    generator_maker(filters=64, hidden=lambda: layers.Activation("relu")),
    generator_maker(extra=[layers.Dropout(0.2)]),
], ids=["kernel4", "kernel5-narrow", "relu-activation-layer", "dropout"])
def test_generator_check_passes_correct_dcgan_generators(builder, capsys):
    check_build_dcgan_generator(builder)
    assert capsys.readouterr().out.startswith("build_dcgan_generator: all ")


@named("build_dcgan_generator")
def functional_generator_relu_before_batch_norm(latent_dim=100, image_shape=(28, 28, 1)):
    size = image_shape[0] // 4 if image_shape[0] == 28 else 4
    noise = keras.Input(shape=(latent_dim,))
    x = layers.Reshape((size, size, 64))(layers.Dense(size * size * 64, activation="relu")(noise))
    x = layers.BatchNormalization()(x)
    while x.shape[1] * 2 < image_shape[0]:
        x = layers.Conv2DTranspose(32, 5, strides=2, padding="same", activation="relu")(x)
        x = layers.BatchNormalization()(x)
    images = layers.Conv2DTranspose(image_shape[-1], 5, strides=2, padding="same", activation="tanh")(x)
    return keras.Model(noise, images)


def test_generator_check_passes_a_functional_model_with_activation_arguments(capsys):
    check_build_dcgan_generator(functional_generator_relu_before_batch_norm)
    assert "all" in capsys.readouterr().out


@pytest.mark.parametrize("builder, rule, detail", [
    (generator_maker(extra=[layers.UpSampling2D()]), STRIDED, "UpSampling2D"),
    (generator_maker(projection_first=True), NO_HIDDEN_DENSE, "hidden Dense"),
    (generator_maker(output="sigmoid"), GENERATOR_ACTIVATIONS, "sigmoid only reaches [0, 1]"),
    (generator_maker(output=None), GENERATOR_ACTIVATIONS, "ends with no activation"),
    (generator_maker(hidden=lambda: layers.LeakyReLU(0.2)), GENERATOR_ACTIVATIONS, "LeakyReLU belongs"),
    (generator_maker(output_norm=True), BATCH_NORM, "output layer"),
    (generator_maker(hidden_norm=False), BATCH_NORM, "has no batch norm"),
], ids=["upsampling", "hidden-dense", "sigmoid-output", "linear-output", "leaky-relu", "bn-on-output",
        "no-batch-norm"])
def test_generator_check_names_the_broken_rule(builder, rule, detail):
    message = failure(check_build_dcgan_generator, builder)
    assert message.startswith(rule) and detail in message


def test_generator_check_rejects_max_pooling_with_the_strided_rule():
    builder = generator_maker(extra=[layers.Conv2DTranspose(8, 4, strides=2, padding="same"),
                                     layers.BatchNormalization(), layers.ReLU(), layers.MaxPooling2D()])
    message = failure(check_build_dcgan_generator, builder)
    assert message.startswith(STRIDED) and "MaxPooling2D" in message


@named("build_dcgan_generator")
def generator_of_wrong_size(latent_dim=100, image_shape=(28, 28, 1)):
    return generator_maker()(latent_dim, (32, 32, 1))


@named("build_dcgan_generator")
def generator_ignoring_image_shape(latent_dim=100, image_shape=(28, 28, 1)):
    return generator_maker()(latent_dim)


@named("build_dcgan_generator")
def generator_not_written(latent_dim=100, image_shape=(28, 28, 1)):
    raise NotImplementedError()


def test_generator_check_reports_a_wrong_output_shape_with_the_layer_plan():
    message = failure(check_build_dcgan_generator, generator_of_wrong_size)
    assert "expected (16, 28, 28, 1)" in message and "7x7 grid" in message and "2 Conv2DTranspose" in message


def test_generator_check_requires_the_image_shape_argument_for_the_64x64_slide():
    message = failure(check_build_dcgan_generator, generator_ignoring_image_shape)
    assert "expected (2, 64, 64, 3)" in message and "4x4 grid" in message and "4 Conv2DTranspose" in message


def test_generator_check_says_when_the_exercise_is_not_written_yet():
    assert "not written yet" in failure(check_build_dcgan_generator, generator_not_written)


# ---------------------------------------------------------------- discriminator


@pytest.mark.parametrize("builder", [
    discriminator_maker(),
    discriminator_maker(kernel=5, filters=8),
    discriminator_maker(dropout=0.3),
    discriminator_maker(activation=lambda: layers.Activation("leaky_relu")),
    discriminator_maker(activation=lambda: layers.ReLU(negative_slope=0.2)),
], ids=["kernel4", "kernel5-narrow", "dropout", "leaky-relu-activation-default-0.2", "relu-with-slope-0.2"])
def test_discriminator_check_passes_correct_dcgan_discriminators(builder, capsys):
    check_build_dcgan_discriminator(builder)
    assert capsys.readouterr().out.startswith("build_dcgan_discriminator: all ")


@pytest.mark.parametrize("builder, rule, detail", [
    (discriminator_maker(pooling=True), STRIDED, "MaxPooling2D"),
    (discriminator_maker(hidden_dense=True), NO_HIDDEN_DENSE, "hidden Dense"),
    (discriminator_maker(activation=lambda: layers.ReLU()), DISCRIMINATOR_ACTIVATIONS, "ReLU belongs"),
    (discriminator_maker(input_norm=True), BATCH_NORM, "input layer"),
    (discriminator_maker(hidden_norm=False), BATCH_NORM, "has no batch norm"),
    (discriminator_maker(output="sigmoid"), "the discriminator's last layer", "return the logit"),
    (discriminator_maker(activation=lambda: layers.LeakyReLU()), DISCRIMINATOR_ACTIVATIONS,
     "slope 0.3 (the default of Keras 3's layers.LeakyReLU())"),
    (discriminator_maker(activation=lambda: layers.LeakyReLU(negative_slope=0.1)), DISCRIMINATOR_ACTIVATIONS,
     "LeakyReLU with slope 0.1;"),
], ids=["max-pooling", "hidden-dense", "relu", "bn-on-input", "no-batch-norm", "sigmoid-output",
        "leaky-relu-default-slope-0.3", "leaky-relu-slope-0.1"])
def test_discriminator_check_names_the_broken_rule(builder, rule, detail):
    message = failure(check_build_dcgan_discriminator, builder)
    assert message.startswith(rule) and detail in message


@named("build_dcgan_discriminator")
def discriminator_with_two_outputs(image_shape=(28, 28, 1)):
    model = discriminator_maker()(image_shape)
    return keras.Sequential([model, layers.Reshape((1, 1)), layers.Flatten(), layers.RepeatVector(2),
                             layers.Flatten()])


@named("build_dcgan_discriminator")
def discriminator_for_mnist_only(image_shape=(28, 28, 1)):
    return discriminator_maker()()


def test_discriminator_check_reports_a_wrong_output_shape():
    message = failure(check_build_dcgan_discriminator, discriminator_with_two_outputs)
    assert "expected (16, 1)" in message and "Dense(1)" in message


def test_discriminator_check_requires_the_image_shape_argument():
    message = failure(check_build_dcgan_discriminator, discriminator_for_mnist_only)
    assert "image_shape" in message


class SubclassedDiscriminator(keras.Model):
    """A discriminator written as a subclass: its layers are read in the order they are assigned."""

    def __init__(self, image_shape):
        super().__init__()
        self.first = layers.Conv2D(16, 5, strides=2, padding="same")
        self.first_activation = layers.LeakyReLU(0.2)
        self.second = layers.Conv2D(32, 5, strides=2, padding="same")
        self.second_norm = layers.BatchNormalization()
        self.second_activation = layers.LeakyReLU(0.2)
        self.flatten = layers.Flatten()
        self.logit = layers.Dense(1)

    def call(self, images, training=False):
        x = self.first_activation(self.first(images))
        x = self.second_activation(self.second_norm(self.second(x), training=training))
        return self.logit(self.flatten(x))


@named("build_dcgan_discriminator")
def subclassed_discriminator(image_shape=(28, 28, 1)):
    return SubclassedDiscriminator(image_shape)


def test_discriminator_check_reads_a_subclassed_model_in_assignment_order(capsys):
    check_build_dcgan_discriminator(subclassed_discriminator)
    assert "all" in capsys.readouterr().out
