"""End to end: `gan-lab grade` on a Lab01 class of honest, broken and hostile submissions.

One class is graded once (2 at a time, short cell timeout) by the real CLI with its bubblewrap
sandbox. Besides the honest cases, hostile answers (tests/hostile_submissions.py) try to read the
solution and other students' work through folder descriptors or a walk of `/`, change files outside
the sandbox, start a shell, a spawned child and a detached process that would rewrite the gradebook,
reach listeners on 127.0.0.1, kill every pid they can name, fake or bypass the checks from inside
the kernel, flood the output, ignore the timeout interrupt and grab 7 GiB. Each attack is paired
with an answer whose points show whether it worked; the files, the processes left, the listeners
and every gradebook row are checked after the run. A control runs the file, process and network
attacks unconfined against decoys, to show they do work when nothing stops them. Smaller runs cover
--no-sandbox, a missing bwrap and regrading.
"""

import csv
import hashlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import hostile_submissions as hostile
from gan_lab.grading.grade import find_lab
from gan_lab.grading.notebook import TAMPERED
from gan_lab.grading.run import Grader, GradingSettings
from gan_lab.grading.sandbox import UID_BASE
from gan_lab.grading.submissions import Submission
from gan_lab.notebook_io import graded_cells
from grading_helpers import SOLUTIONS, digests, reference, submission, without_cells, without_markers, write

CELL_TIMEOUT_S = 20
KIT = SOLUTIONS.parent
BASHRC = Path("/root/.bashrc")
SUCCESS = {"check_sample_noise": "sample_noise: all 11 checks passed",
           "check_build_generator": "build_generator: all 12 checks passed"}
HEADER = ["student", "check_sample_noise", "check_build_generator", "total", "status", "notes"]
DETACHED_POLL_S = 0.5  # how often the detached process looks for the gradebook
FLOOD = 20_000_000  # characters the flooder prints, and displays twice
SIGNAL_S = 17  # how long the signaller keeps killing (under the cell timeout)
FORMULA_ID = "=cmd|' calc'!A0"


