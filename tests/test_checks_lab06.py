"""Tests for the Lab06 checks: correct conditional models and train_steps pass, each mistake gets its hint."""

import gan_lab  # noqa: F401  (sets KERAS_BACKEND before Keras is imported)

import keras
import nbformat
import pytest
import tensorflow as tf
from check_helpers import (
    GANBase, assert_leaves_global_state, discriminator_loss, failure, generator_loss, named,
)
from test_init import ROOT, run_cells

from gan_lab.checks import (
    check_build_conditional_discriminator,
    check_build_conditional_generator,
    check_conditional_train_step,
)

layers = keras.layers
ops = keras.ops
BCE = keras.losses.BinaryCrossentropy(from_logits=True)


# ---------------------------------------------------------------- build_conditional_generator


@named("build_conditional_generator")
def reference_generator(latent_dim=100, num_classes=10):
    """The solution's builder."""
    noise = keras.Input((latent_dim,))
    labels = keras.Input((), dtype="int32")
    embedded = layers.Embedding(num_classes, 50)(labels)
    x = layers.Concatenate()([noise, embedded])
    x = layers.Dense(7 * 7 * 128, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Reshape((7, 7, 128))(x)
    x = layers.Conv2DTranspose(64, 4, strides=2, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    images = layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh")(x)
    return keras.Model([noise, labels], images, name="conditional_generator")


def _upsample(x, output="tanh"):
    """A 7x7 feature map to a 28x28x1 image."""
    x = layers.Conv2DTranspose(32, 4, strides=2, padding="same", activation="relu")(x)
    return layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation=output)(x)


def _feature_map(x):
    x = layers.ReLU()(layers.BatchNormalization()(layers.Dense(7 * 7 * 32)(x)))
    return layers.Reshape((7, 7, 32))(x)


def generator_maker(code, where="early", output="tanh", label_input=None):
    """A conditional generator builder; `code(labels, num_classes)` turns the labels into a code,
    which joins the noise before the first Dense layer ("early") or at the 7x7 feature map ("late")."""

    @named("build_conditional_generator")
    def build_conditional_generator(latent_dim=100, num_classes=10):
        noise = keras.Input((latent_dim,))
        labels = label_input() if label_input else keras.Input((), dtype="int32")
        encoded = code(labels, num_classes)
        if where == "early":
            x = _feature_map(layers.Concatenate()([noise, encoded]))
        elif where == "late":
            plane = layers.Reshape((7, 7, 1))(layers.Dense(49)(encoded))
            x = layers.Concatenate()([_feature_map(noise), plane])
        else:  # the label is ignored
            x = _feature_map(noise)
        return keras.Model([noise, labels], _upsample(x, output))

    return build_conditional_generator


def embedding(size=50, **options):
    def code(labels, num_classes):
        return layers.Flatten()(layers.Embedding(num_classes, size, **options)(labels))

    return code


def one_hot(depth=lambda num_classes: num_classes):
    return lambda labels, num_classes: ops.one_hot(labels, depth(num_classes))


def as_number(scale=1.0):
    """The mistake: the class id as one number (9 is 'more' than 1)."""
    return lambda labels, num_classes: layers.Reshape((1,))(ops.cast(labels, "float32") * scale)


class SubclassedGenerator(keras.Model):
    """A subclassed generator: the label's embedding multiplies the noise (as in Keras's ACGAN)."""

    def __init__(self, latent_dim, num_classes):
        super().__init__()
        self.embed = layers.Embedding(num_classes, latent_dim)
        self.project = layers.Dense(7 * 7 * 64)
        self.norm = layers.BatchNormalization()
        self.up = layers.Conv2DTranspose(32, 4, strides=2, padding="same", activation="relu")
        self.out = layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh")

    def call(self, inputs, training=False):
        noise, labels = inputs
        x = self.project(noise * self.embed(labels))
        x = ops.reshape(ops.relu(self.norm(x, training=training)), (-1, 7, 7, 64))
        return self.out(self.up(x))


@named("build_conditional_generator")
def subclassed_generator(latent_dim=100, num_classes=10):
    return SubclassedGenerator(latent_dim, num_classes)


@named("build_conditional_generator")
def mlp_generator_with_column_labels(latent_dim=100, num_classes=10):
    """Lab01's MLP with a one-hot label, the labels input declared as (1,) ints."""
    noise = keras.Input((latent_dim,))
    labels = keras.Input((1,), dtype="int32")
    x = layers.Concatenate()([noise, layers.Flatten()(ops.one_hot(labels, num_classes))])
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Dense(784, activation="tanh")(x)
    return keras.Model([noise, labels], layers.Reshape((28, 28, 1))(x))


CORRECT_GENERATORS = {
    "reference": reference_generator,
    "one_hot_early": generator_maker(one_hot()),
    "embedding_late_at_the_feature_map": generator_maker(embedding(), where="late"),
    "one_hot_late_at_the_feature_map": generator_maker(one_hot(), where="late"),
    "small_embedding": generator_maker(embedding(4)),
    "embedding_starting_at_zero": generator_maker(embedding(embeddings_initializer="zeros")),
    "category_encoding_one_hot": generator_maker(
        lambda labels, n: layers.CategoryEncoding(n, output_mode="one_hot")(labels)),
    "float_labels_input_into_embedding": generator_maker(embedding(), label_input=lambda: keras.Input(())),
    "subclassed_embedding_times_noise": subclassed_generator,
    "mlp_with_column_labels_and_dropout": mlp_generator_with_column_labels,
}


@pytest.mark.parametrize("builder", CORRECT_GENERATORS.values(), ids=CORRECT_GENERATORS.keys())
def test_correct_conditional_generator_passes(builder, capsys):
    check_build_conditional_generator(builder)
    assert capsys.readouterr().out == "build_conditional_generator: all 15 checks passed\n"


class FloatConcatGenerator(SubclassedGenerator):
    """The mistake: tf.concat of the noise with the raw labels, which fails on int labels."""

    def call(self, inputs, training=False):
        noise, labels = inputs
        x = self.project(tf.concat([noise, labels[:, None]], axis=1))
        return self.out(self.up(ops.reshape(ops.relu(x), (-1, 7, 7, 64))))


@named("build_conditional_generator")
def float_concat_generator(latent_dim=100, num_classes=10):
    return FloatConcatGenerator(latent_dim, num_classes)


class TwoArgumentGenerator(SubclassedGenerator):
    """The mistake: call(noise, labels) instead of call(inputs) with a list."""

    def call(self, noise, labels, training=False):
        return super().call([noise, labels], training=training)


@named("build_conditional_generator")
def two_argument_generator(latent_dim=100, num_classes=10):
    return TwoArgumentGenerator(latent_dim, num_classes)


@named("build_conditional_generator")
def one_hot_input_generator(latent_dim=100, num_classes=10):
    noise, labels = keras.Input((latent_dim,)), keras.Input((num_classes,))
    x = _feature_map(layers.Concatenate()([noise, labels]))
    return keras.Model([noise, labels], _upsample(x))


@named("build_conditional_generator")
def labels_first_generator(latent_dim=100, num_classes=10):
    noise, labels = keras.Input((latent_dim,)), keras.Input((), dtype="int32")
    x = _feature_map(layers.Concatenate()([noise, embedding()(labels, num_classes)]))
    return keras.Model([labels, noise], _upsample(x))


@named("build_conditional_generator")
def fixed_latent_generator(latent_dim=100, num_classes=10):
    return reference_generator(100, num_classes)


@named("build_conditional_generator")
def nine_classes_by_default(latent_dim=100, num_classes=9):
    return generator_maker(one_hot())(latent_dim, num_classes)


@named("build_conditional_generator")
def flat_generator(latent_dim=100, num_classes=10):
    noise, labels = keras.Input((latent_dim,)), keras.Input((), dtype="int32")
    x = layers.Concatenate()([noise, embedding()(labels, num_classes)])
    return keras.Model([noise, labels], layers.Dense(784, activation="tanh")(x))


@named("build_conditional_generator")
def noise_ignored_generator(latent_dim=100, num_classes=10):
    noise, labels = keras.Input((latent_dim,)), keras.Input((), dtype="int32")
    x = _feature_map(embedding()(labels, num_classes))
    return keras.Model([noise, labels], _upsample(x))


@named("build_conditional_generator")
def unwritten_generator(latent_dim=100, num_classes=10):
    raise NotImplementedError()


WRONG_GENERATORS = {
    "label_ignored": (
        generator_maker(embedding(), where="nowhere"),
        "the model from build_conditional_generator(latent_dim=12, num_classes=32) gives the same "
        "images for every label (the same noise with labels 0 to 31): make the image depend on the label",
    ),
    "one_hot_depth_fixed_at_9": (
        generator_maker(one_hot(lambda n: 9)),
        "gives the same images for labels 9 and 10 (the same noise): every class needs its own code: "
        "size layers.Embedding or keras.ops.one_hot with num_classes (32)",
    ),
    "one_hot_depth_fixed_at_10": (
        generator_maker(one_hot(lambda n: 10)), "gives the same images for labels 10 and 11",
    ),
    "one_hot_depth_one_short": (
        generator_maker(one_hot(lambda n: n - 1)),
        "gives label 31 the same images as the invalid label 35, as keras.ops.one_hot(labels, depth) "
        "does for labels >= depth: the depth must be num_classes (32)",
    ),
    "embedding_size_fixed_at_10": (
        generator_maker(lambda labels, n: layers.Flatten()(layers.Embedding(10, 50)(labels))),
        "it fails on labels 10 and above although num_classes=32: size layers.Embedding(num_classes, ...)",
    ),
    "labels_scaled_to_floats_before_embedding": (
        generator_maker(lambda labels, n: embedding()(ops.cast(labels, "float32") / 2, n)),
        "gives the same images for labels 0 and 1 (the same noise): every class needs its own code",
    ),
    "labels_normalised_to_0_1_before_embedding": (
        generator_maker(lambda labels, n: embedding()(ops.cast(labels, "float32") / n, n)),
        "gives the same images for every label (the same noise with labels 0 to 31): make the image "
        "depend on the label, e.g. concatenate layers.Embedding(num_classes, 50)(labels), fed the int "
        "labels unchanged,",
    ),
    "label_as_a_number_into_dense": (
        generator_maker(as_number()),
        "treats the label as a number: its images change smoothly with the class id, as if 9 were more "
        "than 1. Class ids are categories, not amounts: feed them to layers.Embedding(num_classes, size) "
        "or keras.ops.one_hot(labels, num_classes), not as a number into a Dense layer.",
    ),
    "label_divided_by_num_classes_into_dense": (
        generator_maker(lambda labels, n: as_number(1 / n)(labels, n)), "treats the label as a number",
    ),
    "float_label_input_into_dense_late": (
        generator_maker(lambda labels, n: labels, where="late", label_input=lambda: keras.Input((1,))),
        "treats the label as a number",
    ),
    "raw_int_labels_concatenated_with_tf_concat": (
        float_concat_generator,
        "it works only with float labels, but the lab passes int32 class ids of shape (batch,), "
        "keras.Input(shape=(), dtype='int32'); class ids are categories",
    ),
    "one_hot_labels_expected_as_input": (one_hot_input_generator, "it expects one-hot labels"),
    "inputs_the_other_way_round": (
        labels_first_generator,
        "it takes its inputs the other way round: the lab calls it as model([noise, labels]), noise first.",
    ),
    "noise_and_labels_as_two_arguments": (
        two_argument_generator,
        "it takes noise and labels as two arguments, but the lab calls it with one list, "
        "model([noise, labels]): write call(self, inputs, training=False) and unpack noise, labels = inputs.",
    ),
    "latent_dim_ignored": (
        fixed_latent_generator, "make its inputs keras.Input(shape=(latent_dim,)) for the noise",
    ),
    "default_num_classes_9": (
        nine_classes_by_default,
        "the model from build_conditional_generator() gives the same images for two of the labels 0 to 9 "
        "(or an invalid one): the default must be num_classes=10",
    ),
    "no_tanh": (
        generator_maker(one_hot(), output=None),
        "use tanh on the last layer since real images are scaled to [-1, 1].",
    ),
    "sigmoid_output": (generator_maker(one_hot(), output="sigmoid"), "never go below"),
    "flat_output": (flat_generator, "reshape the 784 outputs into images with keras.layers.Reshape"),
    "noise_ignored": (
        noise_ignored_generator,
        "gives the same image for every noise vector with the same label",
    ),
    "not_written": (unwritten_generator, "build_conditional_generator is not written yet"),
}


@pytest.mark.filterwarnings("ignore:.*build:UserWarning")  # Keras, on models that fail to build
@pytest.mark.parametrize("builder, hint", WRONG_GENERATORS.values(), ids=WRONG_GENERATORS.keys())
def test_wrong_conditional_generator_is_rejected_with_its_hint(builder, hint):
    assert hint in failure(check_build_conditional_generator, builder)


# ---------------------------------------------------------------- build_conditional_discriminator


@named("build_conditional_discriminator")
def reference_discriminator(image_shape=(28, 28, 1), num_classes=10):
    """The solution's builder."""
    images = keras.Input(image_shape)
    labels = keras.Input((), dtype="int32")
    height, width = image_shape[:2]
    label_plane = layers.Reshape((height, width, 1))(layers.Embedding(num_classes, height * width)(labels))
    x = layers.Concatenate()([images, label_plane])
    x = layers.Conv2D(64, 4, strides=2, padding="same")(x)
    x = layers.LeakyReLU(negative_slope=0.2)(x)
    x = layers.Conv2D(128, 4, strides=2, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(negative_slope=0.2)(x)
    logits = layers.Dense(1)(layers.Flatten()(x))
    return keras.Model([images, labels], logits, name="conditional_discriminator")


def _convolutions(x, dropout=0.0):
    x = layers.LeakyReLU(0.2)(layers.Conv2D(16, 4, strides=2, padding="same")(x))
    if dropout:
        x = layers.Dropout(dropout)(x)
    x = layers.Conv2D(32, 4, strides=2, padding="same")(x)
    return layers.Flatten()(layers.LeakyReLU(0.2)(layers.BatchNormalization()(x)))


def discriminator_maker(code, where="early", output=None, dropout=0.0):
    """A conditional discriminator builder; `code(labels, num_classes)` turns the labels into a code,
    which joins the images as channels ("early") or the convolutions' features ("late")."""

    @named("build_conditional_discriminator")
    def build_conditional_discriminator(image_shape=(28, 28, 1), num_classes=10):
        images = keras.Input(image_shape)
        labels = keras.Input((), dtype="int32")
        encoded = code(labels, num_classes)
        if where == "early":
            height, width = image_shape[:2]
            channels = layers.Reshape((height, width, -1))(layers.RepeatVector(height * width)(encoded))
            x = _convolutions(layers.Concatenate()([images, channels]), dropout)
        elif where == "late":
            x = layers.Concatenate()([_convolutions(images, dropout), encoded])
            x = layers.LeakyReLU(0.2)(layers.Dense(32)(x))
        else:  # the label is ignored
            x = _convolutions(images, dropout)
        return keras.Model([images, labels], layers.Dense(1, activation=output)(x))

    return build_conditional_discriminator


class ProjectionDiscriminator(keras.Model):
    """Miyato and Koyama's projection discriminator: psi(phi(x)) + <embed(y), phi(x)>."""

    def __init__(self, image_shape, num_classes):
        super().__init__()
        self.phi = keras.Sequential([
            keras.Input(image_shape),
            layers.Conv2D(16, 4, strides=2, padding="same"), layers.LeakyReLU(0.2),
            layers.Conv2D(32, 4, strides=2, padding="same"), layers.LeakyReLU(0.2),
            layers.GlobalAveragePooling2D(),
        ])
        self.psi = layers.Dense(1)
        self.embed = layers.Embedding(num_classes, 32)

    def call(self, inputs, training=False):
        images, labels = inputs
        features = self.phi(images, training=training)
        return self.psi(features) + ops.sum(self.embed(labels) * features, axis=1, keepdims=True)


@named("build_conditional_discriminator")
def projection_discriminator(image_shape=(28, 28, 1), num_classes=10):
    return ProjectionDiscriminator(image_shape, num_classes)


@named("build_conditional_discriminator")
def mlp_discriminator(image_shape=(28, 28, 1), num_classes=10):
    """Lab02's MLP with the label's embedding beside the pixels."""
    images, labels = keras.Input(image_shape), keras.Input((), dtype="int32")
    x = layers.Concatenate()([layers.Flatten()(images), embedding(10)(labels, num_classes)])
    x = layers.Dropout(0.3)(layers.Dense(256, activation="relu")(x))
    return keras.Model([images, labels], layers.Dense(1)(x))


CORRECT_DISCRIMINATORS = {
    "reference": reference_discriminator,
    "one_hot_channels_early_with_dropout": discriminator_maker(one_hot(), dropout=0.3),
    "one_hot_late_after_the_convolutions": discriminator_maker(one_hot(), where="late"),
    "embedding_late_after_the_convolutions": discriminator_maker(embedding(), where="late"),
    "projection_discriminator": projection_discriminator,
    "mlp_with_embedding": mlp_discriminator,
    "embedding_starting_at_zero": discriminator_maker(
        embedding(8, embeddings_initializer="zeros"), where="late"),
}


@pytest.mark.parametrize("builder", CORRECT_DISCRIMINATORS.values(), ids=CORRECT_DISCRIMINATORS.keys())
def test_correct_conditional_discriminator_passes(builder, capsys):
    check_build_conditional_discriminator(builder)
    assert capsys.readouterr().out == "build_conditional_discriminator: all 16 checks passed\n"


@named("build_conditional_discriminator")
def labels_first_discriminator(image_shape=(28, 28, 1), num_classes=10):
    model = reference_discriminator(image_shape, num_classes)
    return keras.Model(model.inputs[::-1], model.outputs)


@named("build_conditional_discriminator")
def image_ignored_discriminator(image_shape=(28, 28, 1), num_classes=10):
    images, labels = keras.Input(image_shape), keras.Input((), dtype="int32")
    x = layers.Dense(8, activation="relu")(embedding()(labels, num_classes))
    return keras.Model([images, labels], layers.Dense(1)(x))


@named("build_conditional_discriminator")
def squeezed_discriminator(image_shape=(28, 28, 1), num_classes=10):
    model = reference_discriminator(image_shape, num_classes)
    return keras.Model(model.inputs, layers.Reshape(())(model.outputs[0]))


@named("build_conditional_discriminator")
def fixed_plane_discriminator(image_shape=(28, 28, 1), num_classes=10):
    images, labels = keras.Input(image_shape), keras.Input((), dtype="int32")
    plane = layers.Reshape((28, 28, 1))(layers.Embedding(num_classes, 784)(labels))
    x = _convolutions(layers.Concatenate()([images, plane]))
    return keras.Model([images, labels], layers.Dense(1)(x))


WRONG_DISCRIMINATORS = {
    "label_ignored": (
        discriminator_maker(one_hot(), where="nowhere"),
        "the model from build_conditional_discriminator(image_shape=(28, 28, 1), num_classes=32) gives "
        "the same logits for every label (the same images with labels 0 to 31): make the logit depend "
        "on the label",
    ),
    "sigmoid_output": (
        discriminator_maker(one_hot(), output="sigmoid"),
        "the outputs stay in [0, 1] even for extreme inputs and weights, as after a sigmoid: return "
        "logits, with no activation on the last layer (the losses apply the sigmoid).",
    ),
    "tanh_output": (discriminator_maker(one_hot(), output="tanh"), "as after a tanh: return logits"),
    "output_without_the_last_axis": (
        squeezed_discriminator, "expected (32, 1): end with keras.layers.Dense(1)",
    ),
    "one_hot_depth_fixed_at_9": (
        discriminator_maker(one_hot(lambda n: 9)),
        "gives the same logits for labels 9 and 10 (the same images): every class needs its own code",
    ),
    "one_hot_depth_one_short": (
        discriminator_maker(one_hot(lambda n: n - 1), where="late"),
        "gives label 31 the same logits as the invalid label 35",
    ),
    "embedding_size_fixed_at_10": (
        discriminator_maker(lambda labels, n: embedding()(labels, 10), where="late"),
        "it fails on labels 10 and above although num_classes=32",
    ),
    "label_as_a_number_plane": (discriminator_maker(as_number()), "treats the label as a number"),
    "label_as_a_number_after_the_convolutions": (
        discriminator_maker(as_number(), where="late"), "treats the label as a number",
    ),
    "label_plane_fixed_at_28x28": (
        fixed_plane_discriminator,
        "build_conditional_discriminator(image_shape=(32, 32, 3), num_classes=10) raised ValueError",
    ),
    "image_ignored": (
        image_ignored_discriminator, "gives the same logit for every image with the same label",
    ),
    "inputs_the_other_way_round": (
        labels_first_discriminator, "the lab calls it as model([images, labels]), images first.",
    ),
}


@pytest.mark.parametrize("builder, hint", WRONG_DISCRIMINATORS.values(), ids=WRONG_DISCRIMINATORS.keys())
def test_wrong_conditional_discriminator_is_rejected_with_its_hint(builder, hint):
    assert hint in failure(check_build_conditional_discriminator, builder)


# ---------------------------------------------------------------- ConditionalGAN.train_step


class ConditionalGAN(GANBase):
    """The notebook's class, given to students but for train_step."""

    def __init__(self, generator, discriminator, latent_dim=100, num_classes=10, k=1, seed=None):
        super().__init__(generator, discriminator, latent_dim, k, seed)
        self.num_classes = num_classes

    def sample_labels(self, count):
        """`count` class ids drawn uniformly (int32), for the fakes."""
        return keras.random.randint((count,), 0, self.num_classes, seed=self.seed_generator, dtype="int32")

    # Pieces the variants below share.
    def d_update(self, real, real_labels, noise, fake_labels, judged_with=None):
        with tf.GradientTape() as tape:
            fake = self.generator([noise, fake_labels], training=True)
            real_logits = self.discriminator([real, real_labels], training=True)
            fake_logits = self.discriminator(
                [fake, fake_labels if judged_with is None else judged_with], training=True)
            d_loss = discriminator_loss(real_logits, fake_logits)
        grads = tape.gradient(d_loss, self.discriminator.trainable_variables)
        self.d_optimizer.apply(grads, self.discriminator.trainable_variables)
        return d_loss, real_logits

    def d_updates(self, data):
        """The reference's k discriminator updates, each on its own labelled minibatch."""
        images, labels = data
        batch_size = ops.shape(images)[0] // self.k
        for real, real_labels in zip(ops.split(images, self.k), ops.split(labels, self.k)):
            d_loss, real_logits = self.d_update(real, real_labels, self.noise(batch_size),
                                                self.sample_labels(batch_size))
        return batch_size, d_loss, real_logits

    def g_update(self, noise, fake_labels, judged_with=None, loss=generator_loss):
        with tf.GradientTape() as tape:
            fake = self.generator([noise, fake_labels], training=True)
            fake_logits = self.discriminator(
                [fake, fake_labels if judged_with is None else judged_with], training=True)
            g_loss = loss(fake_logits)
        grads = tape.gradient(g_loss, self.generator.trainable_variables)
        self.g_optimizer.apply(grads, self.generator.trainable_variables)
        return g_loss, fake_logits


def gan(train_step):
    """A ConditionalGAN class, named as in the notebook, whose train_step is `train_step`."""
    return named("ConditionalGAN")(type("ConditionalGAN", (ConditionalGAN,), {"train_step": train_step}))


def _reference(self, data):
    """The solution's train_step."""
    images, labels = data
    batch_size = keras.ops.shape(images)[0] // self.k
    for real, real_labels in zip(keras.ops.split(images, self.k), keras.ops.split(labels, self.k)):
        noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        fake_labels = self.sample_labels(batch_size)
        with tf.GradientTape() as tape:
            fake = self.generator([noise, fake_labels], training=True)
            real_logits = self.discriminator([real, real_labels], training=True)
            fake_logits = self.discriminator([fake, fake_labels], training=True)
            d_loss = discriminator_loss(real_logits, fake_logits)
            scaled = self.d_optimizer.scale_loss(d_loss)
        gradients = tape.gradient(scaled, self.discriminator.trainable_variables)
        self.d_optimizer.apply(gradients, self.discriminator.trainable_variables)

    noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
    fake_labels = self.sample_labels(batch_size)
    with tf.GradientTape() as tape:
        fake_logits = self.discriminator([self.generator([noise, fake_labels], training=True), fake_labels],
                                         training=True)
        g_loss = generator_loss(fake_logits)
        scaled = self.g_optimizer.scale_loss(g_loss)
    gradients = tape.gradient(scaled, self.generator.trainable_variables)
    self.g_optimizer.apply(gradients, self.generator.trainable_variables)

    self.d_loss_tracker.update_state(d_loss)
    self.g_loss_tracker.update_state(g_loss)
    self.d_real_tracker.update_state(keras.ops.mean(keras.ops.sigmoid(real_logits)))
    self.d_fake_tracker.update_state(keras.ops.mean(keras.ops.sigmoid(fake_logits)))
    return {metric.name: metric.result() for metric in self.metrics}


def _steps(choose_real, choose_noise=None, choose_fake_labels=None, judge_fakes=None, g_labels=None):
    """A train_step making k D updates, then one G update; the functions pick each piece."""

    def train_step(self, data):
        images, labels = data
        batch_size = ops.shape(images)[0] // self.k
        first_noise = self.noise(batch_size)
        for i in range(self.k):
            real, real_labels = choose_real(self, images, labels, i, batch_size)
            noise = choose_noise(self, first_noise, batch_size) if choose_noise else self.noise(batch_size)
            fake_labels = (choose_fake_labels(self, real_labels, batch_size) if choose_fake_labels
                           else self.sample_labels(batch_size))
            judged_with = judge_fakes(self, real_labels, fake_labels) if judge_fakes else None
            d_loss, real_logits = self.d_update(real, real_labels, noise, fake_labels, judged_with)
        fake_labels = g_labels(self, real_labels, fake_labels) if g_labels else self.sample_labels(batch_size)
        g_loss, fake_logits = self.g_update(self.noise(batch_size), fake_labels)
        return self.results(d_loss, g_loss, real_logits, fake_logits)

    return train_step


def _own_minibatch(self, images, labels, i, batch_size):
    return images[i * batch_size:(i + 1) * batch_size], labels[i * batch_size:(i + 1) * batch_size]


def _real_and_fake_in_one_call(self, data):
    images, labels = data
    batch_size = ops.shape(images)[0] // self.k
    targets = ops.concatenate([ops.ones((batch_size, 1)), ops.zeros((batch_size, 1))])
    for real, real_labels in zip(ops.split(images, self.k), ops.split(labels, self.k)):
        fake_labels = self.sample_labels(batch_size)
        fake = self.generator([self.noise(batch_size), fake_labels], training=True)
        with tf.GradientTape() as tape:
            logits = self.discriminator(
                [ops.concatenate([real, fake]), ops.concatenate([real_labels, fake_labels])], training=True)
            real_logits = logits[:batch_size]
            d_loss = BCE(targets, logits)
        grads = tape.gradient(d_loss, self.discriminator.trainable_variables)
        self.d_optimizer.apply(grads, self.discriminator.trainable_variables)
    g_loss, fake_logits = self.g_update(self.noise(batch_size), self.sample_labels(batch_size))
    return self.results(d_loss, g_loss, real_logits, fake_logits)


def _fakes_up_front_with_tf_random(self, data):
    # G does not change during the D steps, so all k fake minibatches can be made at once.
    images, labels = data
    m = images.shape[0] // self.k
    fake_labels = tf.random.uniform((self.k * m,), 0, self.num_classes, dtype=tf.int32)
    fakes = self.generator([tf.random.normal((self.k * m, self.latent_dim)), fake_labels], training=True)
    for i in range(self.k):
        part = slice(i * m, (i + 1) * m)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator([images[part], labels[part]], training=True)
            fake_logits = self.discriminator([fakes[part], fake_labels[part]], training=True)
            d_loss = (BCE(tf.ones_like(real_logits), real_logits)
                      + BCE(tf.zeros_like(fake_logits), fake_logits))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
        self.d_loss_tracker.update_state(d_loss)
        self.d_real_tracker.update_state(ops.mean(ops.sigmoid(real_logits)))
    g_labels = tf.random.uniform((m,), 0, self.num_classes, dtype=tf.int32)
    with tf.GradientTape() as tape:
        fake_logits = self.discriminator([self([tf.random.normal((m, self.latent_dim)), g_labels],
                                                training=True), g_labels], training=True)
        g_loss = BCE(tf.ones_like(fake_logits), fake_logits)
    grads = tape.gradient(g_loss, self.generator.trainable_weights)
    self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
    self.g_loss_tracker.update_state(g_loss)
    self.d_fake_tracker.update_state(ops.mean(ops.sigmoid(fake_logits)))
    return {metric.name: metric.result() for metric in self.metrics}


@tf.function
def _in_tf_function(self, data):
    return _reference(self, data)


CORRECT_STEPS = {
    "reference": _reference,
    "real_and_fake_in_one_call": _real_and_fake_in_one_call,
    "fakes_up_front_tf_random_apply_gradients": _fakes_up_front_with_tf_random,
    "tf_function": _in_tf_function,
    # The fakes may be made for the real minibatch's labels (as in Keras's conditional GAN example)
    # as long as D judges them with the same labels; the labels still vary and are in range.
    "fakes_made_and_judged_with_the_real_labels": _steps(
        _own_minibatch, choose_fake_labels=lambda self, real_labels, m: real_labels),
    "fake_labels_of_shape_batch_by_1": _steps(
        _own_minibatch,
        choose_fake_labels=lambda self, real_labels, m: ops.expand_dims(self.sample_labels(m), 1)),
    "generator_step_reusing_the_last_fake_labels": _steps(
        _own_minibatch, g_labels=lambda self, real_labels, fake_labels: fake_labels),
}


@pytest.mark.parametrize("train_step", CORRECT_STEPS.values(), ids=CORRECT_STEPS.keys())
def test_correct_conditional_train_step_passes(train_step, capsys):
    check_conditional_train_step(gan(train_step))
    assert capsys.readouterr().out == "ConditionalGAN.train_step: all 70 checks passed\n"


def test_check_leaves_random_state_and_eager_setting_as_they_were():
    assert_leaves_global_state(check_conditional_train_step, gan(_reference))


def _whole_labels(self, images, labels, i, batch_size):
    return images[i * batch_size:(i + 1) * batch_size], labels


def _first_labels(self, images, labels, i, batch_size):
    return images[i * batch_size:(i + 1) * batch_size], labels[:batch_size]


def _real_judged_with_fake_labels(self, data):
    images, labels = data
    batch_size = ops.shape(images)[0] // self.k
    for real in ops.split(images, self.k):
        fake_labels = self.sample_labels(batch_size)
        d_loss, real_logits = self.d_update(real, fake_labels, self.noise(batch_size), fake_labels)
    g_loss, fake_logits = self.g_update(self.noise(batch_size), self.sample_labels(batch_size))
    return self.results(d_loss, g_loss, real_logits, fake_logits)


def _one_tape_for_both_models(self, data):
    images, labels = data
    batch_size = ops.shape(images)[0] // self.k
    for real, real_labels in zip(ops.split(images, self.k), ops.split(labels, self.k)):
        fake_labels = self.sample_labels(batch_size)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator([real, real_labels], training=True)
            fake = self.generator([self.noise(batch_size), fake_labels], training=True)
            d_loss = discriminator_loss(real_logits, self.discriminator([fake, fake_labels], training=True))
        variables = self.discriminator.trainable_variables + self.generator.trainable_variables
        self.d_optimizer.apply(tape.gradient(d_loss, variables), variables)
    g_loss, fake_logits = self.g_update(self.noise(batch_size), self.sample_labels(batch_size))
    return self.results(d_loss, g_loss, real_logits, fake_logits)


def _generator_update_touching_discriminator(self, data):
    batch_size, d_loss, real_logits = self.d_updates(data)
    fake_labels = self.sample_labels(batch_size)
    with tf.GradientTape() as tape:
        fake = self.generator([self.noise(batch_size), fake_labels], training=True)
        fake_logits = self.discriminator([fake, fake_labels], training=True)
        g_loss = generator_loss(fake_logits)
    variables = self.generator.trainable_variables + self.discriminator.trainable_variables
    self.g_optimizer.apply(tape.gradient(g_loss, variables), variables)
    return self.results(d_loss, g_loss, real_logits, fake_logits)


def _generator_updated_in_the_loop(self, data):
    images, labels = data
    batch_size = ops.shape(images)[0] // self.k
    for real, real_labels in zip(ops.split(images, self.k), ops.split(labels, self.k)):
        d_loss, real_logits = self.d_update(real, real_labels, self.noise(batch_size),
                                            self.sample_labels(batch_size))
        g_loss, fake_logits = self.g_update(self.noise(batch_size), self.sample_labels(batch_size))
    return self.results(d_loss, g_loss, real_logits, fake_logits)


def _k_ignored(self, data):
    images, labels = data
    batch_size = ops.shape(images)[0]
    d_loss, real_logits = self.d_update(images, labels, self.noise(batch_size),
                                        self.sample_labels(batch_size))
    g_loss, fake_logits = self.g_update(self.noise(batch_size), self.sample_labels(batch_size))
    return self.results(d_loss, g_loss, real_logits, fake_logits)


def _g_loss_from_the_discriminator_tape(self, data):
    images, labels = data
    batch_size = ops.shape(images)[0] // self.k
    for real, real_labels in zip(ops.split(images, self.k), ops.split(labels, self.k)):
        fake_labels = self.sample_labels(batch_size)
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            fake = self.generator([self.noise(batch_size), fake_labels], training=True)
            real_logits = self.discriminator([real, real_labels], training=True)
            fake_logits = self.discriminator([fake, fake_labels], training=True)
            d_loss = discriminator_loss(real_logits, fake_logits)
            g_loss = generator_loss(fake_logits)
        grads = d_tape.gradient(d_loss, self.discriminator.trainable_variables)
        self.d_optimizer.apply(grads, self.discriminator.trainable_variables)
    grads = g_tape.gradient(g_loss, self.generator.trainable_variables)
    self.g_optimizer.apply(grads, self.generator.trainable_variables)
    return self.results(d_loss, g_loss, real_logits, fake_logits)


def _generator_reusing_noise(self, data):
    images, labels = data
    batch_size = ops.shape(images)[0] // self.k
    for real, real_labels in zip(ops.split(images, self.k), ops.split(labels, self.k)):
        noise = self.noise(batch_size)
        d_loss, real_logits = self.d_update(real, real_labels, noise, self.sample_labels(batch_size))
    g_loss, fake_logits = self.g_update(noise, self.sample_labels(batch_size))
    return self.results(d_loss, g_loss, real_logits, fake_logits)


def _generator_loss_variant(loss):
    def train_step(self, data):
        batch_size, d_loss, real_logits = self.d_updates(data)
        g_loss, fake_logits = self.g_update(self.noise(batch_size), self.sample_labels(batch_size), loss=loss)
        return self.results(d_loss, g_loss, real_logits, fake_logits)

    return train_step


def _discriminator_loss_swapped(self, data):
    images, labels = data
    batch_size = ops.shape(images)[0] // self.k
    for real, real_labels in zip(ops.split(images, self.k), ops.split(labels, self.k)):
        fake_labels = self.sample_labels(batch_size)
        with tf.GradientTape() as tape:
            fake = self.generator([self.noise(batch_size), fake_labels], training=True)
            real_logits = self.discriminator([real, real_labels], training=True)
            d_loss = discriminator_loss(self.discriminator([fake, fake_labels], training=True), real_logits)
        grads = tape.gradient(d_loss, self.discriminator.trainable_variables)
        self.d_optimizer.apply(grads, self.discriminator.trainable_variables)
    g_loss, fake_logits = self.g_update(self.noise(batch_size), self.sample_labels(batch_size))
    return self.results(d_loss, g_loss, real_logits, fake_logits)


def _generator_called_with(make_inputs):
    def train_step(self, data):
        images, labels = data
        batch_size = ops.shape(images)[0] // self.k
        self.generator(make_inputs(self, batch_size), training=True)
        return _reference(self, data)

    return train_step


def _not_in_training_mode(self, data):
    batch_size, d_loss, real_logits = self.d_updates(data)
    fake_labels = self.sample_labels(batch_size)
    with tf.GradientTape() as tape:
        fake_logits = self.discriminator([self.generator([self.noise(batch_size), fake_labels]), fake_labels],
                                         training=True)
        g_loss = generator_loss(fake_logits)
    grads = tape.gradient(g_loss, self.generator.trainable_variables)
    self.g_optimizer.apply(grads, self.generator.trainable_variables)
    return self.results(d_loss, g_loss, real_logits, fake_logits)


def _returning(make_result):
    def train_step(self, data):
        return make_result(self, _reference(self, data))

    return train_step


def _judged_g_step(self, data):
    batch_size, d_loss, real_logits = self.d_updates(data)
    g_loss, fake_logits = self.g_update(self.noise(batch_size), self.sample_labels(batch_size),
                                        judged_with=self.sample_labels(batch_size))
    return self.results(d_loss, g_loss, real_logits, fake_logits)


def _discriminator_never_sees_fakes(self, data):
    images, labels = data
    for real, real_labels in zip(ops.split(images, self.k), ops.split(labels, self.k)):
        with tf.GradientTape() as tape:
            real_logits = self.discriminator([real, real_labels], training=True)
            d_loss = ops.mean(ops.softplus(-real_logits))
        grads = tape.gradient(d_loss, self.discriminator.trainable_variables)
        self.d_optimizer.apply(grads, self.discriminator.trainable_variables)
    m = ops.shape(real)[0]
    g_loss, fake_logits = self.g_update(self.noise(m), self.sample_labels(m))
    return self.results(d_loss, g_loss, real_logits, fake_logits)


def _generator_called_outside_the_tape(self, data):
    batch_size, d_loss, real_logits = self.d_updates(data)
    fake_labels = self.sample_labels(batch_size)
    fake = self.generator([self.noise(batch_size), fake_labels], training=True)
    with tf.GradientTape() as tape:
        fake_logits = self.discriminator([fake, fake_labels], training=True)
        g_loss = generator_loss(fake_logits)
    grads = tape.gradient(g_loss, self.generator.trainable_variables)
    self.g_optimizer.apply(grads, self.generator.trainable_variables)
    return self.results(d_loss, g_loss, real_logits, fake_logits)


_uniform_floats = lambda self, real_labels, m: keras.random.uniform((m,), 0, self.num_classes)  # noqa: E731

WRONG_STEPS = {
    "real_images_judged_with_the_fake_labels": (
        _real_judged_with_fake_labels,
        "discriminator update 1 of 3 judged the real images with the fake labels, not with their own: "
        "pass each real image with its label from the batch, self.discriminator([real, real_labels], ...); "
        "pair each image with the label it was drawn or generated for, otherwise D can ignore the label.",
    ),
    "fakes_judged_with_the_real_labels": (
        _steps(_own_minibatch, judge_fakes=lambda self, real_labels, fake_labels: real_labels),
        "discriminator update 1 of 3 judged the generated images with the real images' labels, not with "
        "the labels they were generated for: give the discriminator the fake_labels you gave the generator",
    ),
    "fakes_made_with_the_real_labels_judged_with_sampled_ones": (
        _steps(_own_minibatch, choose_fake_labels=lambda self, real_labels, m: real_labels,
               judge_fakes=lambda self, real_labels, fake_labels: self.sample_labels(12)),
        "discriminator update 1 of 3 judged the generated images with other labels than the ones they "
        "were generated for: give self.generator and self.discriminator the same fake_labels",
    ),
    "fakes_judged_with_a_second_draw_of_labels": (
        _steps(_own_minibatch, judge_fakes=lambda self, real_labels, fake_labels: self.sample_labels(12)),
        "judged the generated images with other labels than the ones they were generated for",
    ),
    "generator_update_judged_with_other_labels": (
        _judged_g_step,
        "the generator update judged the generated images with other labels than the ones they were "
        "generated for",
    ),
    "constant_fake_labels": (
        _steps(_own_minibatch, choose_fake_labels=lambda self, real_labels, m: ops.zeros((m,), "int32")),
        "self.generator was given the same label (0) for every image: draw one label per image, "
        "fake_labels = self.sample_labels(batch_size), so that it learns every class.",
    ),
    "fake_labels_from_a_fixed_10_classes": (
        _steps(_own_minibatch,
               choose_fake_labels=lambda self, real_labels, m: keras.random.randint((m,), 0, 10, seed=7)),
        "outside [0, num_classes) = [0, 5): draw the labels with self.sample_labels(batch_size)",
    ),
    "fake_labels_as_uniform_floats": (
        _steps(_own_minibatch, choose_fake_labels=_uniform_floats), "not a whole number",
    ),
    "labels_not_split_with_the_images": (
        _steps(_whole_labels),
        "self.discriminator was given 12 images but all 36 labels of the batch: split the labels with the "
        "images, for real, real_labels in zip(keras.ops.split(images, self.k), keras.ops.split(labels, "
        "self.k)).",
    ),
    "labels_of_the_first_minibatch_for_every_step": (
        _steps(_first_labels),
        "discriminator update 2 of 3 judged the real images with labels that are not theirs: split the "
        "labels with the images, in the same way",
    ),
    "same_real_minibatch_each_step": (
        _steps(lambda self, images, labels, i, m: (images[:m], labels[:m])),
        "the discriminator steps reused the same real images: give each step its own minibatch: "
        "for real, real_labels in zip(",
    ),
    "one_noise_batch_for_all_k_steps": (
        _steps(_own_minibatch, choose_noise=lambda self, noise, m: noise),
        "the discriminator steps reused the same noise: draw new noise inside the loop, for each step",
    ),
    "discriminator_never_sees_fakes": (
        _discriminator_never_sees_fakes,
        "discriminator update 1 of 3 was made without calling the discriminator on generated images: "
        "compute fake_logits = self.discriminator([self.generator([noise, fake_labels], training=True), "
        "fake_labels], ...).",
    ),
    "real_images_rescaled_again": (
        _steps(lambda self, images, labels, i, m: (images[i * m:(i + 1) * m] / 127.5 - 1.0,
                                                   labels[i * m:(i + 1) * m])),
        "discriminator update 1 of 3 was made without calling the discriminator on real images from the "
        "batch: pass it a minibatch of images unchanged",
    ),
    "fakes_for_the_whole_batch": (
        _steps(_own_minibatch, choose_noise=lambda self, noise, m: self.noise(3 * m),
               choose_fake_labels=lambda self, real_labels, m: self.sample_labels(3 * m)),
        "discriminator update 1 of 3 used 36 generated images for 12 real ones: draw one noise vector per "
        "real image, batch_size = keras.ops.shape(images)[0] // self.k.",
    ),
    "generator_called_outside_the_tape": (
        _generator_called_outside_the_tape, "the gradients given to self.g_optimizer are all None",
    ),
    "d_optimizer_given_generator_weights": (
        _one_tape_for_both_models, "self.d_optimizer was given the generator's weights",
    ),
    "generator_update_touching_the_discriminator": (
        _generator_update_touching_discriminator,
        "self.g_optimizer was given the discriminator's weights: update the discriminator with "
        "self.d_optimizer and the generator with self.g_optimizer.",
    ),
    "generator_updated_inside_the_k_loop": (
        _generator_updated_in_the_loop, "updated the generator between discriminator updates",
    ),
    "k_ignored": (
        _k_ignored,
        "with k=3 and a batch of 36 images, ConditionalGAN.train_step updated the discriminator once, "
        "expected k=3 times: loop over k minibatches (for real, real_labels in zip(",
    ),
    "generator_loss_from_the_discriminator_tape": (
        _g_loss_from_the_discriminator_tape, "the generator update used no new call of self.generator",
    ),
    "generator_step_reusing_noise": (
        _generator_reusing_noise, "the generator update reused the noise of a discriminator step",
    ),
    "generator_labels_flipped": (
        _generator_loss_variant(lambda f: BCE(ops.zeros_like(f), f)),
        "the generator update made D(G(z, y), y) smaller, raising its loss",
    ),
    "minimax_generator_loss": (
        _generator_loss_variant(lambda f: generator_loss(f, saturating=True)),
        "the generator update followed the gradient of the minimax loss instead of the non-saturating one",
    ),
    "discriminator_loss_arguments_swapped": (
        _discriminator_loss_swapped, "raised the discriminator's loss on its images",
    ),
    "generator_called_without_labels": (
        _generator_called_with(lambda self, m: self.noise(m)),
        "self.generator was called with one tensor of shape (12, 3): the conditional generator takes a "
        "list, self.generator([noise, labels], training=True).",
    ),
    "one_hot_labels_for_the_generator": (
        _generator_called_with(lambda self, m: [self.noise(m), ops.one_hot(self.sample_labels(m), 5)]),
        "self.generator was given one-hot labels of shape (12, 5): pass the int class ids",
    ),
    "noise_of_fixed_size": (
        _generator_called_with(lambda self, m: [keras.random.normal((m, 100)), self.sample_labels(m)]),
        "self.generator was given noise of shape (12, 100), but the check's generator takes latent_dim=3",
    ),
    "generator_without_training_true": (
        _not_in_training_mode, "ConditionalGAN.train_step called self.generator with training=None",
    ),
    "metrics_not_returned": (
        _returning(lambda self, results: None), "returned NoneType, not a dict of metrics",
    ),
    "logits_instead_of_probabilities": (
        _returning(lambda self, results: {**results, "d_real": results["d_real"] - 2.0}),
        "is not a probability: track the mean of D's outputs",
    ),
}


@pytest.mark.parametrize("train_step, hint", WRONG_STEPS.values(), ids=WRONG_STEPS.keys())
def test_wrong_conditional_train_step_is_rejected_with_its_hint(train_step, hint):
    assert hint in failure(check_conditional_train_step, gan(train_step))


def test_unwritten_train_step_is_reported_as_not_written_yet():
    message = failure(check_conditional_train_step, named("ConditionalGAN")(ConditionalGAN))
    assert message == (
        "ConditionalGAN.train_step is not written yet: replace `raise NotImplementedError()` with your code."
    )
    assert tf.config.functions_run_eagerly() is False


def test_error_inside_train_step_names_the_batch_by_its_shapes():
    def train_step(self, data):
        self.optimizer_d.apply([], [])

    message = failure(check_conditional_train_step, gan(train_step))
    assert message.startswith(
        "ConditionalGAN.train_step((<images of shape (36, 28, 28, 1)>, <labels of shape (36,)>)) raised "
        "AttributeError:"
    )


# ---------------------------------------------------------------- in a notebook


def test_tensorflow_notices_of_the_checks_probes_stay_out_of_the_cell_and_other_lines_show(tmp_path):
    # The generator check gives the model invalid labels on purpose; TensorFlow logs each rejection
    # on file descriptor 2, which a kernel shows in red under the cell. The cells are the solution's.
    solution = nbformat.read(ROOT / "solutions" / "lab06_conditional_gan.ipynb", as_version=4)
    sources = [cell.source for cell in solution.cells if cell.cell_type == "code"]
    starts = ("import gan_lab", "def build_conditional_generator", "check_build_conditional_generator(")
    cells = [next(source for source in sources if source.startswith(start)) for start in starts]
    notice = (b"W0000 00:00:1.0   1 local_rendezvous.cc:412] Local rendezvous is aborting with status: "
              b"INVALID_ARGUMENT: indices[0] = 35 is not in [0, 32)\n\t [[{{node Gather}}]]\n")
    written = notice + b"a real error\n" + notice
    probe = ("import os\nfrom gan_lab.checks._conditional_inputs import quiet_probe\n"
             f"with quiet_probe():\n    os.write(2, {written!r})")
    pause = "\nimport time\ntime.sleep(0.5)"  # the kernel relays file descriptor 2 from a thread
    *_, (stdout, stderr), (_, other) = run_cells([*cells[:2], cells[2] + pause, probe + pause], tmp_path)
    assert stdout == "build_conditional_generator: all 15 checks passed\n"
    assert "Local rendezvous" not in stderr and "INVALID_ARGUMENT" not in stderr
    assert other == "a real error\n"
