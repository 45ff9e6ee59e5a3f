"""Tests for gan_lab.authoring.validation: the nbval settings and the notebook re-runner."""

import re
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output
from nbval.plugin import get_sanitize_patterns

from gan_lab.authoring import validation


def sanitise(text):
    patterns = get_sanitize_patterns(validation.SANITIZE_FILE.read_text())
    for regex, replacement in patterns:
        text = re.sub(regex, replacement, text)
    return text


@pytest.mark.parametrize("varying, stable", [
    ("1/1 ━━━━━━━━━━━━━━━━━━━━ 0s 51ms/step", "1/1 PROGRESS DURATION DURATION"),
    ("<Model at 0x7f3a2b9c1d30>", "<Model at 0xADDRESS>"),
    ("epoch took 12.5 s", "epoch took DURATION"),
])
def test_sanitiser_hides_what_varies_between_runs(varying, stable):
    assert sanitise(varying) == stable


@pytest.mark.parametrize("text", ["output shape: (2, 28, 28, 1)", "693,784 parameters",
                                  "build_generator: all 8 checks passed", "gradient 0.010"])
def test_sanitiser_leaves_shapes_counts_and_check_lines_alone(text):
    assert sanitise(text) == text


def notebook_with_stored_output(path, code, stdout):
    cell = new_code_cell(code, execution_count=1)
    cell.outputs = [new_output("stream", name="stdout", text=stdout)]
    path.write_text(nbformat.writes(new_notebook(cells=[cell])))
    return path


def run_validate(path):
    command = [sys.executable, "-m", "gan_lab", "validate", str(path), "--pytest-args", "-q"]
    return subprocess.run(command, capture_output=True, text=True, cwd=path.parent, timeout=300)


def test_validate_passes_when_stdout_matches_and_ignores_stderr(tmp_path):
    code = "import sys\nprint('stable line')\nprint('device chatter', file=sys.stderr)"
    result = run_validate(notebook_with_stored_output(tmp_path / "good.ipynb", code, "stable line\n"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_validate_fails_when_a_compared_output_changes(tmp_path):
    result = run_validate(notebook_with_stored_output(tmp_path / "bad.ipynb", "print('new')", "old\n"))
    assert result.returncode != 0


def test_validate_runs_kernels_in_fast_mode(tmp_path):
    code = "import os\nprint(os.environ.get('GAN_LAB_FAST'))"
    result = run_validate(notebook_with_stored_output(tmp_path / "fast.ipynb", code, "1\n"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_execute_in_place_stores_fresh_outputs_without_stderr(tmp_path):
    path = notebook_with_stored_output(
        tmp_path / "run.ipynb", "import sys\nprint(6 * 7)\nprint('noise', file=sys.stderr)", "stale\n")
    validation.execute_in_place(path)
    cell = nbformat.read(path, as_version=4).cells[0]
    assert [(out["name"], out["text"]) for out in cell.outputs] == [("stdout", "42\n")]
    assert cell.execution_count == 1 and "execution" not in cell.metadata


def test_execute_in_place_leaves_the_notebook_untouched_when_a_cell_fails(tmp_path):
    path = notebook_with_stored_output(tmp_path / "broken.ipynb", "1 / 0", "kept\n")
    before = path.read_bytes()
    with pytest.raises(RuntimeError, match="nothing was written"):
        validation.execute_in_place(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("printed, shown", [
    ("\r 1/3 ━ 0.5\b\b\b\r 2/3 ━━ 0.4\b\b\r 3/3 ━━━ 0.3\n", " 3/3 ━━━ 0.3\n"),
    ("done\r", "done"),
    ("plain line\nsecond\n", "plain line\nsecond\n"),
])
def test_final_terminal_text_keeps_the_last_redraw_of_each_line(printed, shown):
    assert validation.final_terminal_text(printed) == shown