def _answer(grade_id):
    cell = next(c for c in reference().cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return without_markers(cell.source)


NOISE, GENERATOR = _answer("sample_noise"), _answer("build_generator")
UNIFORM_NOISE = NOISE.replace("keras.random.normal", "keras.random.uniform")  # fails check_sample_noise
SIGMOID_GENERATOR = GENERATOR.replace('"tanh"', '"sigmoid"')  # fails check_build_generator
UNIFORM = {"sample_noise": lambda source: source.replace("keras.random.normal", "keras.random.uniform")}


class Review:
    """An expected row known up to its notes: exact points, total and status, and note fragments."""

    def __init__(self, points, *fragments, status="review"):
        self.row, self.fragments = f"{points},{status}", fragments

    def matches(self, row):
        """Whether a gradebook row (without the student) has these points and status and notes."""
        return row.startswith(self.row + ",") and all(fragment in row for fragment in self.fragments)

    def __repr__(self):
        return f"<{self.row},... with {list(self.fragments)}>"


def _matches(expected, row):
    return expected.matches(row) if isinstance(expected, Review) else row == expected


def _answers(noise=None, generator=None):
    """A full Lab01 submission with the given answer sources (None: the correct answer)."""
    change = {}
    if noise is not None:
        change["sample_noise"] = lambda _: noise
    if generator is not None:
        change["build_generator"] = lambda _: generator
    return submission(change=change)


def _honest_cases(folder, outside):
    """The original cases (honest, broken, and the simple hostile ones): (notebook, expected row)."""
    vandal = f"""import os, shutil
for _target in [{str(folder)!r}, {str(SOLUTIONS)!r}]:
    for _folder, _, _files in os.walk(_target):
        for _name in _files:
            try:
                open(os.path.join(_folder, _name), "w").write("vandalised")
            except OSError:
                pass
    try:
        shutil.rmtree(_target)
    except OSError:
        pass
for _path in [{str(folder / 'bob.ipynb')!r}, {str(outside)!r}]:
    try:
        open(_path, "w").write("vandalised")
    except OSError:
        pass
"""
    thief = """import json, pathlib, gan_lab
_stolen = pathlib.Path(gan_lab.__file__).resolve().parent.parent / "solutions" / "lab01_generator.ipynb"
_cells = json.loads(_stolen.read_text())["cells"]
exec("".join(_cells[4]["source"]).replace("### BEGIN SOLUTION", "").replace("### END SOLUTION", ""))
"""
    patcher = """import gan_lab.checks, gan_lab.checks._harness
def _always_pass(*args, **kwargs):
    print("sample_noise: all 11 checks passed")
gan_lab.checks.check_sample_noise = _always_pass
gan_lab.checks._harness.Checklist.require = lambda self, condition, message: None
check_sample_noise = _always_pass
"""
    loop = {"sample_noise": lambda s: s.replace("    return keras", "    while True:\n        pass\n    return keras")}
    edited = submission(change={**UNIFORM,
                                "check_sample_noise": lambda s: 'print("sample_noise: all 11 checks passed")'})
    return {
        "bob": (submission(change=UNIFORM), "0,1,1,graded,"),
        "carl": (submission(change={"build_generator": lambda s: s.replace('"tanh"', '"sigmoid"')}), "1,0,1,graded,"),
        "dana": (submission(change={"build_generator": lambda s: s.replace("latent_dim=100):", "latent_dim=100)")}),
                 "1,0,1,graded,answer build_generator has a syntax error (line 1: expected ':')"),
        "erin": (without_cells(submission(), {"sample_noise", "build_generator"}),
                 "0,0,0,graded,no answer cell for sample_noise; no answer cell for build_generator"),
        "fred": (submission(change=loop), "0,1,1,timeout,"),
        "gina": (submission(change={"build_generator": lambda s: "import os\nos._exit(1)\n" + s}),
                 "1,0,1,kernel_died,"),
        "hugo": (submission(change={"sample_noise":
                                    lambda s: s + "\nfor _ in range(200_000):\n    print('spam ' * 50)\n"}),
                 "1,1,2,graded,"),
        "iris": (submission(change={"sample_noise": lambda s: "import os\nos.chdir('/')\n" + s}), "1,1,2,graded,"),
        "jack": (submission(change={"sample_noise": lambda s: vandal + s}),
                 Review("1,1,2", "answer sample_noise, line 1: import shutil (file tree changes)")),
        "kate": (submission(change={"sample_noise": lambda s: patcher + s.replace("normal", "uniform")}),
                 Review("0,1,1", "gan_lab.checks.check_sample_noise (patching the checks)")),
        "liam": (submission(change={"sample_noise": lambda s: thief}), Review("0,1,1", "exec() (dynamic code)")),
        "mona": (without_cells(edited, {"check_build_generator"}),
                 "0,1,1,graded,check cell check_sample_noise was edited; the official one was graded; "
                 "check cell check_build_generator was deleted or lost its metadata; the official one was graded"),
        "omar": (submission("lab02_discriminator"), "0,0,0,wrong_lab,this is a lab02_discriminator notebook"),
    }


def _hostile_cases(paths, ports):
    """Each attack as (notebook, expected row); `paths` and `ports` name what they attack."""
    solution_folder, first, folder, out = SOLUTIONS, paths["first"], paths["class"], paths["out"]
    appends = [(KIT, "README.md"), (folder, "bob.ipynb")] + ([(BASHRC.parent, BASHRC.name)] if BASHRC.exists() else [])
    wrong_generator = f"check_build_generator: {TAMPERED}"
    return {
        # Reads and writes through folder descriptors, and a walk of the whole visible tree.
        "fd_thief": (_answers(noise=hostile.dir_fd_thief(
            [(solution_folder, "lab01_generator.ipynb"), (first, "alice.ipynb")], out, "sample_noise",
            UNIFORM_NOISE)), Review("0,1,1", "with dir_fd (descriptor-relative file access)")),
        "fd_vandal": (_answers(noise=hostile.dir_fd_vandal_prefix(
            appends, creates=[(out, "planted.txt"), (folder, "planted.ipynb")],
            unlinks=[(KIT / "labs", "lab02_discriminator.ipynb")]) + NOISE),
            Review("1,1,2", "with dir_fd (descriptor-relative file access)")),
        "walker": (_answers(noise=hostile.walking_thief("lab01_generator.ipynb", "sample_noise", UNIFORM_NOISE)),
                   Review("0,1,1", "exec() (dynamic code)")),
        # Processes: a shell from fork_exec, a spawned child, a detached gradebook forger.
        "forker": (_answers(noise=hostile.fork_exec_thief(
            SOLUTIONS / "lab01_generator.ipynb", [KIT / "README.md"], "sample_noise", UNIFORM_NOISE)),
            Review("0,1,1", "import _posixsubprocess (new processes)")),
        "spawner": (_answers(noise=hostile.spawn_thief(
            SOLUTIONS / "lab01_generator.ipynb", [KIT / "README.md"], "sample_noise", UNIFORM_NOISE)),
            Review("0,1,1", "import multiprocessing (new processes)")),
        "detacher": (_answers(noise=hostile.detached_rewriter_prefix(
            out / "gradebook.csv", "detacher", "detacher,1,1,2,graded,", poll_s=DETACHED_POLL_S) + UNIFORM_NOISE),
            Review("0,1,1", "import subprocess (new processes)")),
        # Network and signals.
        "netter": (_answers(noise=hostile.network_prefix("127.0.0.1", ports["udp"], ports["tcp"], ports["zmq"])
                            + NOISE), Review("1,1,2", "import socket (network access)")),
        "killer": (_answers(noise=hostile.signal_everyone_prefix([os.getpid()], SIGNAL_S) + NOISE),
                   Review("1,1,2", "os.kill (signals)")),
        # In-process tricks, each with a wrong generator: genuine checking gives 0 for it.
        "meta_faker": (_answers(generator=hostile.fake_checks_module_prefix(SUCCESS) + SIGMOID_GENERATOR),
                       Review("1,0,1", wrong_generator, "sys.meta_path (import machinery)")),
        "transformer": (_answers(generator=hostile.input_transformer_prefix(
            "check_build_generator(build_generator)", SUCCESS["check_build_generator"]) + SIGMOID_GENERATOR),
            Review("1,0,1", "input_transformers_post (IPython hooks)")),
        "custom_exc": (_answers(generator=hostile.custom_exc_prefix(SUCCESS["check_build_generator"])
                                + SIGMOID_GENERATOR),
                       Review("1,0,1", wrong_generator, "set_custom_exc (IPython hooks)")),
        # The same two tricks made thorough: any exception swallowed, every trace of the fake removed.
        "custom_exc_any": (_answers(generator=hostile.custom_exc_prefix(SUCCESS["check_build_generator"], "Exception")
                                    + SIGMOID_GENERATOR), Review("1,0,1", "set_custom_exc (IPython hooks)")),
        "meta_forger": (_answers(generator=hostile.forged_checks_module_prefix(SUCCESS) + SIGMOID_GENERATOR),
                        Review("1,0,1", "sys.meta_path (import machinery)")),
        "frame_patcher": (_answers(generator=hostile.frame_patcher_prefix(
            "check_build_generator", SUCCESS["check_build_generator"]) + SIGMOID_GENERATOR),
            Review("1,0,1", "sys._getframe (frame access)")),
        # Limits: output, the timeout interrupt, memory.
        "flooder": (_answers(noise=hostile.output_flood_prefix(FLOOD) + NOISE),
                    Review("1,1,2", "sys.stdout._stream (stream tampering)")),
        # It keeps looping through every interrupt: a timeout, and its kernel is stopped (so 0 for the rest).
        "stubborn": (_answers(noise=hostile.interrupt_ignoring_answer("sample_noise", "batch_size, latent_dim")),
                     "0,0,0,timeout,"),
        "hog": (_answers(generator=hostile.memory_hog(7, GENERATOR, SIGMOID_GENERATOR)), "1,1,2,graded,"),
    }


def _listeners():
    """A UDP socket and two TCP listeners on 127.0.0.1 (plain TCP and ZeroMQ targets), non-blocking."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    tcp, zmq = (socket.create_server(("127.0.0.1", 0)) for _ in range(2))
    for listener in (udp, tcp, zmq):
        listener.setblocking(False)
    return {"udp": udp, "tcp": tcp, "zmq": zmq}


def _received(listeners):
    """What reached each listener: datagrams on the UDP one, accepted connections on the TCP ones."""
    got = {}
    for name, listener in listeners.items():
        try:
            got[name] = listener.recv(4096) if name == "udp" else listener.accept()[1]
        except BlockingIOError:
            got[name] = None
        listener.close()
    return got


def _protected_files(paths, out_files):
    """SHA-256 of every file that no kernel may change, by absolute path: the submissions, the
    instructor's `out_files` in --out, the solution and lab notebooks, the kit's README, ~/.bashrc."""
    files = {}
    for folder in (paths["first"], paths["class"], paths["odd"], paths["rita"]):
        files.update({str(folder / name): digest for name, digest in digests(folder).items()})
    files.update({str(paths["out"] / name): digest for name, digest in digests(paths["out"]).items()
                  if name in out_files})
    for folder in (SOLUTIONS, KIT / "labs"):  # notebooks only: nbval runs of the solutions write runs/ there
        files.update({str(folder / name): digest for name, digest in digests(folder).items()
                      if name.endswith(".ipynb")})
    for path in (KIT / "README.md", BASHRC):
        if path.is_file():
            files[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


class _UidWatch(threading.Thread):
    """Samples which sandbox uids have processes, every 0.2 s, until stop()."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples, self._done = [], threading.Event()

    def run(self):
        while not self._done.wait(0.2):
            self.samples.append({uid for uid, _, _ in _sandbox_processes()})

    def stop(self):
        self._done.set()
        self.join()

    def beside(self, uid):
        """The other sandbox uids seen running at the same time as `uid`."""
        return set().union(*(sample for sample in self.samples if uid in sample)) - {uid}


def _sandbox_processes():
    """(uid, pid, command line) of every process running as a sandbox uid."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            uid = int(re.search(r"^Uid:\s+(\d+)", (entry / "status").read_text(), re.MULTILINE)[1])
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, TypeError):
            continue
        if uid >= UID_BASE:
            found.append((uid, int(entry.name), command.strip()))
    return found


def _build_class(root, ports):
    """Write every submission under root; return (the grade command's paths, expected rows)."""
    paths = {name: root / name for name in ("first", "class", "odd", "rita", "out")}
    for folder in paths.values():
        folder.mkdir()
    # The instructor's own files in --out: an answer key that a thief listing --out would run.
    (paths["out"] / "answer_key.py").write_text(NOISE + "\n", encoding="utf-8")
    # first/: the signaller and two honest students; the test watches which kernels really ran beside it.
    bare = submission()
    for cell in bare.cells:
        cell.metadata.pop("nbgrader", None)
    hostile_cases = _hostile_cases(paths, ports)
    firsts = {
        "alice": (submission(), "1,1,2,graded,"),
        "killer": hostile_cases.pop("killer"),
        "nina": (bare, "1,1,2,graded,answer sample_noise found by the function it defines; answer build_generator "
                 "found by the function it defines; check cell check_sample_noise was deleted or lost its metadata; "
                 "the official one was graded; check cell check_build_generator was deleted or lost its metadata; "
                 "the official one was graded"),
    }
    cases = {**_honest_cases(paths["class"], root / "outside.txt"), **hostile_cases}
    for folder, group in ((paths["first"], firsts), (paths["class"], cases)):
        for student, (notebook, _) in group.items():
            write(folder, student, notebook)
    expected = {student: row for group in (firsts, cases) for student, (_, row) in group.items()}
    folder = paths["class"]
    (folder / "pete.ipynb").write_text('{"cells": [', encoding="utf-8")
    (folder / "quin.ipynb").write_text(json.dumps({"nbformat": 99, "nbformat_minor": 0, "cells": []}),
                                       encoding="utf-8")
    expected["pete"] = "0,0,0,unreadable,pete.ipynb: not a notebook: invalid JSON (line 1: Expecting value)"
    expected["quin"] = ("0,0,0,unreadable,quin.ipynb: nbformat 99 cannot be read (the kit reads nbformat 4, and 3 "
                        "by conversion): open it in Jupyter and save it again")
    # Links to the solution: as a class member, inside a student folder, and as an argument.
    solution = SOLUTIONS / "lab01_generator.ipynb"
    (folder / "sam.ipynb").symlink_to(solution)
    (folder / "tom").mkdir()
    (folder / "tom" / "lab01_generator.ipynb").symlink_to(solution)
    (root / "linked.ipynb").symlink_to(solution)
    link = "is a symbolic link; the grader does not follow links: hand in the notebook file itself"
    expected["sam"] = f"0,0,0,unreadable,sam.ipynb {link}"
    expected["tom"] = f"0,0,0,unreadable,tom/lab01_generator.ipynb {link}"
    expected["linked"] = f"0,0,0,unreadable,linked.ipynb {link}"
    # Gradebook: an empty student folder, a folder without a notebook, a formula-like student id.
    (folder / "uma").mkdir()
    expected["uma"] = f"0,0,0,no_notebook,no notebook found in {folder / 'uma'}"
    (paths["rita"] / "README.txt").write_text("my notebook is on my laptop\n")
    expected["rita"] = f"0,0,0,no_notebook,no notebook found in {paths['rita']}"
    formula = paths["odd"] / f"{FORMULA_ID}.ipynb"
    formula.write_text('{"cells": [', encoding="utf-8")
    # Both cells that start with = get a leading ': the id and the note naming the file.
    expected[FORMULA_ID] = (f"0,0,0,unreadable,'{FORMULA_ID}.ipynb: not a notebook: invalid JSON "
                            "(line 1: Expecting value)")
    arguments = [paths["first"], folder, formula, paths["rita"], root / "linked.ipynb"]
    return paths, [str(path) for path in arguments], expected


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade the whole class once (2 at a time); record everything the tests look at, then and there."""
    root = tmp_path_factory.mktemp("grading")
    listeners = _listeners()
    ports = {name: listener.getsockname()[1] for name, listener in listeners.items()}
    paths, arguments, expected = _build_class(root, ports)
    out_before = sorted(os.listdir(paths["out"]))
    before = _protected_files(paths, out_before)
    watch = _UidWatch()
    watch.start()
    start = time.monotonic()
    try:
        run = subprocess.run(
            [sys.executable, "-m", "gan_lab", "grade", *arguments, "--lab", "lab01", "--out", str(paths["out"]),
             "--jobs", "2", "--cell-timeout", str(CELL_TIMEOUT_S), "--solutions", str(SOLUTIONS)],
            capture_output=True, text=True, timeout=1200,
        )
    finally:
        seconds = time.monotonic() - start
        watch.stop()
    time.sleep(4 * DETACHED_POLL_S)  # long enough for a surviving detached process to rewrite the gradebook
    gradebook = paths["out"] / "gradebook.csv"
    text = gradebook.read_text(encoding="utf-8") if gradebook.exists() else ""
    feedback = paths["out"] / "feedback"
    return {
        "paths": paths, "expected": expected, "run": run, "seconds": seconds, "before": before,
        "after": _protected_files(paths, out_before), "out_before": out_before,
        "out_after": sorted(os.listdir(paths["out"])), "watch": watch,
        "processes": _sandbox_processes(), "received": _received(listeners), "gradebook": text,
        "rows": list(csv.reader(io.StringIO(text))),
        "feedback": {path.name: path.read_text(encoding="utf-8") for path in sorted(feedback.glob("*.md"))},
    }


def _row(graded, student):
    """A student's gradebook row as text without the id (the id as the CSV shows it)."""
    rows = {row[0]: ",".join(row[1:]) for row in graded["rows"][1:]}
    return rows.get(("'" + student) if student.startswith("=") else student)


def _failure_report(graded):
    return (f"\ngradebook (graded in {graded['seconds']:.0f} s):\n{graded['gradebook']}\n"
            f"stderr (end):\n{graded['run'].stderr[-3000:]}")


HONEST = ["alice", "bob", "carl", "dana", "erin", "fred", "gina", "hugo", "iris", "mona", "nina", "omar", "pete",
          "quin", "rita", "uma", "sam", "tom", "linked", FORMULA_ID]
HOSTILE = ["jack", "kate", "liam", "fd_thief", "fd_vandal", "walker", "forker", "spawner", "detacher",
           "netter", "killer", "meta_faker", "transformer", "custom_exc", "frame_patcher", "custom_exc_any",
           "meta_forger", "flooder", "stubborn", "hog"]


def test_grade_exits_zero_and_prints_a_summary_table(graded):
    run = graded["run"]
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.splitlines()[0].split() == HEADER[:-1]
    count = len(graded["expected"])
    assert "grading [" in run.stderr and f"{count}/{count}" in run.stderr


def test_gradebook_is_complete_with_one_row_per_student(graded):
    assert graded["rows"][0] == HEADER
    students = [row[0] for row in graded["rows"][1:]]
    shown = sorted(("'" + student) if student.startswith("=") else student for student in graded["expected"])
    assert sorted(students) == shown, _failure_report(graded)


@pytest.mark.parametrize("student", HONEST)
def test_honest_broken_and_unreadable_submissions_get_their_exact_row(graded, student):
    assert _row(graded, student) == graded["expected"][student], _failure_report(graded)


@pytest.mark.parametrize("student", HOSTILE)
def test_each_attack_gains_nothing_and_gets_its_row_with_the_review_notes(graded, student):
    expected = graded["expected"][student]
    row = _row(graded, student)
    assert row is not None and _matches(expected, row), \
        f"{student}: expected {expected!r}, got {row!r}\nfeedback:\n" \
        f"{graded['feedback'].get(student + '.md', '')}{_failure_report(graded)}"


def test_no_file_outside_the_sandboxes_changed(graded):
    before, after = graded["before"], graded["after"]
    changed = sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))
    marked = [path for path in changed if Path(path).is_file() and b"vandalised" in Path(path).read_bytes()]
    assert not changed, f"changed: {changed}; of these, holding the attackers' 'vandalised': {marked}"
    assert str(KIT / "labs" / "lab02_discriminator.ipynb") in after
    assert not (graded["paths"]["class"].parent / "outside.txt").exists()


