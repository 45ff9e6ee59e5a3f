"""pytest plugin for `gan-lab grade`: record how each nbval cell of a grading notebook ended.

The grader runs `pytest --nbval -p gan_lab.grading_plugin --gan-lab-results FILE notebook.ipynb`
and reads FILE afterwards: {"cells": {code-cell number: outcome}}. An outcome is {"result":
"passed"} or {"result": "error" | "timeout" | "differs" | "kernel_died" | "not_run", "message": ...}.
The file is written when the session ends, after the kernel has stopped, so the student's code
cannot leave a forged one behind.
"""

import json
import time
from queue import Empty

import pytest

_MESSAGE_LIMIT = 400


def pytest_addoption(parser):
    """Add --gan-lab-results FILE."""
    parser.addoption("--gan-lab-results", help="where gan-lab grade's plugin writes cell outcomes")


def _watch_for_kernel_death():
    """Make nbval notice a dead kernel within a second instead of after the cell timeout."""
    from nbval.kernel import RunningKernel

    original = RunningKernel.await_reply
    if getattr(original, "gan_lab_patched", False):
        return

    def await_reply(self, msg_id, timeout=None):
        deadline = None if timeout is None else time.monotonic() + float(timeout)
        while True:
            wait = 1.0 if deadline is None else max(0.01, min(1.0, deadline - time.monotonic()))
            try:
                return original(self, msg_id, timeout=wait)
            except Empty:
                if not self.is_alive():
                    self.gan_lab_died = True
                    raise
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    await_reply.gan_lab_patched = True
    RunningKernel.await_reply = await_reply


def pytest_configure(config):
    """Start recording when --gan-lab-results is given."""
    if config.getoption("gan_lab_results"):
        _watch_for_kernel_death()
        config.gan_lab_cells = {}


def _short(text):
    text = " ".join(str(text).split())
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 3] + "..."


def _printed(outputs):
    return "".join(output.get("text", "") for output in outputs or [] if output.get("output_type") == "stream")


def _outcome(item, report, call):
    if report.passed:
        return {"result": "passed"}
    kernel = getattr(item.parent, "kernel", None)
    if kernel is not None and getattr(kernel, "gan_lab_died", False) and not item.parent.gan_lab_death_seen:
        item.parent.gan_lab_death_seen = True
        return {"result": "kernel_died", "message": "the kernel died while this cell ran"}
    message = str(call.excinfo.value) if call.excinfo else ""
    if message.startswith("Timeout"):
        return {"result": "timeout", "message": _short(message)}
    if "Kernel dead" in message or (kernel is not None and not kernel.is_alive()):
        return {"result": "not_run", "message": "not run: the kernel had died or been stopped"}
    errors = [out for out in item.test_outputs or [] if out.get("output_type") == "error"]
    if errors:
        return {"result": "error", "ename": errors[-1]["ename"], "message": _short(errors[-1]["evalue"])}
    if message.startswith("Cell outputs differ"):
        return {"result": "differs", "message": _short(_printed(item.test_outputs)),
                "expected": _short(_printed(item.cell.outputs))}
    return {"result": "error", "ename": "", "message": _short(message)}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Record the outcome of each nbval cell's run."""
    outcome = yield
    report = outcome.get_result()
    cells = getattr(item.config, "gan_lab_cells", None)
    if cells is None or not hasattr(item, "cell_num") or report.when != "call":
        return
    if not hasattr(item.parent, "gan_lab_death_seen"):
        item.parent.gan_lab_death_seen = False
    cells[item.cell_num] = {"result": "skipped"} if report.skipped else _outcome(item, report, call)


def pytest_sessionfinish(session):
    """Write the recorded outcomes to the --gan-lab-results file."""
    path = session.config.getoption("gan_lab_results")
    if path:
        with open(path, "w", encoding="utf-8") as file:
            json.dump({"cells": session.config.gan_lab_cells}, file)
