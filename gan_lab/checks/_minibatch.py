"""Lab05's minibatch-discrimination check: Salimans et al. (2016)'s features, from a kernel that learns."""

import numpy as np

from ._harness import CheckFailed, Checklist, call_student, student_name, summarize_error, to_numpy

_FEATURES, _KERNELS, _KERNEL_DIM, _BATCH = 4, 5, 3, 6

# The lab sums over the other samples j != i; the paper sums over all j, adding exp(0) = 1 to every
# feature, which the next layer's bias absorbs. A mean divides either sum by its number of terms.
_FORMS = {
    "lab_sum": "the sum over the other samples j != i",
    "lab_mean": "the mean over the other samples j != i",
    "paper_sum": "the paper's sum over all j",
    "paper_mean": "the mean over all j",
}
_MIXED_MEAN = ("a mean divides by the number of samples it sums over: n - 1 for the other samples j != i, "
               "n for the paper's sum over all j.")
_L2 = "use the L1 distance, sum over kernel_dim of |M_i,b - M_j,b|, not the Euclidean norm."
_NO_EXP = "apply exp(-distance) to each distance before summing over the samples."
_ACROSS = ("sample 0's features do not change when the other samples do: compare each sample with the "
           "other samples of the batch (M_i - M_j across the batch axis), not across features or kernels.")
_FALLBACK = ("o(x_i)_b must be the sum (or the mean) over j != i of exp(-||M_i,b - M_j,b||_1), or the paper's "
             "sum over all j, with M = x T reshaped to (batch, num_kernels, kernel_dim).")


def _similarities(x, kernel, norm="l1", exponent=True):
    """c_b(x_i, x_j) for every pair (i, j) and kernel b, M = x T; the options give typical mistakes."""
    m = np.einsum("na,abc->nbc", x, kernel)
    differences = np.abs(m[:, None] - m[None])  # (i, j, kernel, kernel_dim)
    distance = differences.sum(-1) if norm == "l1" else np.sqrt((differences**2).sum(-1))
    return np.exp(-distance) if exponent else distance


def _forms(similarity):
    """Each accepted form of the features, by its key in _FORMS."""
    n = len(similarity)
    total = similarity.sum(axis=1)
    others = total - similarity[np.arange(n), np.arange(n)]
    return {"lab_sum": others, "lab_mean": others / (n - 1), "paper_sum": total, "paper_mean": total / n}


def _mistakes(x, kernel):
    """(features, hint) for each typical mistake, for one kernel layout."""
    forms = _forms(_similarities(x, kernel))
    n = len(x)
    yield from ((value, _MIXED_MEAN) for value in (forms["paper_sum"] / (n - 1), forms["lab_sum"] / n))
    yield from ((value, _L2) for value in _forms(_similarities(x, kernel, norm="l2")).values())
    yield from ((value, _NO_EXP) for value in _forms(_similarities(x, kernel, exponent=False)).values())


def _close(got, expected):
    return np.allclose(got, expected, rtol=1e-3, atol=1e-4)


def _kernel_layouts(values):
    """The kernel as (features, kernels, kernel_dim), for the two ways a student may lay it out."""
    flat = values.reshape(_FEATURES, -1)
    return [flat.reshape(_FEATURES, _KERNELS, _KERNEL_DIM),
            flat.reshape(_FEATURES, _KERNEL_DIM, _KERNELS).transpose(0, 2, 1)]


def _output(layer, x, what):
    """The layer's raw output for x; an error in the student's layer becomes a hint."""
    try:
        return layer(x)
    except CheckFailed:
        raise
    except NotImplementedError:
        raise CheckFailed(f"{what.split('(')[0]} is not written yet: replace `raise NotImplementedError()` "
                          "in build and call with your code.") from None
    except Exception as error:  # noqa: BLE001 - any error in the student's layer becomes a hint
        raise CheckFailed(f"{what} failed on input of shape {tuple(x.shape)}: {summarize_error(error)}") from None


def _call(layer, x, what):
    return to_numpy(_output(layer, x, what), f"the output of {what}")


def _require_input_first(checks, out, x, what):
    """Require the output to be the input followed by one feature per kernel."""
    expected = (_BATCH, _FEATURES + _KERNELS)
    checks.require(
        out.shape == expected,
        f"{what} gave shape {out.shape} for input {x.shape}, expected {expected}: "
        "return the input features followed by one feature per kernel (concatenate on the last axis).",
    )
    checks.require(np.allclose(out[:, :_FEATURES], x, atol=1e-6),
                   f"the first {_FEATURES} columns of {what}'s output must be its input, unchanged.")


def _the_kernel(checks, layer, what):
    """The layer's one trainable kernel T; a kernel that is not trainable gets its own hint."""
    size = _FEATURES * _KERNELS * _KERNEL_DIM
    trainable = [w for w in layer.trainable_weights if int(np.prod(w.shape)) == size]
    frozen = [w for w in layer.non_trainable_weights if int(np.prod(w.shape)) == size]
    message = (
        f"{what}'s kernel T gets no gradient because it is not trainable: create it with self.add_weight "
        "and leave it trainable (no trainable=False, on the weight or on the layer)."
        if frozen and not trainable else
        f"{what} must hold one trainable kernel T with input_features x num_kernels x kernel_dim = {size} "
        "entries, created in build() with self.add_weight."
    )
    checks.require(len(trainable) == 1, message)
    return trainable[0]