def test_the_output_folder_gains_only_the_gradebook_and_feedback(graded):
    assert graded["out_after"] == sorted([*graded["out_before"], "feedback", "gradebook.csv"])
    names = sorted(name.removesuffix(".md") for name in graded["feedback"])
    assert names == sorted(re.sub(r"[^A-Za-z0-9._-]", "_", student) for student in graded["expected"])


def test_no_sandboxed_process_outlives_the_grading(graded):
    assert graded["processes"] == []


def test_a_detached_process_cannot_rewrite_the_gradebook(graded):
    assert "detacher,0,1,1,review," in graded["gradebook"]
    assert "detacher,1,1,2,graded," not in graded["gradebook"]


def test_listeners_on_the_host_loopback_receive_nothing(graded):
    assert graded["received"] == {"udp": None, "tcp": None, "zmq": None}


def test_students_graded_while_the_signaller_ran_keep_their_marks(graded):
    """The gradebook keeps the submission order, and student n's kernel runs as UID_BASE + 1 + n."""
    uids = {row[0]: UID_BASE + 1 + index for index, row in enumerate(graded["rows"][1:])}
    beside = sorted(student for student, uid in uids.items() if uid in graded["watch"].beside(uids["killer"]))
    assert beside, "no other kernel ran while the signaller's did"
    assert _row(graded, "killer").startswith("1,1,2,review,"), _failure_report(graded)
    wrong = {student: _row(graded, student) for student in beside
             if not _matches(graded["expected"][student], _row(graded, student))}
    assert not wrong, f"graded beside the signaller: {beside}; wrong rows: {wrong}"


