"""Checks for Lab05: one-sided label smoothing, minibatch discrimination, feature matching."""

import numpy as np

from ._harness import Checklist, call_student, student_name, to_numpy
from ._losses import (
    LOGITS_NOT_PROBABILITIES, SUMMED, Case, bce_on_probabilities, column, require_gradients, require_stable,
    require_value, show, sigmoid, softplus,
)
from ._minibatch import check_minibatch_discrimination  # noqa: F401 - gan_lab.checks imports it from here

_REAL, _FAKE = column([1.5, -0.5, 2.0, 0.3]), column([-1.0, 0.7, -2.2, 0.1])
_REAL_6, _FAKE_3 = column([0.8, -1.3, 2.4, 0.1, -0.2, 1.1]), column([-0.9, 0.4, -1.7])
_REAL_BIG, _FAKE_BIG = column([100.0, -100.0, 3.0]), column([-100.0, 100.0, 0.5])


def _bce(target, logits):
    """Mean BCE of logits against a (possibly soft) target, computed stably."""
    return float(np.mean(target * softplus(-logits) + (1 - target) * softplus(logits)))


def _smoothed_case(real, fake, smoothing):
    r, f = real.astype(np.float64), fake.astype(np.float64)
    target = 1.0 - smoothing
    return Case(
        label=f"real logits {show(r)}, fake logits {show(f)} and smoothing={smoothing:g}",
        arrays=(real, fake), kwargs={"smoothing": smoothing},
        value=_bce(target, r) + _bce(0.0, f),
        grads=[(sigmoid(r) - target) / r.size, sigmoid(f) / f.size],
    )


def _smoothing_mistakes(case):
    r, f = (a.astype(np.float64) for a in case.arrays)
    smoothing = case.kwargs["smoothing"]
    target = 1.0 - smoothing
    return [
        (_bce(target, r) + _bce(smoothing, f),
         "the fake labels were smoothed too: one-sided smoothing softens only the real targets "
         "(1 - smoothing); fake targets stay 0, or D would reward the generator's mistakes."),
        (_bce(1.0, r) + _bce(0.0, f),
         "no smoothing happened: label the real logits 1 - smoothing (0.9 for smoothing=0.1), not 1."),
        (_bce(smoothing, r) + _bce(0.0, f),
         "the real target is 1 - smoothing, not smoothing itself."),
        (_bce(1.0 - 0.1, r) + _bce(0.0, f),
         "use the smoothing argument instead of a fixed 0.1."),
        (float(np.sum(target * softplus(-r) + smoothing * softplus(r)) + np.sum(softplus(f))), SUMMED),
        (bce_on_probabilities(target, r) + bce_on_probabilities(0, f), LOGITS_NOT_PROBABILITIES),
    ]


def check_smoothed_discriminator_loss(smoothed_discriminator_loss):
    """Check smoothed_discriminator_loss(real, fake, smoothing=0.1): real targets 1 - smoothing, fake 0."""
    name = student_name(smoothed_discriminator_loss, "smoothed_discriminator_loss")
    checks = Checklist(name)
    fallback = "return mean BCE(real, 1 - smoothing) + mean BCE(fake, 0), computed from logits."
    for smoothing in (0.1, 0.2):
        case = _smoothed_case(_REAL, _FAKE, smoothing)
        require_value(checks, name, smoothed_discriminator_loss, case, _smoothing_mistakes(case), fallback,
                      shape_check=True)
    default = _smoothed_case(_REAL, _FAKE, 0.1)._replace(kwargs={})
    default = default._replace(label=default.label.replace(" and smoothing=0.1", " (default smoothing)"))
    require_value(checks, name, smoothed_discriminator_loss, default, [],
                  "the default must be smoothing=0.1 (real targets 0.9).")
    require_value(checks, name, smoothed_discriminator_loss, _smoothed_case(_REAL_6, _FAKE_3, 0.1), [],
                  "real and fake batches can differ in size: take the mean of each, then add them.")
    extreme = [_smoothed_case(_REAL_BIG, _FAKE_BIG, 0.1)]
    require_stable(checks, name, smoothed_discriminator_loss, extreme)
    require_gradients(checks, name, smoothed_discriminator_loss, [_smoothed_case(_REAL, _FAKE, 0.1)], extreme)
    checks.passed()


def _require_feature_matching(checks, name, fn, real, fake, mistakes):
    """Require ||mean real - mean fake||^2 (summed, or averaged, over the features)."""
    import tensorflow as tf

    gap = real.astype(np.float64).mean(0) - fake.astype(np.float64).mean(0)
    accepted = [float(np.sum(gap**2)), float(np.mean(gap**2))]
    got = float(to_numpy(call_student(name, fn, tf.constant(real), tf.constant(fake)),
                         f"the result of {name}").reshape(-1)[0])
    fallback = ("average the features over each batch (the batches may differ in size), subtract, square "
                "and sum over the features.")
    hint = next((hint for wrong, hint in mistakes if np.isclose(got, wrong, rtol=1e-3)), fallback)
    checks.require(any(np.isclose(got, value, rtol=1e-3) for value in accepted),
                   f"{name} gives {got:.6g} for real features of shape {real.shape} and fake features of shape "
                   f"{fake.shape}, expected {accepted[0]:.6g}: {hint}")


def check_feature_matching_loss(feature_matching_loss):
    """Check feature_matching_loss(real_features, fake_features) = ||mean real - mean fake||^2."""
    import tensorflow as tf

    name = student_name(feature_matching_loss, "feature_matching_loss")
    checks = Checklist(name)
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(4, 5)).astype("float32"), rng.normal(1.0, 1.0, size=(4, 5)).astype("float32")
    gap = real.astype(np.float64).mean(0) - fake.astype(np.float64).mean(0)
    mistakes = [
        (float(np.sum(np.abs(gap))), "square the difference of the means (a squared L2 norm), not its absolute value."),
        (float(np.sqrt(np.sum(gap**2))), "square the norm: ||mean real - mean fake||^2, not ||.||."),
        (float(np.mean(np.sum((real - fake) ** 2, axis=1))),
         "match the batch MEANS: average each batch's features first, then compare the two means."),
        (float(np.mean((real - fake) ** 2)),
         "match the batch MEANS: average each batch's features first, then compare the two means."),
    ]
    _require_feature_matching(checks, name, feature_matching_loss, real, fake, mistakes)
    real = rng.normal(size=(6, 5)).astype("float32")
    _require_feature_matching(checks, name, feature_matching_loss, real, fake, [])
    fake_tensor = tf.constant(fake)
    with tf.GradientTape() as tape:
        tape.watch(fake_tensor)
        loss = call_student(name, feature_matching_loss, tf.constant(real), fake_tensor)
    gradient = tape.gradient(loss, fake_tensor) if tf.is_tensor(loss) else None
    checks.require(gradient is not None and np.all(np.isfinite(gradient)) and np.any(np.asarray(gradient) != 0),
                   f"{name} gives no gradient for the fake features: compute it with keras.ops, so that "
                   "the generator can learn from it.")
    checks.passed()