def _kernel_gradient(layer, kernel, x, what):
    """The gradient, with respect to the kernel, of a fixed weighting of the layer's minibatch features."""
    import tensorflow as tf

    weighting = tf.constant(np.random.default_rng(3).normal(size=(_BATCH, _KERNELS)), tf.float32)
    with tf.GradientTape() as tape:
        features = tf.convert_to_tensor(_output(layer, tf.constant(x), what))[:, _FEATURES:]
        score = tf.reduce_sum(tf.cast(features, tf.float32) * weighting)
    gradients = tape.gradient(score, layer.trainable_weights)
    gradient = next(g for w, g in zip(layer.trainable_weights, gradients) if w is kernel)
    return None if gradient is None else tf.convert_to_tensor(gradient).numpy()


def _require_kernel_gradient(checks, layer, kernel, x, what):
    """Require that training can change the kernel: a gradient that is not None or all zeros; return it."""
    gradient = _kernel_gradient(layer, kernel, x, what)
    checks.require(gradient is not None and np.any(gradient != 0),
                   f"{what}'s kernel T gets no gradient, so training never changes it: compute the features "
                   "from the weight add_weight returned, with keras.ops (no stop_gradient, .numpy() or copy).")
    return gradient


def _require_finite_gradient(checks, gradient, what):
    """Require a finite kernel gradient (checked after the features, whose hints say more)."""
    checks.require(np.all(np.isfinite(gradient)),
                   f"{what}'s kernel T gets a NaN or infinite gradient: take |M_i,b - M_j,b| with keras.ops.abs, "
                   "not a square root of squares (its gradient at j = i, distance 0, is infinite).")


def _hint(layer, x, got, layouts, what):
    """The hint for wrong minibatch features: the first typical mistake they match."""
    for kernel in layouts:
        for value, hint in _mistakes(x, kernel):
            if _close(got, value):
                return hint
    changed = x.copy()
    changed[1:] = np.random.default_rng(2).normal(size=(len(x) - 1, x.shape[1]))
    if np.allclose(_call(layer, changed, what)[0, _FEATURES:], got[0], atol=1e-6):
        return _ACROSS
    return _FALLBACK


def _matched_form(got, x, layouts):
    """(form, kernel layout) of the accepted form that `got` equals, or None."""
    for kernel in layouts:
        for form, value in _forms(_similarities(x.astype(np.float64), kernel)).items():
            if _close(got, value):
                return form, kernel
    return None


def _require_features(checks, layer, x, layouts, what):
    """Require an accepted form of the features for a known kernel; return (form, kernel layout)."""
    got = _call(layer, x, what)[:, _FEATURES:].astype(np.float64)
    matched = _matched_form(got, x, layouts)
    checks.require(matched is not None, "" if matched else
                   f"the minibatch features of {what} are wrong: {_hint(layer, x, got, layouts, what)}")
    return matched


def _require_identical_samples(checks, layer, x, matched, what):
    """Require the same form for a smaller batch of identical samples, where every c_b is exp(0) = 1."""
    form, kernel = matched
    same = np.repeat(x[:1], 3, axis=0)
    expected = _forms(_similarities(same.astype(np.float64), kernel))[form]
    got = _call(layer, same, what)[:, _FEATURES:]
    checks.require(_close(got, expected),
                   f"3 identical samples got {got[0, 0]:.4g} per kernel from {what}, where {_FORMS[form]} gives "
                   f"{expected[0, 0]:g}: take n from the batch (keras.ops.shape(x)[0]), not a fixed number.")


def _require_in_model(checks, layer_class, x, what):
    """Require the layer to work inside a model, where the batch size is unknown."""
    import keras

    try:
        layer = layer_class(num_kernels=_KERNELS, kernel_dim=_KERNEL_DIM)
        shape = keras.Sequential([keras.Input((_FEATURES,)), layer]).predict(x[:3], verbose=0).shape
    except Exception as error:  # noqa: BLE001
        raise CheckFailed(f"{what} fails inside a model, where the batch size is unknown: use -1 or "
                          f"keras.ops.shape(x)[0] for the batch dimension ({summarize_error(error)})") from None
    checks.require(shape == (3, _FEATURES + _KERNELS), f"inside a model {what} gave shape {shape} for 3 samples.")


def check_minibatch_discrimination(layer_class):
    """Check a MinibatchDiscrimination(num_kernels, kernel_dim) layer: Salimans et al. (2016), learnable T."""
    name = student_name(layer_class, "MinibatchDiscrimination")
    checks = Checklist(name)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(_BATCH, _FEATURES)).astype("float32")
    layer = call_student(name, layer_class, num_kernels=_KERNELS, kernel_dim=_KERNEL_DIM)
    what = f"{name}(num_kernels={_KERNELS}, kernel_dim={_KERNEL_DIM})"
    _require_input_first(checks, _call(layer, x, what), x, what)
    kernel = _the_kernel(checks, layer, what)
    values = (0.3 * rng.normal(size=tuple(kernel.shape))).astype("float32")
    kernel.assign(values)
    # Before the values: a layer computing from a copy of T ignores the assigned values.
    gradient = _require_kernel_gradient(checks, layer, kernel, x, what)
    matched = _require_features(checks, layer, x, _kernel_layouts(values.astype(np.float64)), what)
    _require_finite_gradient(checks, gradient, what)
    _require_identical_samples(checks, layer, x, matched, what)
    _require_in_model(checks, layer_class, x, what)
    checks.passed()
