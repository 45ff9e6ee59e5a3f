"""gan-lab: scaffolding for a course on generative adversarial networks (Keras 3, TensorFlow)."""

import os

# Set before Keras is first imported; an explicit choice by the user always wins.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"


def fast_mode() -> bool:
    """Return True when GAN_LAB_FAST asks notebooks and commands to shrink their work."""
    return os.environ.get("GAN_LAB_FAST", "").strip().lower() not in ("", "0", "false", "no")
