"""Checks for Lab04: the DCGAN generator and discriminator, judged against the DCGAN rules."""

import numpy as np

from ._architecture import read_architecture
from ._hidden_layers import KERAS_LEAKY_DEFAULT, LEAKY_SLOPE
from ._harness import Checklist, student_name
from ._models import (
    build,
    built_generator,
    require_batch_follows_input,
    require_depends_on_input,
    require_finite_floats,
    require_trainable,
    run,
)

# The rules as Lab04 numbers them; every architecture hint starts with one of these.
STRIDED = "DCGAN rule 1 (strided convolutions, no pooling)"
BATCH_NORM = "DCGAN rule 2 (batch norm)"
NO_HIDDEN_DENSE = "DCGAN rule 3 (no hidden fully-connected layers)"
GENERATOR_ACTIVATIONS = "DCGAN rule 4 (ReLU in the generator, tanh output)"
DISCRIMINATOR_ACTIVATIONS = "DCGAN rule 5 (LeakyReLU in the discriminator)"

_MNIST = (28, 28, 1)
_SLIDE = (64, 64, 3)


def _require_no_pooling(checks, architecture, network, fix):
    pooled = [kind for block in architecture.blocks for kind in block.pooling]
    pooled += ["a pooling layer"] * architecture.before_first.count("pooling")
    checks.require(not pooled, f"{STRIDED}: the {network} has {pooled[0] if pooled else ''}; {fix}")


def _require_only_first_dense(checks, blocks, allowed_index, fix):
    hidden = [block for index, block in enumerate(blocks) if block.kind == "dense" and index != allowed_index]
    checks.require(
        not hidden,
        f"{NO_HIDDEN_DENSE}: {hidden[0].describe() if hidden else ''} is a hidden Dense layer; {fix}",
    )


def _activation_text(block):
    return " then ".join(block.activations) if block.activations else "no activation"


def _require_generator_rules(checks, model):
    architecture = read_architecture(model)
    blocks = architecture.blocks
    _require_no_pooling(checks, architecture, "generator",
                        "remove it: the generator grows its images with Conv2DTranspose(strides=2) alone.")
    upsampled = [kind for block in blocks for kind in block.upsampling]
    checks.require(
        not upsampled,
        f"{STRIDED}: the generator uses {upsampled[0] if upsampled else ''}; up-sample with "
        "Conv2DTranspose(filters, kernel_size, strides=2, padding='same') instead.",
    )
    checks.require(
        any(block.kind == "transposed" and block.strides >= 2 for block in blocks),
        f"{STRIDED}: the generator has no strided transposed convolution; after projecting and "
        "reshaping z, up-sample with Conv2DTranspose(filters, kernel_size, strides=2, padding='same').",
    )
    _require_only_first_dense(
        checks, blocks, 0,
        "the only Dense layer projects z (the first layer); reshape its output and use "
        "Conv2DTranspose layers from there on.")
    output, hidden = blocks[-1], blocks[:-1]
    checks.require(
        not output.batch_norm,
        f"{BATCH_NORM}: the generator's output layer {output.describe()} is followed by batch norm; "
        "remove it, the output layer ends with tanh alone.",
    )
    last = output.activations[-1] if output.activations else None
    checks.require(
        last == "tanh",
        f"{GENERATOR_ACTIVATIONS}: the output layer {output.describe()} ends with "
        f"{_activation_text(output)}; use activation='tanh', since real images are scaled to [-1, 1]"
        + (" and sigmoid only reaches [0, 1]." if last == "sigmoid" else "."),
    )
    for block in hidden:
        other = f" ({block.other_norms[0]} is not batch norm)" if block.other_norms else ""
        checks.require(
            block.batch_norm,
            f"{BATCH_NORM}: the generator's hidden layer {block.describe()} has no batch norm{other}; "
            "add layers.BatchNormalization() after every generator layer but the output.",
        )
        checks.require(
            block.activations and set(block.activations) == {"relu"},
            f"{GENERATOR_ACTIVATIONS}: the generator's hidden layer {block.describe()} uses "
            f"{_activation_text(block)}; use layers.ReLU() after every generator layer but the output"
            + (" (LeakyReLU belongs in the discriminator)." if "leaky_relu" in block.activations else "."),
        )