def test_stolen_answers_are_never_found(graded):
    """Each thief falls back to uniform noise when its theft fails: the check's hint shows it ran."""
    for student in ("fd_thief", "walker", "forker", "spawner"):
        text = graded["feedback"][f"{student}.md"]
        assert "| check_sample_noise | 0 / 1 | failed: CheckFailed: all values from sample_noise are >= 0" in text, text
        assert "| check_build_generator | 1 / 1 | passed |" in text


def test_in_process_tricks_do_not_pass_a_wrong_generator(graded):
    for student in ("meta_faker", "transformer", "custom_exc", "frame_patcher", "custom_exc_any", "meta_forger"):
        text = graded["feedback"][f"{student}.md"]
        assert "| check_sample_noise | 1 / 1 | passed |" in text
        assert "| check_build_generator | 0 / 1 | failed: " in text, text


def test_a_replaced_checks_module_is_reported_as_tampering(graded):
    assert f"check_build_generator: {TAMPERED}" in _row(graded, "meta_faker")


def test_flooded_output_is_cut_and_the_results_stay_small(graded):
    assert _row(graded, "flooder").startswith("1,1,2,review,")
    assert len(graded["gradebook"]) < 20_000
    assert max(len(text) for text in graded["feedback"].values()) < 10_000


def test_a_function_that_swallows_the_timeout_interrupt_still_times_out(graded):
    text = graded["feedback"]["stubborn.md"]
    assert f"| check_sample_noise | 0 / 1 | failed: Timeout of {CELL_TIMEOUT_S} seconds exceeded" in text
    assert "| check_build_generator | 0 / 1 |" in text


