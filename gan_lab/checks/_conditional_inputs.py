"""Running a conditional model as the lab calls it, model([noise or images, labels]), for its outputs.

When the call fails, the model is probed with other forms of input to say which one it takes. The
checks give models out-of-range labels and inputs of other forms on purpose, and TensorFlow logs each
rejection on file descriptor 2, which a kernel shows in red under the check's cell: every call here
keeps those notices back.
"""

import re
from contextlib import contextmanager

import numpy as np

from gan_lab import filtered_stderr

from ._harness import CheckFailed, summarize_error, to_numpy
from ._models import require_output_batch

CATEGORIES = (
    "class ids are categories, not amounts: feed them to layers.Embedding(num_classes, size) or "
    "keras.ops.one_hot(labels, num_classes)"
)
_INT_LABELS = "int32 class ids of shape (batch,), keras.Input(shape=(), dtype='int32')"

# TensorFlow's log lines for an op that rejected its inputs, e.g. "W0000 00:00:1.5 12
# local_rendezvous.cc:412] Local rendezvous is aborting with status: INVALID_ARGUMENT: indices[0] =
# 35 is not in [0, 32)"; inside a tf.function, lines starting with a tab ("\t [[{{node ...}}]]") follow.
_REJECTED = re.compile(r"[IWEF]\d{4} [^\]]*\] .*INVALID_ARGUMENT")


def _without_rejection_notices(text):
    """`text` without TensorFlow's notices of inputs an op rejected, and their indented lines."""
    kept, dropping = [], False
    for line in text.splitlines(keepends=True):
        dropping = bool(_REJECTED.match(line)) or (dropping and line.startswith("\t"))
        if not dropping:
            kept.append(line)
    return "".join(kept)


def quiet_probe():
    """A context keeping TensorFlow's notices of rejected inputs off stderr; other lines still show."""
    return filtered_stderr(_without_rejection_notices)


def call_conditional(model, first, labels, dtype="int32"):
    """model([first, labels]) in inference mode, with the labels as `dtype`, its rejections kept quiet."""
    import tensorflow as tf

    with quiet_probe():
        return model([tf.constant(first), tf.constant(labels, dtype)], training=False)


def _works(model, first, labels, dtype="int32"):
    try:
        to_numpy(call_conditional(model, first, labels, dtype), "output")
    except Exception:  # noqa: BLE001 - only whether it runs matters here
        return False
    return True


def _diagnose(model, first, labels, first_name, classes, fallback):
    """Why `model` fails on int labels of shape (batch,): the form of its inputs that it does take."""
    import tensorflow as tf

    if labels.max() >= 10 and _works(model, first, labels % 10):
        return (f"it fails on labels 10 and above although num_classes={classes}: size "
                "layers.Embedding(num_classes, ...) or keras.ops.one_hot(labels, num_classes) with "
                "num_classes, not a fixed 10.")
    for inputs, hint in (
        (([tf.constant(labels), tf.constant(first)],),
         f"it takes its inputs the other way round: the lab calls it as model([{first_name}, labels]), "
         f"{first_name} first."),
        ((tf.constant(first), tf.constant(labels)),
         f"it takes {first_name} and labels as two arguments, but the lab calls it with one list, "
         f"model([{first_name}, labels]): write call(self, inputs, training=False) and unpack "
         f"{first_name}, labels = inputs."),
    ):
        try:
            with quiet_probe():
                model(*inputs, training=False)
            return hint
        except Exception:  # noqa: BLE001
            pass
    if _works(model, first, labels, "float32"):
        return f"it works only with float labels, but the lab passes {_INT_LABELS}; {CATEGORIES}."
    if _works(model, first, labels[:, None]):
        return f"it works only with labels of shape (batch, 1), but the lab passes {_INT_LABELS}."
    if _works(model, first, np.eye(classes, dtype="float32")[labels], "float32"):
        return (f"it expects one-hot labels, but the lab passes {_INT_LABELS}: one-hot or embed them "
                "inside the model, keras.ops.one_hot(labels, num_classes) or "
                "layers.Embedding(num_classes, size).")
    return fallback


def conditional_outputs(model, first, labels, what, first_name, classes, fallback):
    """Run model([first, labels]) in inference mode and return NumPy outputs, or fail with a hint."""
    try:
        outputs = call_conditional(model, first, labels)
    except Exception as error:  # noqa: BLE001 - any error in the student's model becomes a hint
        raise CheckFailed(
            f"{what} failed on {first_name} of shape {first.shape} and int32 labels of shape "
            f"{labels.shape}: {_diagnose(model, first, labels, first_name, classes, fallback)}\n"
            f"({summarize_error(error)})"
        ) from None
    return to_numpy(outputs, f"the output of {what}")


@contextmanager
def changed_weights(model, change):
    """Give each trainable weight w of `model` the value change(w, index) for a while."""
    import keras

    variables = list(model.trainable_variables)
    saved = [keras.ops.convert_to_numpy(v) for v in variables]
    try:
        for index, (variable, value) in enumerate(zip(variables, saved)):
            variable.assign(np.asarray(change(value, index), dtype=value.dtype))
        yield
    finally:
        for variable, value in zip(variables, saved):
            variable.assign(value)


def require_float32(checks, outputs, what):
    """Require finite float32 outputs (or the compute dtype of a mixed precision policy)."""
    import keras

    allowed = outputs.dtype.name in {"float32", keras.mixed_precision.global_policy().compute_dtype}
    checks.require(
        allowed and np.all(np.isfinite(outputs)),
        f"{what} must return finite float32 values, got dtype {outputs.dtype}"
        f"{' with inf or nan' if allowed else ''}.",
    )


def require_batch_follows(checks, model, first, labels, tail, what, first_name, classes):
    """Require that the output batch size follows the inputs', for batches of 1 and 3."""

    def outputs_for(size):
        return conditional_outputs(model, first[:size], labels[:size], what, first_name, classes,
                                   "do not hard-code the batch size.")

    require_output_batch(checks, outputs_for, tail, what)
