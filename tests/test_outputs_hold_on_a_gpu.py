"""The solutions' stored outputs hold on a GPU server: nbval passes under XLA and under other CPU kernels.

A GPU lab server differs from a CPU-only machine in two ways that can reach a notebook's outputs:
Keras's `fit` compiles the training step with XLA there (GAN_LAB_JIT_COMPILE=1 does that here), and
its kernels round differently (here: TensorFlow's other family of CPU kernels, oneDNN's when they
are off by default on this CPU, Eigen's when they are on). Each pass runs `gan-lab validate` (a
fresh pytest process running nbval) over a copy of solutions/ in a temporary folder, so the runs/
the notebooks write land there, never beside the solutions. A probe notebook beside the copies,
run in the same nbval process, shows that the difference reached the kernels and that the labs
found their earlier labs in the copy: without it a pass could succeed without testing anything.
Both passes start at once, as two processes, as soon as the tests are collected (tests/conftest.py)
and at low priority: they use the cores the rest of the suite leaves idle instead of making it wait.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"
PASS_TIMEOUT_S = 2400  # both at once took 15 to 17 minutes on 2 cores that others kept busy

IMPORTS = """\
import gan_lab
from pathlib import Path

import keras
import tensorflow as tf

from gan_lab.earlier_labs import earlier_lab"""

EARLIER_LABS_FROM_THE_COPY = """\
lab03 = earlier_lab("lab03")  # runs Lab 03's reference cells, which run Lab 02's and Lab 01's
print("earlier labs come from this folder:", Path(lab03.__file__).parent.resolve() == Path.cwd().resolve())"""

XLA_IN_THE_LABS = """\
gan = lab03.make_gan()
print("Lab 03's GAN trains with jit_compile =", gan.jit_compile,
      "and its generator predicts with jit_compile =", gan.generator.jit_compile)"""

XLA_RAN_THE_STEP = '''\
class OutOfRangeRow(keras.Model):
    """A training step reading row 3 of a 3-row tensor: TensorFlow's CPU kernel refuses, XLA clamps."""

    def train_step(self, data):
        return {"row": tf.gather(tf.constant([1.0, 2.0, 3.0]), 3)}