def test_seven_gibibytes_cannot_be_filled_and_the_other_exercise_is_judged(graded):
    text = graded["feedback"]["hog.md"]
    assert "| check_sample_noise | 1 / 1 | passed |" in text
    assert "| check_build_generator | 1 / 1 | passed |" in text


def test_symlinked_submissions_are_unreadable_with_a_note_naming_the_link(graded):
    for student, link in (("sam", "sam.ipynb"), ("tom", "tom/lab01_generator.ipynb"), ("linked", "linked.ipynb")):
        assert _row(graded, student).startswith(f"0,0,0,unreadable,{link} is a symbolic link")


def test_a_formula_like_student_id_is_quoted_in_the_csv(graded):
    lines = [line for line in graded["gradebook"].splitlines() if "calc" in line]
    assert len(lines) == 1 and lines[0].startswith(f"'{FORMULA_ID},0,0,0,unreadable,'{FORMULA_ID}.ipynb:")


def test_feedback_gives_the_check_hint_not_a_traceback(graded):
    text = graded["feedback"]["bob.md"]
    assert "| check_sample_noise | 0 / 1 | failed: CheckFailed: all values from sample_noise are >= 0" in text
    assert "| check_build_generator | 1 / 1 | passed |" in text
    assert "Traceback" not in text and "File \"" not in text


