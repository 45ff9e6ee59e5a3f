"""Checks for Lab02: the discriminator and the two GAN losses."""

import numpy as np

from ._harness import Checklist, student_name
from ._hidden_layers import KERAS_LEAKY_DEFAULT, LEAKY_SLOPE, hidden_layers
from ._losses import (
    LOGITS_NOT_PROBABILITIES,
    SUMMED,
    Case,
    bce_on_probabilities,
    column,
    require_gradients,
    require_stable,
    require_value,
    show,
    sigmoid,
    softplus,
)
from ._models import (
    build,
    require_batch_follows_input,
    require_depends_on_input,
    require_finite_floats,
    require_logits,
    require_trainable,
    run,
    run_with_scaled_weights,
)

_REAL = column([1.5, -0.5, 2.0, 0.3])
_FAKE = column([-1.0, 0.7, -2.2, 0.1])
_REAL_6 = column([0.8, -1.3, 2.4, 0.1, -0.2, 1.1])
_FAKE_3 = column([-0.9, 0.4, -1.7])
_FAKE_5 = column([1.5, -0.5, 2.0, 0.3, -1.2])
# Extreme logits; no exact 0, where hand-written stable formulas have a harmless kink.
_REAL_BIG = [column([100.0, -100.0, 3.0]), column([1e4, -1e4])]
_FAKE_BIG = [column([-100.0, 100.0, -3.0, 0.5]), column([-1e4, 1e4, 0.5])]
_SLOPE_TOLERANCE = 0.01
_LEAKY_ASKED = (
    'the lab says "Hidden layers use LeakyReLU (slope 0.2 for negative inputs)"; use '
    "layers.LeakyReLU(negative_slope=0.2) after each hidden Dense layer."
)


def _near(slope, target):
    return slope is not None and abs(slope - target) < _SLOPE_TOLERANCE


def _activation_problem(name, hidden):
    """What is wrong with the activation after one hidden layer, or None if it is LeakyReLU(0.2)."""
    after = f"the activation after {name}'s hidden layer {hidden.describe()}"
    leak = hidden.leak
    if leak is None:
        # Not measurable as two straight lines: trust the declared activations if all are right.
        slopes = [slope for _, slope in hidden.declared]
        if slopes and all(_near(slope, LEAKY_SLOPE) for slope in slopes):
            return None
        names = ", ".join(sorted({activation for activation, _ in hidden.declared}))
        return f"{after} is not LeakyReLU" + (f" but {names}" if names else "")
    if _near(leak, LEAKY_SLOPE):
        return None
    if _near(leak, 0.0):
        return f"{after} has slope 0 for negative inputs, as ReLU does"
    if _near(leak, 1.0):
        return f"{name}'s hidden layer {hidden.describe()} has no activation after it"
    if _near(leak, KERAS_LEAKY_DEFAULT):
        return (f"{after} has slope 0.3 for negative inputs, the default of Keras 3's "
                "layers.LeakyReLU()")
    return f"{after} has slope {leak:.3g} for negative inputs"


def _require_hidden_layers(checks, name, model, images):
    """Require hidden layers, each followed by LeakyReLU with slope 0.2, measured on `images`."""
    count, hidden = hidden_layers(model, images)
    checks.require(
        count >= 2,
        f"{name}'s model has no hidden layer: it maps the pixels straight to the logit, but the lab "
        'asks for "two hidden Dense layers of 500 units"; add two layers.Dense(500), each followed '
        "by layers.LeakyReLU(negative_slope=0.2).",
    )
    problems = [problem for problem in (_activation_problem(name, h) for h in hidden) if problem]
    checks.require(not problems, f"{problems[0] if problems else ''}: {_LEAKY_ASKED}")