probe = OutOfRangeRow()
probe.compile()
print("fit's step ran through XLA:", probe.fit(tf.zeros((1, 1)), verbose=0).history["row"] == [3.0])'''

ONEDNN_KERNELS = """\
from tensorflow.python.util._pywrap_util_port import IsMklEnabled

print("oneDNN's kernels:", "on" if IsMklEnabled() else "off")"""


def write_probe(path, cells):
    """Write a notebook of (code, what it must print) cells: nbval fails it if a cell prints otherwise."""
    code_cells = []
    for count, (source, printed) in enumerate(cells, start=1):
        cell = new_code_cell(source, execution_count=count)
        cell.outputs = [new_output("stream", name="stdout", text=printed)] if printed else []
        code_cells.append(cell)
    nbformat.write(new_notebook(cells=code_cells), path)
    return path


def copy_of_solutions(folder):
    """Copy every solution notebook (not runs/ or checkpoints) into `folder`; return the copies."""
    return [Path(shutil.copy2(path, folder)) for path in sorted(SOLUTIONS.glob("*.ipynb"))]


def onednn_on_by_default():
    """Whether TensorFlow uses oneDNN's kernels on this CPU when TF_ENABLE_ONEDNN_OPTS is unset."""
    environment = {name: value for name, value in os.environ.items() if name != "TF_ENABLE_ONEDNN_OPTS"}
    code = "from tensorflow.python.util._pywrap_util_port import IsMklEnabled; print(IsMklEnabled())"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip() == "True"


def start_validation(folder, probe_cells, settings):
    """Start `gan-lab validate` over a probe and copies of the solutions in `folder`, with `settings`.

    A setting of None is removed from the validation's environment.
    """
    notebooks = [write_probe(folder / "gpu_difference_probe.ipynb", probe_cells), *copy_of_solutions(folder)]
    environment = {**os.environ, **settings}
    # nice: the pass yields the CPU to the tests running meanwhile, whose cells have short time limits.
    command = ["nice", "-n", "19", sys.executable, "-m", "gan_lab", "validate", *map(str, notebooks),
               "--pytest-args", "--durations=0"]
    # What it prints goes to a file beside the folder: a pipe nobody reads yet could fill and stall it.
    with folder.with_suffix(".log").open("w") as log:
        validation = subprocess.Popen(command, cwd=folder, stdout=log, stderr=subprocess.STDOUT,
                                      env={name: value for name, value in environment.items() if value is not None},
                                      start_new_session=True)  # its own process group: pytest and kernels stop with it
    validation.log = folder.with_suffix(".log")
    return validation


def stop(validation):
    """Stop a running validation (the command, its pytest and their kernels); return what it printed."""
    with contextlib.suppress(ProcessLookupError):  # it may have ended meanwhile
        os.killpg(validation.pid, signal.SIGKILL)
    validation.wait()
    return validation.log.read_text(errors="replace")


def outcome(validation):
    """(exit code, everything it printed) of a started validation, once it has finished."""
    try:
        validation.wait(timeout=PASS_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"still running after {PASS_TIMEOUT_S} s", stop(validation)
    return validation.returncode, validation.log.read_text(errors="replace")


def start_xla_pass(folder):
    """Start the pass with XLA as on a GPU and this CPU's default kernels; its probe shows XLA ran."""
    return start_validation(folder, [
        (IMPORTS, ""), (EARLIER_LABS_FROM_THE_COPY, "earlier labs come from this folder: True\n"),
        (XLA_IN_THE_LABS, "Lab 03's GAN trains with jit_compile = True and its generator predicts with "
                          "jit_compile = True\n"),
        (XLA_RAN_THE_STEP, "fit's step ran through XLA: True\n"),
    ], {"GAN_LAB_JIT_COMPILE": "1", "TF_ENABLE_ONEDNN_OPTS": None})


def start_kernels_pass(folder):
    """Start the pass with the CPU kernels this machine does not use by default, without XLA."""
    onednn = "off" if onednn_on_by_default() else "on"
    return start_validation(folder, [
        (IMPORTS, ""), (EARLIER_LABS_FROM_THE_COPY, "earlier labs come from this folder: True\n"),
        (ONEDNN_KERNELS, f"oneDNN's kernels: {onednn}\n"),
    ], {"GAN_LAB_JIT_COMPILE": "0", "TF_ENABLE_ONEDNN_OPTS": "1" if onednn == "on" else "0"})


_STARTED = pytest.StashKey()


def start_passes(config):
    """Start both passes together in a fresh folder; `passes` finds them, and they stop with the session."""
    root = Path(tempfile.mkdtemp(prefix="gan-lab-gpu-passes-"))
    folders = {name: root / name for name in ("xla", "kernels")}
    for folder in folders.values():
        folder.mkdir()
    started = {"xla": (folders["xla"], start_xla_pass(folders["xla"])),
               "kernels": (folders["kernels"], start_kernels_pass(folders["kernels"]))}
    config.stash[_STARTED] = started

    def clean_up():
        for _, validation in started.values():
            if validation.poll() is None:  # a test stopped early, or the session was interrupted
                stop(validation)
        shutil.rmtree(root, ignore_errors=True)
    config.add_cleanup(clean_up)


@pytest.fixture(scope="module")
def passes(request):
    """Both passes as {name: (folder, process)}: each uses the core the other leaves."""
    if _STARTED not in request.config.stash:  # tests/conftest.py starts them earlier
        start_passes(request.config)
    return request.config.stash[_STARTED]


def assert_passed(folder, validation):
    """Assert that nbval passed every notebook, and that the notebooks wrote their runs/ in the copy."""
    code, printed = outcome(validation)
    assert code == 0, printed
    assert (folder / "runs").is_dir(), printed


def test_every_solution_keeps_its_outputs_under_xla_as_on_a_gpu(passes):
    assert_passed(*passes["xla"])


def test_every_solution_keeps_its_outputs_with_the_other_cpu_kernels(passes):
    assert_passed(*passes["kernels"])