def _require_discriminator_rules(checks, model):
    architecture = read_architecture(model)
    blocks = architecture.blocks
    _require_no_pooling(checks, architecture, "discriminator",
                        "remove it and down-sample with Conv2D(filters, kernel_size, strides=2, padding='same').")
    checks.require(
        any(block.kind == "conv" and block.strides >= 2 for block in blocks),
        f"{STRIDED}: the discriminator has no strided convolution; down-sample with "
        "Conv2D(filters, kernel_size, strides=2, padding='same').",
    )
    _require_only_first_dense(
        checks, blocks, len(blocks) - 1,
        "after the convolutions use layers.Flatten() and one Dense(1) for the logit.")
    output, hidden = blocks[-1], blocks[:-1]
    checks.require(
        "sigmoid" not in output.activations,
        f"the discriminator's last layer {output.describe()} applies sigmoid; return the logit "
        "(no activation), since the Lab02 losses take logits.",
    )
    checks.require(
        not output.batch_norm and not output.activations,
        f"the discriminator's last layer {output.describe()} is followed by "
        f"{'batch norm' if output.batch_norm else _activation_text(output)}; its output is the logit, "
        "so nothing may follow it.",
    )
    checks.require(
        "batch_norm" not in architecture.before_first and not (hidden and hidden[0].batch_norm),
        f"{BATCH_NORM}: batch norm on the discriminator's input layer"
        f"{' ' + hidden[0].describe() if hidden else ''}; remove it there and keep it on the later "
        "layers (the DCGAN paper found it unstable on the input).",
    )
    checks.require(
        any(block.batch_norm for block in hidden[1:]),
        f"{BATCH_NORM}: the discriminator has no batch norm; use two or more strided Conv2D layers "
        "and add layers.BatchNormalization() after every one but the first.",
    )
    for block in hidden[1:]:
        checks.require(
            block.batch_norm,
            f"{BATCH_NORM}: the discriminator's layer {block.describe()} has no batch norm; add "
            "layers.BatchNormalization() after every discriminator layer but the input one.",
        )
    for block in hidden:
        leaky = bool(block.activations) and set(block.activations) == {"leaky_relu"}
        other = [slope for slope in block.leak_slopes if slope is None or abs(slope - LEAKY_SLOPE) > 1e-3]
        uses = _activation_text(block)
        if leaky and other:
            uses = (f"LeakyReLU with slope {other[0]:.3g}" if other[0] is not None else "a LeakyReLU of unknown slope")
            if other[0] is not None and abs(other[0] - KERAS_LEAKY_DEFAULT) < 1e-3:
                uses += " (the default of Keras 3's layers.LeakyReLU())"
        checks.require(
            leaky and not other,
            f"{DISCRIMINATOR_ACTIVATIONS}: the discriminator's layer {block.describe()} uses "
            f"{uses}; use layers.LeakyReLU(negative_slope=0.2) after every hidden "
            "discriminator layer" + (" (ReLU belongs in the generator)." if "relu" in block.activations else "."),
        )


def _generator_shape_hint(shape):
    start, steps = shape[0], 0
    while start > 7:
        start, steps = (start + 1) // 2, steps + 1
    return (f"project z with Dense to a {start}x{start} grid of feature maps, reshape it, then {steps} "
            f"Conv2DTranspose layers with strides=2 up to {shape}, the last with {shape[-1]} filter(s).")


def check_build_dcgan_generator(build_dcgan_generator):
    """Check a DCGAN generator: the DCGAN rules, then noise to images in [-1, 1] of image_shape."""
    name = student_name(build_dcgan_generator, "build_dcgan_generator")
    checks = Checklist(name)
    rng = np.random.default_rng(1)
    model, what, noise, images = built_generator(
        checks, name, build_dcgan_generator, "make its input size latent_dim: keras.Input(shape=(latent_dim,)).")
    _require_generator_rules(checks, model)
    checks.require(
        images.shape == (16, *_MNIST),
        f"{what} gave shape {images.shape} for noise of shape (16, 12), expected (16, 28, 28, 1): "
        + _generator_shape_hint(_MNIST),
    )
    require_batch_follows_input(checks, model, noise, _MNIST, what)
    require_finite_floats(checks, images, what)
    checks.require(
        np.all(np.abs(images) <= 1.0 + 1e-5),
        f"{what} gave values up to {np.max(np.abs(images)):.3g}, outside [-1, 1]: end with tanh.",
    )
    require_depends_on_input(checks, images, what, "noise vector")
    require_trainable(checks, model, what)
    default = build(checks, name, build_dcgan_generator)
    shape = run(default, rng.standard_normal((2, 100)).astype("float32"), f"the model from {name}()",
                "the default latent_dim must be 100.").shape
    checks.require(shape == (2, *_MNIST),
                   f"the model from {name}() gave shape {shape} for noise of shape (2, 100), expected "
                   "(2, 28, 28, 1): the defaults must be latent_dim=100, image_shape=(28, 28, 1).")
    slide = build(checks, name, build_dcgan_generator, image_shape=_SLIDE)
    what = f"the model from {name}(image_shape={_SLIDE})"
    shape = run(slide, rng.standard_normal((2, 100)).astype("float32"), what,
                "derive the starting grid and the number of up-sampling layers from image_shape.").shape
    checks.require(shape == (2, *_SLIDE),
                   f"{what} gave shape {shape}, expected (2, 64, 64, 3): " + _generator_shape_hint(_SLIDE))
    _require_generator_rules(checks, slide)
    checks.passed()


def check_build_dcgan_discriminator(build_dcgan_discriminator):
    """Check a DCGAN discriminator: the DCGAN rules, then images of image_shape to (batch, 1) logits."""
    name = student_name(build_dcgan_discriminator, "build_dcgan_discriminator")
    checks = Checklist(name)
    rng = np.random.default_rng(0)
    for image_shape in (_MNIST, _SLIDE):
        model = build(checks, name, build_dcgan_discriminator, image_shape=image_shape)
        what = f"the model from {name}(image_shape={image_shape})"
        images = rng.uniform(-1, 1, (16, *image_shape)).astype("float32")
        logits = run(model, images, what, "make its input shape image_shape: keras.Input(shape=image_shape).")
        _require_discriminator_rules(checks, model)
        checks.require(
            logits.shape == (16, 1),
            f"{what} gave shape {logits.shape} for images of shape {images.shape}, expected (16, 1): "
            "end with layers.Flatten() and one Dense(1).",
        )
        require_batch_follows_input(checks, model, images, (1,), what)
        require_finite_floats(checks, logits, what)
        require_depends_on_input(checks, logits, what, "image")
        require_trainable(checks, model, what)
    default = build(checks, name, build_dcgan_discriminator)
    shape = run(default, rng.uniform(-1, 1, (2, *_MNIST)).astype("float32"), f"the model from {name}()",
                "the default image_shape must be (28, 28, 1).").shape
    checks.require(shape == (2, 1), f"the model from {name}() gave shape {shape} for (2, 28, 28, 1) "
                   "images, expected (2, 1): the default image_shape must be (28, 28, 1).")
    checks.passed()
