"""Tests for gan_lab/__init__.py: `import gan_lab` keeps TensorFlow's start-up lines out of notebook cells.

They run cells in real Jupyter kernels, as a student's notebook does. The last test checks the test
suite's own set-up (conftest.py): kernels started inside the kit write into a scratch folder.
"""

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import nbclient
import nbformat
import pytest

from gan_lab import _without_start_up_notices
from gan_lab.authoring.validation import current_env_kernel_manager

ROOT = Path(__file__).resolve().parent.parent

# What TensorFlow 2.21 printed under the first cell of a lab on a CPU-only machine (oneDNN: elsewhere).
ABSL_WARNING = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
NO_CUDA = ("I0000 00:00:1796001307.458771   17337 cudart_stub.cc:31] Could not find cuda drivers on your "
           "machine, GPU will not be used.\n")
CUINIT = ("E0000 00:00:1796001322.299355   17416 cuda_platform.cc:52] failed call to cuInit: INTERNAL: "
          "CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)\n")
START_UP_LINES = ABSL_WARNING + NO_CUDA + CUINIT + (
    "I0000 00:00:1796001308.063645   17337 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to "
    "use available CPU instructions in performance-critical operations.\n"
    "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with the "
    "appropriate compiler flags.\n"
    "I0000 00:00:1796001308.1   17337 util.cc:1] oneDNN custom operations are on. You may see slightly "
    "different numerical results due to floating-point round-off errors from different computation orders. "
    "To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.\n")
REAL_ERROR = "E0000 00:00:1.0   1 op_kernel.cc:1] OUT_OF_RANGE: a real error\n"


def run_cells(sources, folder):
    """Run code cells in a fresh kernel started in `folder`; return each cell's (stdout, stderr)."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    # ipykernel shows what C++ code writes on file descriptor 2 under the cell, as students see it,
    # except when it believes it runs under pytest.
    environment = {name: value for name, value in os.environ.items() if name != "PYTEST_CURRENT_TEST"}
    nbclient.NotebookClient(notebook, km=current_env_kernel_manager(), timeout=300,
                            resources={"metadata": {"path": str(folder)}}).execute(env=environment)
    return [tuple("".join(out.text for out in cell.outputs if out.get("name") == name)
                  for name in ("stdout", "stderr")) for cell in notebook.cells]


def test_the_filter_drops_every_start_up_notice_and_keeps_other_lines():
    assert _without_start_up_notices(START_UP_LINES + REAL_ERROR + START_UP_LINES) == REAL_ERROR


def environment_with(**settings):
    """This process's environment with `settings` changed; a setting of None is removed."""
    changed = {**os.environ, **settings}
    return {name: value for name, value in changed.items() if value is not None}


def test_importing_the_kit_outside_a_kernel_does_not_import_tensorflow():
    result = subprocess.run([sys.executable, "-c", "import gan_lab, sys; print('tensorflow' in sys.modules)"],
                            capture_output=True, text=True, timeout=120,
                            env=environment_with(GAN_LAB_JIT_COMPILE=None))
    assert result.stdout == "False\n" and result.stderr == ""


def test_a_first_cell_importing_gan_lab_and_keras_shows_nothing_on_stderr(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    first, later = run_cells([
        "import gan_lab\nimport keras",
        "import os, time\nos.write(2, b'a real error after start-up\\n')\ntime.sleep(0.5)",
    ], tmp_path)
    assert first == ("", "")
    assert later[1] == "a real error after start-up\n"


def fake_tensorflow(folder):
    """A `tensorflow` package that prints start-up notices and one real error on file descriptor 2."""
    package = folder / "fake" / "tensorflow"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(f"""\
        import os
        os.write(2, {(ABSL_WARNING + NO_CUDA + REAL_ERROR).encode()!r})

        class config:
            probed = False

            @classmethod
            def list_physical_devices(cls):
                if not cls.probed:  # as in TensorFlow, only the first probe of the GPU logs
                    os.write(2, {CUINIT.encode()!r})
                    cls.probed = True
                return []
        """))
    return folder / "fake"