def test_feedback_explains_timeouts_and_the_dead_kernel(graded):
    assert f"Timeout of {CELL_TIMEOUT_S} seconds exceeded" in graded["feedback"]["fred.md"]
    assert "not run: the kernel died in an earlier cell" in graded["feedback"]["gina.md"]


def _decoy_notebook(answer):
    """A notebook whose sample_noise answer cell holds `answer` between the solution markers."""
    cell = {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": "sample_noise", "solution": True}},
            "source": ["### BEGIN SOLUTION\n", answer, "\n### END SOLUTION"], "outputs": [], "execution_count": None}
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def _unconfined(source):
    """What `source` leaves sample_noise(1, 1) returning, run in a plain Python process."""
    run = subprocess.run([sys.executable, "-c", source + "\nprint('ANSWER', sample_noise(1, 1))"],
                         capture_output=True, text=True, timeout=120)
    return run.stdout.split("ANSWER ")[-1].strip() if "ANSWER " in run.stdout else run.stderr[-1000:]


def test_the_file_process_and_network_attacks_work_when_nothing_confines_them(tmp_path):
    """A control for the class run: unconfined, against decoys, the same code steals, writes and connects."""
    fallback = "def sample_noise(a, b):\n    return 'fallback'\n"
    solutions, out, kit, labs, gradebook = (tmp_path / name for name in ("solutions", "out", "kit", "kit/labs",
                                                                          "gradebook.csv"))
    for folder in (solutions, out, labs):
        folder.mkdir(parents=True)
    solution = solutions / "lab01_generator.ipynb"
    solution.write_text(_decoy_notebook("def sample_noise(a, b):\n    return 'stolen'"), encoding="utf-8")
    (out / "answer_key.py").write_text("def sample_noise(a, b):\n    return 'key'\n", encoding="utf-8")
    for path in (kit / "README.md", labs / "lab02_discriminator.ipynb", tmp_path / "bob.ipynb"):
        path.write_text("original\n", encoding="utf-8")
    gradebook.write_text("student,total\nx,0\n", encoding="utf-8")

    assert _unconfined(hostile.dir_fd_thief([(solutions, solution.name)], tmp_path / "none", "sample_noise",
                                            fallback)) == "stolen"
    assert _unconfined(hostile.dir_fd_thief([], out, "sample_noise", fallback)) == "key"
    assert _unconfined(hostile.dir_fd_vandal_prefix([(kit, "README.md"), (tmp_path, "bob.ipynb")], [(out, "new.txt")],
                                                    [(labs, "lab02_discriminator.ipynb")]) + fallback) == "fallback"
    assert "vandalised" in (kit / "README.md").read_text() and "vandalised" in (tmp_path / "bob.ipynb").read_text()
    assert (out / "new.txt").exists() and not (labs / "lab02_discriminator.ipynb").exists()
    assert _unconfined(hostile.fork_exec_thief(solution, [kit / "README.md"], "sample_noise", fallback,
                                               scratch=tmp_path, sleeper_s=1)) == "stolen"
    assert _unconfined(hostile.spawn_thief(solution, [], "sample_noise", fallback, scratch=tmp_path,
                                           child_lifetime_s=0)) == "stolen"
    _unconfined(hostile.detached_rewriter_prefix(gradebook, "x", "x,2", poll_s=0.1, lifetime_s=30) + fallback)
    deadline = time.monotonic() + 30
    while "x,2" not in gradebook.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert gradebook.read_text() == "student,total\nx,2\n"
    listeners = _listeners()
    ports = {name: listener.getsockname()[1] for name, listener in listeners.items()}
    _unconfined(hostile.network_prefix("127.0.0.1", ports["udp"], ports["tcp"], ports["zmq"]) + fallback)
    received = _received(listeners)
    assert received["udp"] == b"stolen answers" and received["tcp"] and received["zmq"]


