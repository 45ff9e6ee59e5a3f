"""Helpers shared by the loss checks: call a loss on logits, compare values, take gradients.

Also the losses of the train_step checks' tiny models, computed from their weights.
"""

from collections import namedtuple

import numpy as np

from ._harness import CheckFailed, call_student, summarize_error, to_numpy

_EPSILON = 1e-7  # keras.backend.epsilon(): the clip Keras applies when BCE gets probabilities

# One probe of a loss: its inputs (arrays, kwargs), a text form of them, and the right answers.
Case = namedtuple("Case", "label arrays kwargs value grads")

NOT_DIFFERENTIABLE = (
    "{name} is not differentiable with respect to the logits (tf.GradientTape found no "
    "gradient): compute it with keras.ops or tf operations, not NumPy or Python floats."
)
UNSTABLE = (
    "log(sigmoid(x)) overflows or gets clipped for large logits: compute the loss from the logits "
    "with keras.losses.BinaryCrossentropy(from_logits=True) or keras.ops.softplus."
)
LOGITS_NOT_PROBABILITIES = (
    "these are logits, not probabilities: use from_logits=True "
    "(keras.losses.BinaryCrossentropy(from_logits=True)) or keras.ops.softplus."
)
SUMMED = "the value is off by the batch size: take the mean over the batch, not the sum."


def softplus(x):
    """log(1 + exp(x)) without overflow: the BCE of logit x labelled 0."""
    return np.logaddexp(0.0, x)


def sigmoid(x):
    """The logistic function without overflow."""
    return np.exp(-softplus(-x))


def bce_on_probabilities(label, logits):
    """Mean BCE as Keras computes it with from_logits=False, i.e. when given logits by mistake."""
    p = np.clip(np.asarray(logits, np.float32), _EPSILON, 1.0 - _EPSILON).astype(np.float64)
    return float(np.mean(-(label * np.log(p) + (1 - label) * np.log(1 - p))))


def show(logits):
    """A short text form of a column of logits, for messages."""
    return "[" + ", ".join(f"{v:g}" for v in np.ravel(logits)) + "]"


def column(values):
    """A float32 (n, 1) array of logits, shaped like a discriminator's output."""
    return np.asarray(values, np.float32).reshape(-1, 1)


def close(value, expected, rtol=1e-4):
    """Whether a loss value matches the expected one (loose enough for float32)."""
    return bool(np.isfinite(value) and np.isclose(value, expected, rtol=rtol, atol=1e-4))


def evaluate(checks, name, fn, case, shape_check=False):
    """Call the loss on tensors made from the case's arrays; return its value as a float."""
    import tensorflow as tf

    value = call_student(name, fn, *[tf.constant(a) for a in case.arrays], **case.kwargs)
    value = to_numpy(value, f"the result of {name}")
    if shape_check:
        checks.require(
            value.size == 1,
            f"{name} must return one number but returned shape {value.shape}: average over the "
            "batch (keras.ops.mean, or a keras.losses.BinaryCrossentropy object).",
        )
    return float(value.reshape(-1)[0]) if value.size else float("nan")


def require_value(checks, name, fn, case, mistakes, fallback, shape_check=False):
    """Require the right value for `case`; when wrong, hint at the first mistake it matches."""
    got = evaluate(checks, name, fn, case, shape_check)
    hint = next((hint for wrong, hint in mistakes if close(got, wrong, rtol=1e-3)), fallback)
    checks.require(
        close(got, case.value),
        f"{name} gives {got:.6g} for {case.label}, expected {case.value:.6g}: {hint}",
    )


def gradients(name, fn, case):
    """Gradients of the loss with respect to each input array (None where there is none)."""
    import tensorflow as tf

    tensors = [tf.constant(a) for a in case.arrays]
    with tf.GradientTape() as tape:
        for tensor in tensors:
            tape.watch(tensor)
        loss = call_student(name, fn, *tensors, **case.kwargs)
    if not tf.is_tensor(loss):
        return [None] * len(tensors)
    try:
        grads = tape.gradient(loss, tensors)
    except Exception as error:  # noqa: BLE001
        raise CheckFailed(
            f"could not differentiate {name}: use keras.ops or tf operations.\n"
            f"({summarize_error(error)})"
        ) from None
    return [None if g is None else np.asarray(g, np.float64) for g in grads]


