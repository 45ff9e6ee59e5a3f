"""The machinery shared by every check: CheckFailed, calling student code safely, the success line."""

import re

import numpy as np

_MAX_MESSAGE = 400


class CheckFailed(AssertionError):
    """A check found a mistake; the message says what is wrong and how to fix it."""

    def _render_traceback_(self):
        # IPython calls this instead of printing a traceback: the student sees the hint alone.
        return [f"CheckFailed: {self}"]


def fail(message):
    """Raise CheckFailed with `message` (one or two lines: what is wrong, then the fix)."""
    raise CheckFailed(message)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _first_lines(text, limit=_MAX_MESSAGE):
    # Keras wraps errors in "Exception encountered when calling ..." and "Arguments received
    # by ...": keep only the lines that say what went wrong.
    lines = [line.strip() for line in _ANSI.sub("", str(text)).strip().splitlines()]
    kept = []
    for line in lines:
        if line.startswith("Arguments received by"):
            break
        if line and not line.startswith("Exception encountered when calling"):
            kept.append(line)
    text = " ".join(kept[:3])
    return text if len(text) <= limit else text[: limit - 3] + "..."


def call_student(name, fn, *args, **kwargs):
    """Call the student's `fn`, turning any exception it raises into a one-line CheckFailed."""
    shown = ", ".join([_describe(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
    try:
        return fn(*args, **kwargs)
    except CheckFailed:
        raise
    except NotImplementedError:
        raise CheckFailed(
            f"{name} is not written yet: replace `raise NotImplementedError()` with your code."
        ) from None
    except Exception as error:  # noqa: BLE001 - any error in student code becomes a hint
        raise CheckFailed(
            f"{name}({shown}) raised {type(error).__name__}: {_first_lines(error)}"
        ) from None


def _describe(value):
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"<tensor of shape {tuple(shape)}>"
    return repr(value)


def to_numpy(value, what):
    """Convert a tensor or array returned by student code to a NumPy array, or fail naming `what`."""
    if value is None:
        raise CheckFailed(f"{what} is None: did you forget a `return` statement?")
    try:
        import keras

        array = np.asarray(keras.ops.convert_to_numpy(value))
    except Exception:  # noqa: BLE001
        array = None
    if array is None or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise CheckFailed(f"{what} must be a tensor or array, got {type(value).__name__}.")
    return array


class Checklist:
    """Counts the checks a check function ran and prints the one stable success line."""

    def __init__(self, name):
        self.name = name
        self.count = 0

    def require(self, condition, message):
        """Count one check; raise CheckFailed(message) when `condition` is false."""
        self.count += 1
        if not condition:
            fail(message)

    def passed(self):
        """Print '<name>: all N checks passed'."""
        print(f"{self.name}: all {self.count} checks passed")


def judge_eagerly(name, *judges):
    """Run each judge(checks) with tf.functions run eagerly, then print the success line of `name`.

    Eager, so that a recording sees values even where the student used tf.function; the setting is
    put back as it was, after a failure too.
    """
    import tensorflow as tf

    checks = Checklist(name)
    eager = tf.config.functions_run_eagerly()
    tf.config.run_functions_eagerly(True)
    try:
        for judge in judges:
            judge(checks)
    finally:
        tf.config.run_functions_eagerly(eager)
    checks.passed()


def summarize_error(error, limit=160):
    """Return 'ExceptionName: first meaningful line' for an exception, cut to `limit` characters."""
    return f"{type(error).__name__}: {_first_lines(error, limit)}"


def student_name(fn, default):
    """Return the name of the student's function, or `default` when it has none (e.g. a lambda)."""
    name = getattr(fn, "__name__", "")
    return name if name.isidentifier() else default
