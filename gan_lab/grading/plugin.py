"""pytest plugin for `gan-lab grade`: run nbval's kernels in sandboxes and record how each cell ended.

The grader runs `pytest --nbval -p gan_lab.grading.plugin --gan-lab-results FILE [--gan-lab-sandboxes
FILE] a.ipynb b.ipynb ...` and reads the results afterwards: {notebook path: {"cells": {code-cell
number: outcome}, "done": bool}}. An outcome is {"result": "passed"} or {"result": "error" |
"timeout" | "differs" | "kernel_died" | "not_run", "message": ...}. The file is rewritten each time
a notebook is done (its kernel stopped), so a run cut short keeps the notebooks it finished. The
sandboxes file maps each notebook's folder to the gan_lab.grading.sandbox JSON of its kernel.

Everything here runs in the grader's process, outside the sandbox: the time limit and the output
cap count what the grader sees, whatever the student's code does with the interrupt or its streams.
"""

import json
import time
from queue import Empty

import pytest

from gan_lab.notebook_io import write_atomically  # first: it also keeps nbformat's import fast for nbval
from gan_lab.grading import GRACE_S

OUTPUT_LIMIT = 100_000  # characters of output (streams, display data, results) kept per cell
_MESSAGE_LIMIT = 400
_OUTPUTS = ("stream", "display_data", "execute_result", "update_display_data", "error", "clear_output")
_settings = {"timeout": 2000.0}


def pytest_addoption(parser):
    """Add --gan-lab-results FILE and --gan-lab-sandboxes FILE."""
    parser.addoption("--gan-lab-results", help="where gan-lab grade's plugin writes cell outcomes")
    parser.addoption("--gan-lab-sandboxes", help="JSON file: notebook folder -> its kernel's sandbox")


def _size(content):
    return len(json.dumps(content, default=str))


def _cut_notice(message):
    text = f"\n[output cut by the grader after {OUTPUT_LIMIT} characters]\n"
    return {**message, "msg_type": "stream", "content": {"name": "stdout", "text": text}}


def _patch_kernel():
    """Wrap nbval's RunningKernel: notice dead kernels, time cells out for good, cap what a cell prints."""
    from nbval.kernel import RunningKernel

    if getattr(RunningKernel, "gan_lab_patched", False):
        return
    await_reply, get_message, execute = (RunningKernel.await_reply, RunningKernel.get_message,
                                         RunningKernel.execute_cell_input)

    def execute_cell_input(self, cell_input, allow_stdin=None):
        msg_id = execute(self, cell_input, allow_stdin=allow_stdin)
        self.gan_lab_cell = {"msg_id": msg_id, "start": time.monotonic(), "size": 0, "cut": False}
        return msg_id

    def await_reply_watching(self, msg_id, timeout=None):
        # Poll in short steps so that a dead kernel is noticed within a second, not after the timeout.
        deadline = None if timeout is None else time.monotonic() + float(timeout)
        while True:
            wait = 1.0 if deadline is None else max(0.01, min(1.0, deadline - time.monotonic()))
            try:
                return await_reply(self, msg_id, timeout=wait)
            except Empty:
                if not self.is_alive():
                    self.gan_lab_died = True
                    raise
                if deadline is not None and time.monotonic() >= deadline:
                    self.gan_lab_timeouts = getattr(self, "gan_lab_timeouts", 0) + 1
                    raise

    def get_message_capped(self, stream, timeout=None):
        cell = getattr(self, "gan_lab_cell", None)
        while True:
            if cell and stream == "iopub" and time.monotonic() > cell["start"] + _settings["timeout"] + GRACE_S:
                self.gan_lab_timeouts = getattr(self, "gan_lab_timeouts", 0) + 1
                raise Empty  # the cell ignored its interrupt: nbval stops the kernel
            message = get_message(self, stream, timeout=timeout)
            if not cell or stream != "iopub" or message["parent_header"].get("msg_id") != cell["msg_id"] \
                    or message["msg_type"] not in _OUTPUTS:
                return message
            cell["size"] += _size(message["content"])
            if cell["size"] <= OUTPUT_LIMIT:
                return message
            if message["msg_type"] == "error":  # keep the error, without its (maybe huge) traceback
                content = message["content"]
                return {**message, "content": {"ename": str(content.get("ename", ""))[:100],
                                               "evalue": str(content.get("evalue", ""))[:_MESSAGE_LIMIT],
                                               "traceback": []}}
            if not cell["cut"]:
                cell["cut"] = True
                return _cut_notice(message)

    RunningKernel.execute_cell_input = execute_cell_input
    RunningKernel.await_reply = await_reply_watching
    RunningKernel.get_message = get_message_capped
    RunningKernel.gan_lab_patched = True


