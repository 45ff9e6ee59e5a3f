"""Checks for Lab06: the conditional generator and discriminator, and the conditional GAN's train_step."""

import numpy as np

from ._conditional_inputs import (
    changed_weights,
    conditional_outputs,
    require_batch_follows,
    require_float32,
)
from ._conditional_labels import require_default_labels, require_label_used
from ._conditional_train_step import judge_one_step
from ._harness import Checklist, judge_eagerly, student_name
from ._models import build, require_logits, require_tanh_range, require_trainable

_IMAGE = (28, 28, 1)
_OTHER_IMAGE = (32, 32, 3)
_LATENT = 12
# A num_classes other than 10 shows sizes fixed at 10; 32 labels also give the test for labels used
# as numbers plenty of points.
_CLASSES = 32


# ---------------------------------------------------------------- the generator


def check_build_conditional_generator(build_conditional_generator):
    """Check a conditional generator: ([noise, int labels]) -> (batch, 28, 28, 1) images in [-1, 1]."""
    name = student_name(build_conditional_generator, "build_conditional_generator")
    checks = Checklist(name)
    rng = np.random.default_rng(0)
    model = build(checks, name, build_conditional_generator, latent_dim=_LATENT, num_classes=_CLASSES)
    what = f"the model from {name}(latent_dim={_LATENT}, num_classes={_CLASSES})"
    fallback = ("make its inputs keras.Input(shape=(latent_dim,)) for the noise and "
                "keras.Input(shape=(), dtype='int32') for the labels, sized from the arguments.")

    def run(model, noise, labels, what=what, fallback=fallback):
        return conditional_outputs(model, noise, labels, what, "noise", _CLASSES, fallback)

    noise = rng.standard_normal((_CLASSES, _LATENT)).astype("float32")
    labels = np.arange(_CLASSES, dtype="int32")
    images = run(model, noise, labels)
    if images.shape[1:] == (784,):
        fix = "reshape the 784 outputs into images with keras.layers.Reshape((28, 28, 1))."
    else:
        fix = ("end with 28x28 images of 1 channel, e.g. Dense(7 * 7 * 128), Reshape((7, 7, 128)), "
               "then Conv2DTranspose layers with strides=2 up to (28, 28, 1).")
    checks.require(
        images.shape == (_CLASSES, *_IMAGE),
        f"{what} gave output shape {images.shape} for noise of shape {noise.shape} and labels of "
        f"shape {labels.shape}, expected ({_CLASSES}, 28, 28, 1): {fix}",
    )
    require_batch_follows(checks, model, noise, labels, _IMAGE, what, "noise", _CLASSES)
    require_float32(checks, images, what)
    # Larger noise or weights drive any unbounded output far outside [-1, 1]; tanh saturates at +-1.
    with changed_weights(model, lambda value, _: value * 10.0):
        scaled = run(model, noise, labels)
    outputs = np.concatenate([images.ravel(), run(model, noise * 1000.0, labels).ravel(), scaled.ravel()])
    require_tanh_range(checks, outputs)
    same_label = run(model, noise, np.full(_CLASSES, 3, "int32")).reshape(_CLASSES, -1)
    checks.require(
        float(np.max(np.std(same_label, axis=0))) > 1e-6,
        f"{what} gives the same image for every noise vector with the same label: compute the "
        "image from the noise as well as the label (concatenate them, or join them later).",
    )
    require_label_used(
        checks, model, noise[:4], _CLASSES, what,
        ("images", "the same noise",
         "make the image depend on the label, e.g. concatenate layers.Embedding(num_classes, "
         "50)(labels), fed the int labels unchanged, with the noise before the first Dense layer."),
        run,
    )
    require_trainable(checks, model, what)
    default = build(checks, name, build_conditional_generator)
    what = f"the model from {name}()"
    fallback = "the defaults must be latent_dim=100 and num_classes=10."
    noise = rng.standard_normal((2, 100)).astype("float32")
    shape = run(default, noise, np.array([0, 9], "int32"), what, fallback).shape
    checks.require(
        shape == (2, *_IMAGE),
        f"{what} gave shape {shape} for noise of shape (2, 100) and labels [0, 9], expected "
        f"(2, 28, 28, 1): {fallback}",
    )
    require_default_labels(
        checks, default, noise, what, "images",
        lambda model, noise, labels: run(model, noise, labels, what, fallback),
    )
    checks.passed()


# ---------------------------------------------------------------- the discriminator