def _finite(grads):
    return all(g is not None and np.all(np.isfinite(g)) for g in grads)


def _match(grads, expected):
    return _finite(grads) and all(
        g.shape == e.shape and np.allclose(g, e, rtol=1e-3, atol=1e-6)
        for g, e in zip(grads, expected)
    )


def _first_label(cases, found, keep):
    """The label of the first case whose gradients fail `keep`, or None."""
    return next((case.label for case, grads in zip(cases, found) if not keep(grads, case)), None)


def require_stable(checks, name, fn, cases):
    """Require finite and correct values for the extreme-logit cases."""
    results = [(case, evaluate(checks, name, fn, case)) for case in cases]
    bad = [(case, got) for case, got in results if not np.isfinite(got)]
    case, got = bad[0] if bad else results[0]
    checks.require(not bad, f"{name} gives {got} for {case.label}: {UNSTABLE}")
    wrong = [(case, got) for case, got in results if not close(got, case.value)]
    case, got = wrong[0] if wrong else results[0]
    checks.require(
        not wrong,
        f"{name} gives {got:.6g} for {case.label}, expected {case.value:.6g}: {UNSTABLE}",
    )


def require_gradients(checks, name, fn, moderate, extreme):
    """Require correct gradients at moderate logits, and finite, correct ones at extreme logits."""
    found = [gradients(name, fn, case) for case in moderate]
    checks.require(
        all(g is not None for grads in found for g in grads), NOT_DIFFERENTIABLE.format(name=name)
    )
    label = _first_label(moderate, found, lambda grads, case: _match(grads, case.grads))
    checks.require(
        label is None,
        f"the gradients of {name} are wrong for {label}: compute the loss with keras.ops or tf "
        "operations on the logits, without clipping, rounding or stop_gradient.",
    )
    found = [gradients(name, fn, case) for case in extreme]
    label = _first_label(extreme, found, lambda grads, case: _finite(grads))
    checks.require(label is None, f"the gradients of {name} are inf or nan for {label}: {UNSTABLE}")
    label = _first_label(extreme, found, lambda grads, case: _match(grads, case.grads))
    checks.require(label is None, f"the gradients of {name} are wrong for {label}: {UNSTABLE}")


# ---------------------------------------------------------------- the train_step checks' models


def _generate(g, noise):
    """The tiny generator's images, flattened, from its weights [W1, b1, W2, b2]."""
    import tensorflow as tf

    hidden = tf.tanh(tf.matmul(noise, g[0]) + g[1])
    return tf.tanh(tf.matmul(hidden, g[2]) + g[3])


def _logits(d, images):
    """The tiny discriminator's logits, from its weights [W1, b1, W2, b2] and flattened images."""
    import tensorflow as tf

    hidden = tf.matmul(images, d[0]) + d[1]
    return tf.matmul(tf.maximum(hidden, 0.2 * hidden), d[2]) + d[3]


def tiny_discriminator_loss(d, real, fake):
    """The tiny discriminator's loss: mean BCE(D(real), 1) + mean BCE(D(fake), 0), on logits."""
    return softplus(-np.asarray(_logits(d, real))).mean() + softplus(
        np.asarray(_logits(d, fake))).mean()


def tiny_generator_loss(g, d, noise, saturating, condition=None):
    """The tiny generator's loss in the form `saturating` asks for, and its gradients.

    With `condition` (one row per noise row), D judges each image joined with its row of it.
    """
    import tensorflow as tf

    g = [tf.constant(w) for w in g]
    with tf.GradientTape() as tape:
        tape.watch(g)
        images = _generate(g, tf.constant(noise))
        if condition is not None:
            images = tf.concat([images, tf.constant(condition, images.dtype)], axis=1)
        logits = _logits(d, images)
        if saturating:  # mean log(1 - D(G(z)))
            loss = -tf.reduce_mean(tf.nn.softplus(logits))
        else:  # -mean log D(G(z))
            loss = tf.reduce_mean(tf.nn.softplus(-logits))
    grads = tape.gradient(loss, g)
    return float(loss), np.concatenate([np.ravel(grad) for grad in grads])
