"""gan-lab: scaffolding for a course on generative adversarial networks (Keras 3, TensorFlow)."""

import os
import re
import sys
from contextlib import contextmanager

from gan_lab.xla import resolve_auto_as_on_a_gpu, xla_as_on_a_gpu

# Set before Keras is first imported; an explicit choice by the user always wins.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"

# TensorFlow's C++ start-up lines that report nothing wrong (no GPU here, CPU features, oneDNN,
# CUDA plugins registered twice). Several are printed before absl logging reads
# TF_CPP_MIN_LOG_LEVEL, so no setting hides them all.
_START_UP_NOTICES = re.compile("|".join(map(re.escape, [
    "All log messages before absl::InitializeLog() is called are written to STDERR",
    "Could not find cuda drivers on your machine",
    "failed call to cuInit",
    "This TensorFlow binary is optimized to use available CPU instructions",
    "To enable the following instructions:",
    "oneDNN custom operations are on",
    "Unable to register cuDNN factory",
    "Unable to register cuFFT factory",
    "Unable to register cuBLAS factory",
    "computation placer already registered",
    "TF-TRT Warning: Could not find TensorRT",
])))


def fast_mode() -> bool:
    """Return True when GAN_LAB_FAST asks notebooks and commands to shrink their work."""
    return os.environ.get("GAN_LAB_FAST", "").strip().lower() not in ("", "0", "false", "no")


def in_kernel() -> bool:
    """Return True inside a Jupyter kernel (a notebook), False in a terminal, a script or a command."""
    if "ipykernel" not in sys.modules:  # cheap: the CLI and the grader never pay for an IPython import
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def _without_start_up_notices(text):
    """`text` without the lines that are TensorFlow start-up notices."""
    return "".join(line for line in text.splitlines(keepends=True) if not _START_UP_NOTICES.search(line))


@contextmanager
def filtered_stderr(keep):
    """Point file descriptor 2 at a temporary file during the block, then write `keep(text)` of it to stderr."""
    # C++ libraries such as TensorFlow write to file descriptor 2, not to sys.stderr, and a kernel
    # shows it in red under the cell: only a redirection at the descriptor keeps their lines back.
    import tempfile

    sys.stderr.flush()
    with tempfile.TemporaryFile() as captured:
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()  # Python's own lines of the block go through the filter too
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = keep(captured.read().decode("utf-8", "replace"))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


def _import_tensorflow_quietly():
    """Import TensorFlow and probe its devices with the start-up notices kept out of stderr."""
    with filtered_stderr(_without_start_up_notices):
        try:
            import tensorflow

            tensorflow.config.list_physical_devices()  # the GPU probe (cuInit) logs now, not in a later cell
        except Exception:  # a broken TensorFlow: the notebook's own `import keras` shows the traceback
            pass


def quiet_tensorflow_start():
    """Import TensorFlow now, keeping its start-up notices off stderr unless TF_CPP_MIN_LOG_LEVEL=0."""
    # TF_CPP_MIN_LOG_LEVEL=0 is how a user asks for every TensorFlow line; any other value of theirs is kept.
    asked = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "").strip() == "0"
    if asked or "tensorflow" in sys.modules or os.environ["KERAS_BACKEND"] != "tensorflow":
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")  # INFO lines off; warnings and errors still show
    _import_tensorflow_quietly()


_XLA_AS_ON_A_GPU = xla_as_on_a_gpu()  # GAN_LAB_JIT_COMPILE: read once, a wrong value stops here

# A notebook's first cell imports the kit, then Keras: the notices would show in red under it.
# Elsewhere importing the kit stays cheap (the CLI and the grader import it without TensorFlow),
# unless GAN_LAB_JIT_COMPILE=1 asks for Keras to be changed now.
if in_kernel() or _XLA_AS_ON_A_GPU:
    quiet_tensorflow_start()
if _XLA_AS_ON_A_GPU:
    resolve_auto_as_on_a_gpu()