def check_build_conditional_discriminator(build_conditional_discriminator):
    """Check a conditional discriminator: ([images, int labels]) -> (batch, 1) logits."""
    name = student_name(build_conditional_discriminator, "build_conditional_discriminator")
    checks = Checklist(name)
    rng = np.random.default_rng(0)
    model = build(checks, name, build_conditional_discriminator, image_shape=_IMAGE,
                  num_classes=_CLASSES)
    what = f"the model from {name}(image_shape={_IMAGE}, num_classes={_CLASSES})"
    fallback = ("make its inputs keras.Input(shape=image_shape) for the images and "
                "keras.Input(shape=(), dtype='int32') for the labels, sized from the arguments.")

    def run(model, images, labels, what=what, fallback=fallback):
        return conditional_outputs(model, images, labels, what, "images", _CLASSES, fallback)

    images = rng.uniform(-1.0, 1.0, (_CLASSES, *_IMAGE)).astype("float32")
    labels = np.arange(_CLASSES, dtype="int32")
    logits = run(model, images, labels)
    checks.require(
        logits.shape == (_CLASSES, 1),
        f"{what} gave output shape {logits.shape} for {_CLASSES} images and labels, expected "
        f"({_CLASSES}, 1): end with keras.layers.Dense(1) so that each image gets one logit.",
    )
    require_batch_follows(checks, model, images, labels, (1,), what, "images", _CLASSES)
    require_float32(checks, logits, what)
    # As in Lab02: a final sigmoid or tanh keeps outputs in (0, 1) or (-1, 1) whatever the input
    # and weights; logits grow with larger inputs and weights, and sign-flipped probes show tanh.
    probes = [logits, run(model, images * 1000.0, labels), run(model, images * -1000.0, labels)]
    for factor in (10.0, -10.0):
        with changed_weights(model, lambda value, _: value * factor):
            probes.append(run(model, images, labels))
    outputs = np.concatenate([probe.ravel() for probe in probes])
    require_logits(checks, outputs)
    same_label = run(model, images, np.full(_CLASSES, 3, "int32"))
    checks.require(
        float(np.std(same_label)) > 1e-6,
        f"{what} gives the same logit for every image with the same label: compute the logit from "
        "the images as well as the labels.",
    )
    require_label_used(
        checks, model, images[:8], _CLASSES, what,
        ("logits", "the same images",
         "make the logit depend on the label, e.g. concatenate the images with a label plane, "
         "layers.Reshape((height, width, 1))(layers.Embedding(num_classes, height * width)(labels)), "
         "fed the int labels unchanged."),
        run,
    )
    require_trainable(checks, model, what)
    other = build(checks, name, build_conditional_discriminator, image_shape=_OTHER_IMAGE, num_classes=10)
    what = f"the model from {name}(image_shape={_OTHER_IMAGE}, num_classes=10)"
    shape = run(other, rng.uniform(-1.0, 1.0, (3, *_OTHER_IMAGE)).astype("float32"),
                np.array([0, 5, 9], "int32"), what,
                "make its image input keras.Input(shape=image_shape) and derive every size from "
                "image_shape (e.g. the label plane's height and width), not from a fixed (28, 28, 1).").shape
    checks.require(
        shape == (3, 1),
        f"{what} gave shape {shape} for 3 images, expected (3, 1): derive every size from "
        "image_shape, not from a fixed (28, 28, 1).",
    )
    default = build(checks, name, build_conditional_discriminator)
    what = f"the model from {name}()"
    fallback = "the defaults must be image_shape=(28, 28, 1) and num_classes=10."
    shape = run(default, images[:2], np.array([0, 9], "int32"), what, fallback).shape
    checks.require(
        shape == (2, 1),
        f"{what} gave shape {shape} for images of shape (2, 28, 28, 1) and labels [0, 9], expected "
        f"(2, 1): {fallback}",
    )
    require_default_labels(
        checks, default, images[:8], what, "logits",
        lambda model, images, labels: run(model, images, labels, what, fallback),
    )
    checks.passed()


# ---------------------------------------------------------------- the train_step


def check_conditional_train_step(ConditionalGAN):
    """Check ConditionalGAN.train_step: k D updates on fresh labelled minibatches, then one G update."""
    name = f"{student_name(ConditionalGAN, 'ConditionalGAN')}.train_step"
    judge_eagerly(
        name,
        lambda checks: judge_one_step(checks, name, ConditionalGAN, k=3),
        lambda checks: judge_one_step(checks, name, ConditionalGAN, k=1),
    )