@pytest.mark.parametrize("level, shown_level, everything",
                         [(None, "1", False), ("3", "3", False), ("0", "0", True)])
def test_only_real_errors_reach_the_cell_unless_the_user_asks_for_every_line(
        tmp_path, monkeypatch, level, shown_level, everything):
    if level is None:
        monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    else:
        monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", level)
    [(stdout, stderr)] = run_cells([
        f"import sys\nsys.path.insert(0, {str(fake_tensorflow(tmp_path))!r})\n"
        "import gan_lab\nimport tensorflow\ntensorflow.config.list_physical_devices()\n"
        "import os, time\nprint(os.environ['TF_CPP_MIN_LOG_LEVEL'])\ntime.sleep(0.5)",
    ], tmp_path)
    assert stdout == f"{shown_level}\n"
    if everything:
        assert all(line in stderr for line in (ABSL_WARNING, NO_CUDA, REAL_ERROR, CUINIT))
    else:
        assert stderr == REAL_ERROR


def test_a_notebook_kernel_started_inside_the_kit_writes_into_a_scratch_folder():
    probe = f"probe-{uuid.uuid4().hex}"
    [(stdout, _)] = run_cells([
        "from pathlib import Path\n"
        f"Path('runs/{probe}').mkdir(parents=True)\n"
        "print(Path.cwd().resolve())\n"
        "print(sorted(path.name for path in Path().glob('lab*.ipynb')))",
    ], ROOT / "solutions")
    folder, notebooks = stdout.splitlines()
    assert not (ROOT / "solutions" / "runs" / probe).exists()
    assert (Path(folder) / "runs" / probe).is_dir() and not Path(folder).is_relative_to(ROOT)
    assert notebooks == str(sorted(path.name for path in (ROOT / "solutions").glob("lab*.ipynb")))


# Prints, for models whose jit_compile Keras decides ("auto"): a compiled model's, an uncompiled
# model's (its predict), then one compiled with an explicit jit_compile=False; and whether a GPU is here.
JIT_COMPILE_DECISIONS = """\
import gan_lab
import keras
import tensorflow as tf


def model():
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])


compiled, uncompiled, explicit = model(), model(), model()
compiled.compile(loss="mse")
explicit.compile(loss="mse", jit_compile=False)
gpu = bool(tf.config.list_physical_devices("GPU"))
print(compiled.jit_compile, uncompiled.jit_compile, explicit.jit_compile, gpu)
"""


def jit_compile_decisions(setting):
    """Run JIT_COMPILE_DECISIONS in a fresh Python with GAN_LAB_JIT_COMPILE=`setting` (None: unset)."""
    result = subprocess.run([sys.executable, "-c", JIT_COMPILE_DECISIONS], capture_output=True, text=True,
                            timeout=300, env=environment_with(GAN_LAB_JIT_COMPILE=setting))
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_gan_lab_jit_compile_1_turns_xla_on_as_on_a_gpu_and_keeps_an_explicit_choice():
    assert jit_compile_decisions("1")[:3] == ["True", "True", "False"]


@pytest.mark.parametrize("setting", [None, "0"])
def test_without_gan_lab_jit_compile_keras_turns_xla_on_only_on_a_gpu(setting):
    compiled, uncompiled, explicit, gpu = jit_compile_decisions(setting)
    assert compiled == uncompiled == gpu and explicit == "False"


@pytest.mark.parametrize("value", ["yes", "2"])
def test_another_value_of_gan_lab_jit_compile_stops_the_import_with_one_line_naming_what_is_accepted(value):
    result = subprocess.run([sys.executable, "-c", "import gan_lab"], capture_output=True, text=True,
                            timeout=120, env=environment_with(GAN_LAB_JIT_COMPILE=value))
    assert result.returncode != 0
    assert result.stderr.splitlines()[-1] == (
        f"gan_lab.xla.SettingError: GAN_LAB_JIT_COMPILE must be 1 (XLA on, as on a GPU) or 0 or unset "
        f"(Keras decides), got {value!r}")
