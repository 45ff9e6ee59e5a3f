"""How gan_lab.grading.plugin records nbval cell outcomes, on small notebooks without TensorFlow.

These kernels run unsandboxed (the sandbox has its own tests): the plugin's records, time limit
and output cap live in the grader's process, whatever runs the kernel.
"""

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


def _run(tmp_path, notebooks, timeout=60):
    """Run {name: cells} notebooks in one nbval process; return the plugin's results by name."""
    paths = []
    for name, cells in notebooks.items():
        (tmp_path / name).mkdir()
        nbformat.write(new_notebook(cells=cells), tmp_path / name / "graded.ipynb")
        paths.append(str(tmp_path / name / "graded.ipynb"))
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    results = tmp_path / "results.json"
    subprocess.run([sys.executable, "-m", "pytest", "-c", str(tmp_path / "pytest.ini"), "-p", "no:cacheprovider",
                    "-p", "gan_lab.grading.plugin", "--nbval", "--nbval-current-env",
                    f"--nbval-cell-timeout={timeout}", f"--gan-lab-results={results}", "-q", *paths],
                    cwd=tmp_path, capture_output=True, timeout=600)
    recorded = json.loads(results.read_text())
    return {name: recorded[str(tmp_path / name / "graded.ipynb")] for name in notebooks}


def _outcomes(tmp_path, cells, timeout=60):
    notebook = _run(tmp_path, {"one": cells}, timeout)["one"]
    assert notebook["done"]
    return {int(k): v for k, v in notebook["cells"].items()}


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


def test_a_cell_that_swallows_the_timeout_interrupt_is_still_a_timeout(tmp_path):
    finishes = "import time\ntry:\n    time.sleep(30)\nexcept KeyboardInterrupt:\n    pass\nprint('done')"
    forever = "import time\nwhile True:\n    try:\n        time.sleep(1)\n    except KeyboardInterrupt:\n        pass"
    outcomes = _outcomes(tmp_path, [_cell(finishes, "done\n"), _cell(forever), _cell('print("x")', "x\n")], timeout=2)
    assert outcomes[0]["result"] == "timeout"  # it printed the expected line, but only after its interrupt
    assert outcomes[1]["result"] == "timeout"  # never stopped: the grader stopped its kernel after the grace time
    assert outcomes[2]["result"] in ("not_run", "skipped")


def test_output_beyond_the_cap_is_cut_whatever_channel_the_kernel_uses(tmp_path):
    flood = ("import sys\nfrom IPython.display import display\n"
             "sys.stdout.write('a' * 300_000)\n"
             "sys.__stdout__.write('b' * 300_000)\n"
             "display({'text/plain': 'c' * 300_000}, raw=True)\n"
             "'d' * 300_000")
    spam = "for _ in range(50_000):\n    print('spam ' * 20)"
    outcomes = _outcomes(tmp_path, [_cell(flood, "short\n"), _cell(spam, "short\n"), _cell('print("ok")', "ok\n")])
    for number in (0, 1):
        assert outcomes[number]["result"] == "differs"
        assert "[output cut by the grader after" in outcomes[number]["message"]
        assert len(outcomes[number]["message"]) <= 400
    assert outcomes[2] == {"result": "passed"}


def test_several_notebooks_in_one_run_are_recorded_apart_and_marked_done(tmp_path):
    results = _run(tmp_path, {"a": [_cell('print("a")', "a\n")], "b": [_cell("1/0")]})
    assert results["a"] == {"cells": {"0": {"result": "passed"}}, "done": True}
    assert results["b"]["done"] and results["b"]["cells"]["0"]["ename"] == "ZeroDivisionError"