def _sandbox_kernels(path):
    """Make nbval start each notebook's kernel inside the sandbox the file at `path` gives its folder."""
    import nbval.kernel

    from gan_lab.grading.sandbox import Sandbox, start_kernel

    with open(path, encoding="utf-8") as file:
        sandboxes = {folder: Sandbox.from_json(text) for folder, text in json.load(file).items()}

    def start_new_kernel(cwd=None, **kwargs):
        return start_kernel(sandboxes[cwd], **kwargs)  # no sandbox, no kernel: a KeyError fails the notebook

    nbval.kernel.start_new_kernel = start_new_kernel


def pytest_configure(config):
    """Start recording when --gan-lab-results is given; sandbox the kernel when --gan-lab-sandbox is."""
    if config.getoption("gan_lab_results"):
        _settings["timeout"] = float(config.getoption("nbval_cell_timeout", 2000))
        _patch_kernel()
        config.gan_lab_notebooks = {}
    if config.getoption("gan_lab_sandboxes"):
        _sandbox_kernels(config.getoption("gan_lab_sandboxes"))


def _short(text):
    text = " ".join(str(text).split())
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 3] + "..."


def _printed(outputs):
    return "".join(output.get("text", "") for output in outputs or [] if output.get("output_type") == "stream")


def _outcome(item, report, call, timed_out):
    kernel = getattr(item.parent, "kernel", None)
    message = str(call.excinfo.value) if call.excinfo else ""
    if timed_out:
        return {"result": "timeout", "message": f"Timeout of {_settings['timeout']:g} seconds exceeded while "
                "executing the cell"}
    if report.passed:
        return {"result": "passed"}
    if kernel is not None and getattr(kernel, "gan_lab_died", False) and not item.parent.gan_lab_death_seen:
        item.parent.gan_lab_death_seen = True
        return {"result": "kernel_died", "message": "the kernel died while this cell ran"}
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
    kernel = getattr(item.parent, "kernel", None)
    timeouts_before = getattr(item, "gan_lab_timeouts_before", 0)
    outcome = yield
    report = outcome.get_result()
    record = _record(item)
    if record is None:
        return
    if report.when == "setup":
        item.gan_lab_timeouts_before = getattr(kernel, "gan_lab_timeouts", 0)
        if report.failed and call.excinfo is not None:  # e.g. the kernel (or its sandbox) did not start
            record.setdefault("error", _short(call.excinfo.value))
        return
    if report.when != "call":
        return
    if not hasattr(item.parent, "gan_lab_death_seen"):
        item.parent.gan_lab_death_seen = False
    timed_out = getattr(kernel, "gan_lab_timeouts", 0) > timeouts_before
    if report.skipped and not timed_out:
        record["cells"][item.cell_num] = {"result": "skipped"}
    else:
        record["cells"][item.cell_num] = _outcome(item, report, call, timed_out)


def _record(item):
    """The results record of the item's notebook, or None when the item is no recorded nbval cell."""
    notebooks = getattr(item.config, "gan_lab_notebooks", None)
    if notebooks is None or not hasattr(item, "cell_num"):
        return None
    return notebooks.setdefault(str(item.parent.fspath), {"cells": {}, "done": False})


def _save(config):
    write_atomically(config.getoption("gan_lab_results"), json.dumps(getattr(config, "gan_lab_notebooks", {})))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a notebook's last cell (and its kernel's shutdown), mark it done and save the results."""
    yield
    record = _record(item)
    if record is not None and (nextitem is None or nextitem.parent is not item.parent):
        record["done"] = True
        _save(item.config)


def pytest_sessionfinish(session):
    """Write the recorded outcomes to the --gan-lab-results file."""
    if session.config.getoption("gan_lab_results"):
        _save(session.config)