def check_build_discriminator(build_discriminator):
    """Check that build_discriminator(image_shape) maps a batch of images to (batch, 1) logits."""
    name = student_name(build_discriminator, "build_discriminator")
    checks = Checklist(name)
    rng = np.random.default_rng(0)
    model = build(checks, name, build_discriminator, image_shape=(32, 32, 3))
    what = f"the model from {name}(image_shape=(32, 32, 3))"
    images = rng.uniform(-1.0, 1.0, (64, 32, 32, 3)).astype("float32")
    logits = run(
        model, images, what,
        "make its input shape image_shape (e.g. keras.Input(shape=image_shape)), "
        "not a fixed (28, 28, 1).",
    )
    checks.require(
        logits.shape == (64, 1),
        f"{what} gave output shape {logits.shape} for 64 images, expected (64, 1): "
        "end with keras.layers.Dense(1) so that each image gets one logit.",
    )
    require_batch_follows_input(checks, model, images, (1,), what)
    require_finite_floats(checks, logits, what)
    # A final sigmoid or tanh keeps outputs in (0, 1) or (-1, 1) whatever the input and weights;
    # logits grow with larger inputs (ReLU-like nets with zero biases scale with their input)
    # and with larger weights (any net whose last layer is linear).
    outputs = np.concatenate([
        logits.ravel(),
        run(model, images * 1000.0, what, "it must accept any pixel values.").ravel(),
        run_with_scaled_weights(model, images, 10.0, what).ravel(),
        # Sign-flipped probes, so that a tanh output also shows its negative half.
        run(model, images * -1000.0, what, "it must accept any pixel values.").ravel(),
        run_with_scaled_weights(model, images, -10.0, what).ravel(),
    ])
    require_logits(checks, outputs)
    require_depends_on_input(checks, logits, what, "image")
    require_trainable(checks, model, what)
    _require_hidden_layers(checks, name, model, images)
    default = build(checks, name, build_discriminator)
    shape = run(default, images[:2, :28, :28, :1], f"the model from {name}()",
                "the default image_shape must be (28, 28, 1).").shape
    checks.require(
        shape == (2, 1),
        f"the model from {name}() gave shape {shape} for images of shape (2, 28, 28, 1), "
        "expected (2, 1).",
    )
    checks.passed()


def _discriminator_case(real, fake):
    r, f = real.astype(np.float64), fake.astype(np.float64)
    return Case(
        label=f"real logits {show(r)} and fake logits {show(f)}",
        arrays=(real, fake),
        kwargs={},
        value=softplus(-r).mean() + softplus(f).mean(),
        grads=[-sigmoid(-r) / r.size, sigmoid(f) / f.size],
    )


def _discriminator_mistakes(case):
    """Values that typical mistakes give for `case`, each with its hint."""
    r, f = (a.astype(np.float64) for a in case.arrays)
    return [
        (softplus(r).mean() + softplus(-f).mean(),
         "the labels are flipped: label real logits 1 (ones_like) and fake logits 0 (zeros_like)."),
        (softplus(-r).sum() + softplus(f).sum(), SUMMED),
        (case.value / 2,
         "this averages real and fake together, which halves the loss: the course's loss is the "
         "SUM of two means, mean BCE(real, 1) + mean BCE(fake, 0)."),
        (-case.value,
         "the sign is wrong: the loss is -(E[log D(x)] + E[log(1 - D(G(z)))]), a positive number."),
        (bce_on_probabilities(1, r) + bce_on_probabilities(0, f), LOGITS_NOT_PROBABILITIES),
        (softplus(-r).mean(),
         "the fake term is missing: add the mean BCE of the fake logits labelled 0."),
        (softplus(f).mean(),
         "the real term is missing: add the mean BCE of the real logits labelled 1."),
    ]


