"""Checks for Lab05: one-sided label smoothing, minibatch discrimination, feature matching."""

import numpy as np

from ._harness import CheckFailed, Checklist, call_student, student_name, summarize_error, to_numpy
from ._losses import (
    LOGITS_NOT_PROBABILITIES, SUMMED, Case, bce_on_probabilities, column, require_gradients, require_stable,
    require_value, show, sigmoid, softplus,
)

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


def _minibatch_features(x, kernel, self_included=False, norm="l1", exponent=True):
    """The sum and the mean over j != i of exp(-||M_i,b - M_j,b||_1), M = x T; options give typical mistakes."""
    m = np.einsum("na,abc->nbc", x, kernel)
    differences = np.abs(m[:, None] - m[None])  # (i, j, kernel, kernel_dim)
    distance = differences.sum(-1) if norm == "l1" else np.sqrt((differences**2).sum(-1))
    similarity = np.exp(-distance) if exponent else distance
    total = similarity.sum(axis=1)
    if self_included:
        return [total, total / len(x), total / (len(x) - 1)]
    others = total - similarity[np.arange(len(x)), np.arange(len(x))]
    return [others, others / (len(x) - 1)]


def _matches(got, x, layouts, **options):
    """Whether `got` equals any accepted form of the features, for either kernel layout."""
    return any(np.allclose(got, value, rtol=1e-3, atol=1e-4)
               for kernel in layouts for value in _minibatch_features(x.astype(np.float64), kernel, **options))


def _kernel_layouts(values, features, kernels, kernel_dim):
    """The kernel as (features, kernels, kernel_dim), for the two ways a student may lay it out."""
    flat = values.reshape(features, -1)
    return [flat.reshape(features, kernels, kernel_dim),
            flat.reshape(features, kernel_dim, kernels).transpose(0, 2, 1)]


def _call(layer, x, what):
    try:
        return to_numpy(layer(x), f"the output of {what}")
    except CheckFailed:
        raise
    except NotImplementedError:
        raise CheckFailed(f"{what.split('(')[0]} is not written yet: replace `raise NotImplementedError()` "
                          "in build and call with your code.") from None
    except Exception as error:  # noqa: BLE001 - any error in the student's layer becomes a hint
        raise CheckFailed(f"{what} failed on input of shape {x.shape}: {summarize_error(error)}") from None


def _the_kernel(checks, layer, what, size):
    weights = [w for w in layer.trainable_weights if int(np.prod(w.shape)) == size]
    checks.require(
        len(weights) == 1,
        f"{what} must hold one trainable kernel T with input_features x num_kernels x kernel_dim = {size} "
        "entries, created in build() with self.add_weight.",
    )
    return weights[0]


def _minibatch_hint(layer, x, got, layouts, what):
    """The hint for wrong minibatch features: the first typical mistake they match."""
    mistakes = [
        ({"self_included": True}, "each sample's similarity to itself (exp(0) = 1) leaks into its features: "
         "sum over the other samples j != i only."),
        ({"norm": "l2"}, "use the L1 distance, sum over kernel_dim of |M_i,b - M_j,b|, not the Euclidean norm."),
        ({"exponent": False}, "apply exp(-distance) to each distance before summing over the samples."),
    ]
    for options, hint in mistakes:
        if _matches(got, x, layouts, **options):
            return hint
    changed = x.copy()
    changed[1:] = np.random.default_rng(2).normal(size=(len(x) - 1, x.shape[1]))
    if np.allclose(_call(layer, changed, what)[0, x.shape[1]:], got[0], atol=1e-6):
        return ("sample 0's features do not change when the other samples do: compare each sample with the "
                "other samples of the batch (M_i - M_j across the batch axis), not across features or kernels.")
    return ("o(x_i)_b must be the sum (or the mean) over j != i of exp(-||M_i,b - M_j,b||_1), with M = x T "
            "reshaped to (batch, num_kernels, kernel_dim).")


def check_minibatch_discrimination(layer_class):
    """Check a MinibatchDiscrimination(num_kernels, kernel_dim) layer: Salimans et al. (2016), sum or mean."""
    import keras

    name = student_name(layer_class, "MinibatchDiscrimination")
    checks = Checklist(name)
    features, kernels, kernel_dim, batch = 4, 5, 3, 6
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, features)).astype("float32")
    layer = call_student(name, layer_class, num_kernels=kernels, kernel_dim=kernel_dim)
    what = f"{name}(num_kernels={kernels}, kernel_dim={kernel_dim})"
    out = _call(layer, x, what)
    checks.require(
        out.shape == (batch, features + kernels),
        f"{what} gave shape {out.shape} for input {x.shape}, expected {(batch, features + kernels)}: "
        "return the input features followed by one feature per kernel (concatenate on the last axis).",
    )
    checks.require(np.allclose(out[:, :features], x, atol=1e-6),
                   f"the first {features} columns of {what}'s output must be its input, unchanged.")
    kernel = _the_kernel(checks, layer, what, features * kernels * kernel_dim)
    values = (0.3 * rng.normal(size=tuple(kernel.shape))).astype("float32")
    kernel.assign(values)
    got = _call(layer, x, what)[:, features:].astype(np.float64)
    layouts = _kernel_layouts(values.astype(np.float64), features, kernels, kernel_dim)
    ok = _matches(got, x, layouts)
    checks.require(ok, "" if ok else f"the minibatch features of {what} are wrong: "
                   f"{_minibatch_hint(layer, x, got, layouts, what)}")
    same = _call(layer, np.repeat(x[:1], 3, axis=0), what)[:, features:]
    checks.require(np.allclose(same, 2.0, atol=1e-4) or np.allclose(same, 1.0, atol=1e-4),
                   f"3 identical samples must each get exactly 2 (the sum over the 2 others) or 1 (their mean) "
                   f"per kernel from {what}.")
    try:
        model = keras.Sequential([keras.Input((features,)), layer_class(num_kernels=kernels, kernel_dim=kernel_dim)])
        shape = model.predict(x[:3], verbose=0).shape
    except Exception as error:  # noqa: BLE001
        raise CheckFailed(f"{what} fails inside a model, where the batch size is unknown: use -1 or "
                          f"keras.ops.shape(x)[0] for the batch dimension ({summarize_error(error)})") from None
    checks.require(shape == (3, features + kernels), f"inside a model {what} gave shape {shape} for 3 samples.")
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