def test_regrading_keeps_the_earlier_gradebook(graded):
    grades = graded["paths"]["out"]
    first = (grades / "gradebook.csv").read_text()
    run = subprocess.run(
        [sys.executable, "-m", "gan_lab", "grade", str(graded["paths"]["class"] / "pete.ipynb"), "--lab", "lab01",
         "--out", str(grades), "--solutions", str(SOLUTIONS)],
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    kept = sorted(grades.glob("gradebook.previous-*.csv"))
    assert len(kept) == 1 and kept[0].read_text() == first
    assert (grades / "gradebook.csv").read_text().splitlines()[1].startswith("pete,0,0,0,unreadable")


def test_without_the_sandbox_every_row_says_so(tmp_path):
    path = write(tmp_path, "alice", submission())
    (tmp_path / "bad.ipynb").write_text("")
    run = subprocess.run(
        [sys.executable, "-m", "gan_lab", "grade", str(path), str(tmp_path / "bad.ipynb"), "--lab", "lab01",
         "--out", str(tmp_path / "grades"), "--cell-timeout", str(CELL_TIMEOUT_S), "--solutions", str(SOLUTIONS),
         "--no-sandbox"],
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    rows = list(csv.reader(io.StringIO((tmp_path / "grades" / "gradebook.csv").read_text())))
    assert rows[1:] == [["alice", "1", "1", "2", "graded", "graded without sandbox"],
                        ["bad", "0", "0", "0", "unreadable", "bad.ipynb: not a notebook: invalid JSON (line 1: "
                         "Expecting value); graded without sandbox"]]


def test_without_bwrap_grading_stops_with_one_line_naming_both_fixes(tmp_path):
    path = write(tmp_path, "alice", submission())
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    (bin_folder / "python").symlink_to(sys.executable)
    assert shutil.which("bwrap", path=str(bin_folder)) is None
    run = subprocess.run(
        [sys.executable, "-m", "gan_lab", "grade", str(path), "--lab", "lab01", "--out", str(tmp_path / "grades"),
         "--solutions", str(SOLUTIONS)],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PATH": str(bin_folder)},
    )
    lines = run.stderr.strip().splitlines()
    assert run.returncode != 0 and len(lines) == 1, run.stderr
    assert "--no-sandbox" in lines[0] and "apt-get install bubblewrap" in lines[0]
    assert not (tmp_path / "grades" / "gradebook.csv").exists()


@pytest.mark.parametrize("arguments, message", [
    (["--lab", "lab09"], "--lab lab09 matches none of the solution notebooks"),
    (["--lab", "lab0"], "--lab lab0 matches several of the solution notebooks"),
])
def test_unknown_or_ambiguous_lab_is_a_one_line_error(tmp_path, arguments, message):
    path = write(tmp_path, "alice", submission())
    run = subprocess.run([sys.executable, "-m", "gan_lab", "grade", str(path), *arguments,
                          "--out", str(tmp_path / "grades"), "--solutions", str(SOLUTIONS)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and message in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_output_folder_inside_the_submissions_is_refused(tmp_path):
    write(tmp_path, "alice", submission())
    run = subprocess.run([sys.executable, "-m", "gan_lab", "grade", str(tmp_path), "--lab", "lab01",
                          "--out", str(tmp_path / "grades"), "--solutions", str(SOLUTIONS)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and "is inside the submissions" in run.stderr
    assert not (tmp_path / "grades").exists()


def test_find_lab_accepts_the_short_or_the_full_name():
    assert find_lab(SOLUTIONS, "lab03").name == "lab03_gan.ipynb"
    assert find_lab(SOLUTIONS, "lab03_gan").name == "lab03_gan.ipynb"


def test_a_grader_failure_on_one_submission_is_recorded_and_the_rest_are_graded(monkeypatch):
    import gan_lab.grading.run as run

    def flaky(path):
        raise KeyError("cells")

    monkeypatch.setattr(run, "read_submission", flaky)
    grader = Grader(GradingSettings(reference(), {}, []))
    results = grader.grade_all([Submission("odd", Path("odd.ipynb")), Submission("gone", None, "no notebook found")],
                               jobs=2)
    assert [(r.student, r.status) for r in results] == [("odd", "grader_error"), ("gone", "no_notebook")]
    assert results[0].notes == ["the grader failed on this submission (KeyError: 'cells')"]


@pytest.mark.parametrize("lab", ["lab02_discriminator", "lab06_conditional_gan"])
def test_a_later_lab_gets_full_marks_on_the_earlier_labs_code_the_grader_provides(tmp_path, lab):
    """Lab 02 runs Lab 01's code and Lab 06 Lab 02's: the grader hands it to the sandboxed kernel."""
    path = write(tmp_path, "alice", submission(lab))
    run = subprocess.run(
        [sys.executable, "-m", "gan_lab", "grade", str(path), "--lab", lab.split("_")[0],
         "--out", str(tmp_path / "grades"), "--solutions", str(SOLUTIONS)],
        capture_output=True, text=True, timeout=900,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    rows = list(csv.reader(io.StringIO((tmp_path / "grades" / "gradebook.csv").read_text())))
    full = sum(cell.metadata["nbgrader"]["points"] for cell in graded_cells(reference(lab)))  # written answers: by hand
    assert rows[1][0] == "alice" and rows[1][-3:-1] == [str(full), "graded"], rows


def test_mailed_notebooks_are_graded_under_the_student_number_and_another_lab_s_gets_a_wrong_lab_row(tmp_path):
    """A flat folder of notebooks mailed as 第n次实验-学号-姓名.ipynb: the 学号 is the gradebook's id."""
    mail = tmp_path / "mail"
    mail.mkdir()
    write(mail, "第1次实验-2023001234-张三", submission())
    write(mail, "第2次实验-2023005678-李四", submission("lab02_discriminator"))
    run = subprocess.run(
        [sys.executable, "-m", "gan_lab", "grade", str(mail), "--lab", "lab01", "--out", str(tmp_path / "grades"),
         "--cell-timeout", str(CELL_TIMEOUT_S), "--solutions", str(SOLUTIONS)],
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    rows = list(csv.reader(io.StringIO((tmp_path / "grades" / "gradebook.csv").read_text(encoding="utf-8"))))
    assert rows[1:] == [["2023001234", "1", "1", "2", "graded", ""],
                        ["2023005678", "0", "0", "0", "wrong_lab", "第2次实验-2023005678-李四.ipynb is named for lab 2, "
                         "not lab 1: grade it with --lab lab02, or rename it if it is lab 1"]]
    assert sorted(path.name for path in (tmp_path / "grades" / "feedback").iterdir()) == \
        ["2023001234.md", "2023005678.md"]
