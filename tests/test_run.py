"""Running grading notebooks (gan_lab.grading.run): batches, short socket paths, an interrupted grader."""

import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grading_helpers import SOLUTIONS, submission, write

from gan_lab.grading.run import _batches, progress_line
from gan_lab.grading.sandbox import UID_BASE, short_temporary_folder


def test_the_progress_line_fills_with_the_share_done_and_shows_no_control_characters():
    assert progress_line(3, 6, "alice", width=10).startswith("\rgrading [#####     ] 3/6 alice")
    assert "\x1b" not in progress_line(1, 2, "eve\x1b[2J")


def test_batches_share_a_process_but_keep_every_worker_busy():
    assert [len(batch) for batch in _batches(list(range(30)), 2)] == [8, 8, 8, 6]
    assert [len(batch) for batch in _batches(list(range(3)), 2)] == [1, 1, 1]
    assert [len(batch) for batch in _batches(list(range(5)), 1)] == [3, 2]
    assert _batches([], 2) == []


def _running_as(uids):
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            uid = int(next(line for line in status.read_text().splitlines() if line.startswith("Uid:")).split()[1])
        except (OSError, StopIteration, ValueError):
            continue
        if uid in uids:
            found.append(uid)
    return found


def _wait_for_a_finished_notebook(scratch, grader, deadline):
    """Poll the grader's results files until one notebook is done (or the grader ends)."""
    while time.monotonic() < deadline and grader.poll() is None:
        for results in scratch.glob("gan-lab-grade-*/results.json"):
            try:
                if any(notebook.get("done") for notebook in json.loads(results.read_text()).values()):
                    return True
            except (OSError, ValueError):
                pass
        time.sleep(0.3)
    return False


def test_an_interrupted_grader_keeps_what_it_graded_marks_the_rest_and_cleans_up(tmp_path):
    folder, scratch = tmp_path / "class", Path(tempfile.mkdtemp(prefix="gl-", dir="/tmp"))  # short: see below
    folder.mkdir()
    loop = {"sample_noise": lambda s: s.replace("    return keras", "    while True:\n        pass\n    return keras")}
    write(folder, "a_alice", submission())
    write(folder, "b_bob", submission(change=loop))  # stuck when the interrupt comes
    write(folder, "c_carol", submission())  # in the next batch: never started
    grader = subprocess.Popen(
        [sys.executable, "-m", "gan_lab", "grade", str(folder), "--lab", "lab01", "--out", str(tmp_path / "grades"),
         "--jobs", "1", "--cell-timeout", "300", "--solutions", str(SOLUTIONS)],
        env={**os.environ, "TMPDIR": str(scratch)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert _wait_for_a_finished_notebook(scratch, grader, time.monotonic() + 240)
    time.sleep(2)  # bob's kernel is running his endless loop now
    grader.send_signal(signal.SIGINT)
    stdout, stderr = grader.communicate(timeout=120)
    assert grader.returncode == 0, stderr[-2000:]
    assert "SIGINT received: stopping; the students graded so far are kept" in stderr
    with open(tmp_path / "grades" / "gradebook.csv", newline="") as file:
        rows = {row[0]: row[1:5] for row in csv.reader(file)}
    assert rows["a_alice"] == ["1", "1", "2", "graded"]
    assert rows["b_bob"][3] == rows["c_carol"][3] == "not_graded"
    assert "interrupted: 2 submission(s) not graded" in stdout
    assert list(scratch.iterdir()) == []  # every temporary folder, hidden tests included, is gone
    scratch.rmdir()
    assert _running_as({UID_BASE + 1, UID_BASE + 2, UID_BASE + 3}) == []  # the class's kernels are all gone


def test_temporary_folders_stay_short_enough_for_the_kernels_sockets(tmp_path, monkeypatch):
    deep = tmp_path / ("x" * 60)
    deep.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(deep))
    folder = short_temporary_folder("gan-lab-grade-")
    try:
        assert folder.parent == Path("/tmp") and len(str(folder / "student10/kernel/kernel-ipc-65535")) < 107
    finally:
        folder.rmdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path.parent))
    if len(str(tmp_path.parent)) <= 40:
        folder = short_temporary_folder("x-")
        assert folder.parent == tmp_path.parent
        folder.rmdir()
