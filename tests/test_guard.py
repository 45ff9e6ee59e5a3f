"""The unsandboxed kernel's confinement (gan_lab.grading.guard), exercised in a separate Python process."""

import json
import subprocess
import sys

import pytest

PROBE = """
import json, os, subprocess, sys
from gan_lab.grading.guard import install
work, private = sys.argv[1], sys.argv[2]
install(work, [private])
results = {}
def attempt(name, action):
    try:
        action()
        results[name] = "allowed"
    except PermissionError as error:
        results[name] = "refused: " + str(error)
attempt("read_private", lambda: open(os.path.join(private, "secret.txt")).read())
attempt("list_private", lambda: os.listdir(private))
attempt("write_in_work", lambda: open("mine.txt", "w").write("ok"))
attempt("write_outside", lambda: open(os.path.join(work, "..", "outside.txt"), "w").write("no"))
attempt("delete_outside", lambda: os.remove(os.path.join(private, "secret.txt")))
attempt("rename_into_work", lambda: os.rename(os.path.join(private, "secret.txt"), "stolen.txt"))
attempt("subprocess", lambda: subprocess.run(["true"]))
attempt("signal_parent", lambda: os.kill(os.getppid(), 0))
attempt("chdir", lambda: os.chdir("/"))
attempt("read_elsewhere", lambda: open(os.devnull).read())
import tempfile
results["temporary_folder"] = os.path.dirname(tempfile.NamedTemporaryFile(delete=False).name)
sys.__stderr__.write(json.dumps({"cwd": os.getcwd(), **results}))
"""


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    root = tmp_path_factory.mktemp("guard")
    (root / "private").mkdir()
    (root / "private" / "secret.txt").write_text("the answers")
    run = subprocess.run([sys.executable, "-c", PROBE, str(root / "work"), str(root / "private")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    return root, json.loads(run.stderr.strip().splitlines()[-1]), run.stdout


def test_private_paths_cannot_be_read_or_listed(probe):
    _, results, _ = probe
    assert results["read_private"].startswith("refused: gan-lab grade: reading")
    assert results["list_private"].startswith("refused: gan-lab grade: reading")


def test_files_can_be_written_only_inside_the_work_folder(probe):
    root, results, _ = probe
    assert results["write_in_work"] == "allowed" and (root / "work" / "mine.txt").read_text() == "ok"
    assert results["write_outside"].startswith("refused: gan-lab grade: changing")
    assert not (root / "outside.txt").exists()


def test_private_files_cannot_be_deleted_or_moved(probe):
    root, results, _ = probe
    assert results["delete_outside"].startswith("refused")
    assert results["rename_into_work"].startswith("refused")
    assert (root / "private" / "secret.txt").read_text() == "the answers"


def test_processes_and_signals_to_others_are_refused(probe):
    _, results, _ = probe
    assert results["subprocess"] == "refused: gan-lab grade: subprocess.Popen is not allowed while grading"
    assert results["signal_parent"] == "refused: gan-lab grade: os.kill is not allowed while grading"


def test_temporary_files_go_to_the_work_folder(probe):
    root, results, _ = probe
    assert results["temporary_folder"] == str(root / "work")


def test_changing_directory_and_ordinary_reads_stay_allowed(probe):
    _, results, _ = probe
    assert results["chdir"] == results["read_elsewhere"] == "allowed"
    assert results["cwd"] == "/"
