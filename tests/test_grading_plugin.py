"""How gan_lab.grading_plugin records nbval cell outcomes, on small notebooks without TensorFlow."""

import json
import subprocess
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output


def _cell(source, printed=None):
    cell = new_code_cell(source)
    if printed is not None:
        cell.outputs, cell.execution_count = [new_output("stream", name="stdout", text=printed)], 1
    return cell


def _outcomes(tmp_path, cells, timeout=60):
    nbformat.write(new_notebook(cells=cells), tmp_path / "graded.ipynb")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    results = tmp_path / "results.json"
    subprocess.run([sys.executable, "-m", "pytest", "-c", str(tmp_path / "pytest.ini"), "-p", "no:cacheprovider",
                    "-p", "gan_lab.grading_plugin", "--nbval", "--nbval-current-env",
                    f"--nbval-cell-timeout={timeout}", f"--gan-lab-results={results}", "-q",
                    str(tmp_path / "graded.ipynb")], cwd=tmp_path, capture_output=True, timeout=300)
    return {int(k): v for k, v in json.loads(results.read_text())["cells"].items()}


def test_passes_differences_errors_and_a_dead_kernel_are_told_apart(tmp_path):
    outcomes = _outcomes(tmp_path, [
        _cell('print("ok")', "ok\n"),
        _cell('print("got")', "expected\n"),
        _cell('raise ValueError("a hint")'),
        _cell("import os\nos._exit(3)"),
        _cell('print("after")', "after\n"),
    ])
    assert outcomes[0] == {"result": "passed"}
    assert outcomes[1] == {"result": "differs", "message": "got", "expected": "expected"}
    assert outcomes[2] == {"result": "error", "ename": "ValueError", "message": "a hint"}
    assert outcomes[3]["result"] == "kernel_died"
    assert outcomes.get(4, {"result": "skipped"})["result"] in ("not_run", "skipped")


def test_a_cell_past_the_timeout_is_stopped_and_the_next_cells_still_run(tmp_path):
    outcomes = _outcomes(tmp_path, [_cell("import time\ntime.sleep(60)"), _cell('print("next")', "next\n")], timeout=3)
    assert outcomes[0]["result"] == "timeout" and "Timeout of 3 seconds" in outcomes[0]["message"]
    assert outcomes[1] == {"result": "passed"}