def check_discriminator_loss(discriminator_loss):
    """Check discriminator_loss(real, fake) = mean BCE(real, 1) + mean BCE(fake, 0) on logits."""
    name = student_name(discriminator_loss, "discriminator_loss")
    checks = Checklist(name)
    case = _discriminator_case(_REAL, _FAKE)
    require_value(
        checks, name, discriminator_loss, case, _discriminator_mistakes(case),
        "compute mean BCE(real, label 1) + mean BCE(fake, label 0) from logits.", shape_check=True,
    )
    require_value(
        checks, name, discriminator_loss, _discriminator_case(_REAL_6, _FAKE_3), [],
        "real and fake batches can differ in size, so take the mean of each separately, "
        "then add the two means.",
    )
    extreme = [_discriminator_case(real, fake) for real, fake in zip(_REAL_BIG, _FAKE_BIG)]
    require_stable(checks, name, discriminator_loss, extreme)
    require_gradients(checks, name, discriminator_loss, [case], extreme)
    checks.passed()


def _generator_case(fake, saturating):
    f = fake.astype(np.float64)
    if saturating:  # mean(log(1 - D(G(z))))
        value, grads = -softplus(f).mean(), [-sigmoid(f) / f.size]
    else:  # -mean(log D(G(z)))
        value, grads = softplus(-f).mean(), [-sigmoid(-f) / f.size]
    suffix = " with saturating=True" if saturating else ""
    kwargs = {"saturating": True} if saturating else {}
    return Case(f"fake logits {show(f)}{suffix}", (fake,), kwargs, value, grads)


def _generator_mistakes(fake, saturating):
    """Values that typical mistakes give for these logits, each with its hint."""
    f = fake.astype(np.float64)
    log_d, log_one_minus_d = -softplus(-f).mean(), -softplus(f).mean()
    if not saturating:
        return [
            (log_one_minus_d,
             "by default (saturating=False) return the non-saturating -mean(log D(G(z))) = "
             "mean BCE(fake, 1); the minimax form is only for saturating=True."),
            (log_d,
             "the sign is wrong: mean(log D(G(z))) is what G maximises; return its negative, "
             "-mean(log D(G(z))) = mean BCE(fake, 1)."),
            (-log_one_minus_d,
             "the labels are flipped: G wants its fakes called real, so label fake logits 1 "
             "(ones_like)."),
            (softplus(-f).sum(), SUMMED),
            (bce_on_probabilities(1, f), LOGITS_NOT_PROBABILITIES),
        ]
    return [
        (-log_d,
         "saturating=True must give the minimax loss mean(log(1 - D(G(z)))) = -mean BCE(fake, 0): "
         "your function seems to ignore the saturating argument."),
        (-log_one_minus_d,
         "the sign is wrong: in the minimax game G minimises mean(log(1 - D(G(z)))) = "
         "-mean BCE(fake, 0), a negative number."),
        (log_d,
         "this is mean(log D(G(z))); the minimax form is mean(log(1 - D(G(z)))) = "
         "-mean BCE(fake, 0)."),
        (-softplus(f).sum(), SUMMED),
        (-bce_on_probabilities(0, f), LOGITS_NOT_PROBABILITIES),
    ]


def check_generator_loss(generator_loss):
    """Check generator_loss(fake_logits, saturating=False) in both its forms, on logits."""
    name = student_name(generator_loss, "generator_loss")
    checks = Checklist(name)
    default, minimax = _generator_case(_FAKE_5, False), _generator_case(_FAKE_5, True)
    require_value(
        checks, name, generator_loss, default, _generator_mistakes(_FAKE_5, False),
        "return -mean(log D(G(z))) = mean BCE(fake, label 1), computed from logits.",
        shape_check=True,
    )
    explicit = default._replace(
        label=default.label + " with saturating=False", kwargs={"saturating": False}
    )
    require_value(
        checks, name, generator_loss, explicit, [],
        "saturating=False must give the same non-saturating loss as the default.",
    )
    require_value(
        checks, name, generator_loss, minimax, _generator_mistakes(_FAKE_5, True),
        "return mean(log(1 - D(G(z)))) = -mean BCE(fake, label 0), computed from logits.",
    )
    extreme = [_generator_case(fake, s) for fake in _FAKE_BIG for s in (False, True)]
    require_stable(checks, name, generator_loss, extreme)
    require_gradients(checks, name, generator_loss, [default, minimax], extreme)
    checks.passed()
