"""Test-suite settings shared by the unit tests and the notebook (nbval) tests."""

import os

# Anything that trains shrinks its work under the test suite, notebook kernels included.
os.environ.setdefault("GAN_LAB_FAST", "1")

collect_ignore_glob = ["**/.ipynb_checkpoints/*", "labs/*"]
