"""End to end: `gan-lab grade` on Lab01 submissions made from the reference, good, broken and hostile."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from gan_lab.grading import find_lab, grading_notebook, progress_line, score
from grading_helpers import SOLUTIONS, digests, reference, submission, without_cells, write

CELL_TIMEOUT_S = 30
UNIFORM = {"sample_noise": lambda source: source.replace("keras.random.normal", "keras.random.uniform")}


def _hostile_sources(submissions, outside):
    """Answer-cell prefixes that attack the grader; each is followed by a correct answer."""
    vandal = f"""import os, shutil
for _target in [{str(submissions)!r}, {str(SOLUTIONS)!r}]:
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
for _path in [{str(submissions / 'alice.ipynb')!r}, {str(outside)!r}]:
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
    print("sample_noise: all 10 checks passed")
gan_lab.checks.check_sample_noise = _always_pass
gan_lab.checks._harness.Checklist.require = lambda self, condition, message: None
check_sample_noise = _always_pass
"""
    return vandal, thief, patcher


def _submissions(folder, outside):
    """Write every case; return the expected gradebook rows (without the header)."""
    vandal, thief, patcher = _hostile_sources(folder, outside)
    loop = {"sample_noise": lambda s: s.replace("    return keras", "    while True:\n        pass\n    return keras")}
    edited = submission(change={**UNIFORM, "check_sample_noise": lambda s: 'print("sample_noise: all 10 checks passed")'})
    bare = submission()
    for cell in bare.cells:
        cell.metadata.pop("nbgrader", None)
    cases = {
        "alice": (submission(), "1,1,2,graded,"),
        "bob": (submission(change=UNIFORM), "0,1,1,graded,"),
        "carl": (submission(change={"build_generator": lambda s: s.replace('"tanh"', '"sigmoid"')}), "1,0,1,graded,"),
        "dana": (submission(change={"build_generator": lambda s: s.replace("latent_dim=100):", "latent_dim=100)")}),
                 "1,0,1,graded,answer build_generator has a syntax error (line 1: expected ':')"),
        "erin": (without_cells(submission(), {"sample_noise", "build_generator"}),
                 "0,0,0,graded,no answer cell for sample_noise; no answer cell for build_generator"),
        "fred": (submission(change=loop), "0,1,1,timeout,"),
        "gina": (submission(change={"build_generator": lambda s: "import os\nos._exit(1)\n" + s}), "1,0,1,kernel_died,"),
        "hugo": (submission(change={"sample_noise": lambda s: s + "\nfor _ in range(200_000):\n    print('spam ' * 50)\n"}),
                 "1,1,2,graded,"),
        "iris": (submission(change={"sample_noise": lambda s: "import os\nos.chdir('/')\n" + s}), "1,1,2,graded,"),
        "jack": (submission(change={"sample_noise": lambda s: vandal + s}), "1,1,2,graded,"),
        "kate": (submission(change={"sample_noise": lambda s: patcher + s.replace("normal", "uniform")}), "0,1,1,graded,"),
        "liam": (submission(change={"sample_noise": lambda s: thief}), "0,1,1,graded,"),
        "mona": (without_cells(edited, {"check_build_generator"}),
                 "0,1,1,graded,check cell check_sample_noise was edited; the official one was graded; "
                 "check cell check_build_generator was deleted or lost its metadata; the official one was graded"),
        "nina": (bare, "1,1,2,graded,answer sample_noise found by the function it defines; answer build_generator "
                 "found by the function it defines; check cell check_sample_noise was deleted or lost its metadata; "
                 "the official one was graded; check cell check_build_generator was deleted or lost its metadata; "
                 "the official one was graded"),
        "omar": (submission("lab02_discriminator"), "0,0,0,wrong_lab,this is a lab02_discriminator notebook"),
    }
    for student, (notebook, _) in cases.items():
        write(folder, student, notebook)
    (folder / "pete.ipynb").write_text('{"cells": [', encoding="utf-8")
    (folder / "quin.ipynb").write_text(json.dumps({"nbformat": 99, "nbformat_minor": 0, "cells": []}), encoding="utf-8")
    expected = {student: row for student, (_, row) in cases.items()}
    expected["pete"] = "0,0,0,unreadable,pete.ipynb: not a notebook: invalid JSON (line 1: Expecting value)"
    expected["quin"] = ("0,0,0,unreadable,quin.ipynb: nbformat 99 cannot be read (the kit reads nbformat 4, and 3 "
                        "by conversion): open it in Jupyter and save it again")
    return expected


def _solution_digests():
    # Notebooks only: running the solutions under nbval (in parallel test workers) writes runs/ there.
    return {name: digest for name, digest in digests(SOLUTIONS).items() if name.endswith(".ipynb")}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade every case once (2 at a time); return the folders, hashes, expected rows and the run."""
    root = tmp_path_factory.mktemp("grading")
    folder, outside = root / "submissions", root / "outside.txt"
    folder.mkdir()
    expected = _submissions(folder, outside)
    (root / "rita").mkdir()
    (root / "rita" / "README.txt").write_text("my notebook is on my laptop\n")
    expected["rita"] = f"0,0,0,no_notebook,no notebook found in {root / 'rita'}"
    before = digests(folder), _solution_digests()
    run = subprocess.run(
        [sys.executable, "-m", "gan_lab", "grade", str(folder), str(root / "rita"), "--lab", "lab01",
         "--out", str(root / "grades"), "--jobs", "2", "--cell-timeout", str(CELL_TIMEOUT_S),
         "--solutions", str(SOLUTIONS)],
        capture_output=True, text=True, timeout=1800,
    )
    return {"root": root, "folder": folder, "outside": outside, "before": before, "expected": expected, "run": run}


def _rows(graded):
    with open(graded["root"] / "grades" / "gradebook.csv", newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def test_grade_exits_zero_and_prints_a_summary_table(graded):
    run = graded["run"]
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.splitlines()[0].split() == ["student", "check_sample_noise", "check_build_generator",
                                                  "total", "status"]
    assert "grading [" in run.stderr and f"{len(graded['expected'])}/{len(graded['expected'])}" in run.stderr


def test_gradebook_has_the_exact_row_for_every_case(graded):
    rows = _rows(graded)
    assert rows[0] == ["student", "check_sample_noise", "check_build_generator", "total", "status", "notes"]
    got = {row[0]: ",".join(row[1:]) for row in rows[1:]}
    assert got == graded["expected"]


def test_submissions_and_solutions_are_never_modified(graded):
    assert (digests(graded["folder"]), _solution_digests()) == graded["before"]


def test_submission_cannot_write_outside_its_sandbox(graded):
    assert not graded["outside"].exists()


def test_feedback_gives_the_check_hint_not_a_traceback(graded):
    text = (graded["root"] / "grades" / "feedback" / "bob.md").read_text()
    assert "| check_sample_noise | 0 / 1 | failed: CheckFailed: all values from sample_noise are >= 0" in text
    assert "| check_build_generator | 1 / 1 | passed |" in text
    assert "Traceback" not in text and "File \"" not in text


def test_feedback_explains_timeouts_and_the_dead_kernel(graded):
    fred = (graded["root"] / "grades" / "feedback" / "fred.md").read_text()
    assert f"Timeout of {CELL_TIMEOUT_S} seconds exceeded" in fred
    gina = (graded["root"] / "grades" / "feedback" / "gina.md").read_text()
    assert "not run: the kernel died in an earlier cell" in gina


def test_feedback_folder_has_one_file_per_student(graded):
    names = sorted(path.stem for path in (graded["root"] / "grades" / "feedback").iterdir())
    assert names == sorted(graded["expected"])


def test_regrading_keeps_the_earlier_gradebook(graded, tmp_path):
    grades = graded["root"] / "grades"
    first = (grades / "gradebook.csv").read_text()
    run = subprocess.run(
        [sys.executable, "-m", "gan_lab", "grade", str(graded["folder"] / "pete.ipynb"), "--lab", "lab01",
         "--out", str(grades), "--solutions", str(SOLUTIONS)],
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    kept = sorted(grades.glob("gradebook.previous-*.csv"))
    assert len(kept) == 1 and kept[0].read_text() == first
    assert (grades / "gradebook.csv").read_text().splitlines()[1].startswith("pete,0,0,0,unreadable")


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


def test_grading_notebook_has_the_guard_the_student_answers_and_the_official_checks():
    solution = reference()
    answers = {"sample_noise": "# student's noise", "build_generator": "# student's generator"}
    graded_notebook = grading_notebook(solution, answers, Path("/work"), [Path("/private")])
    first, *cells = graded_notebook.cells
    assert "gan_lab.grading_guard.install('/work', ['/private'])" in first.source
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in cells}
    assert by_id["sample_noise"].source == "# student's noise" and by_id["sample_noise"].outputs == []
    check = by_id["check_sample_noise"]
    assert "from gan_lab.checks import check_sample_noise" in check.source
    assert "### BEGIN HIDDEN TESTS" in check.source and check.source.endswith(
        [c for c in solution.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "check_sample_noise"][0].source)
    assert check.outputs[0]["text"] == "sample_noise: all 10 checks passed\n" and check.execution_count
    others = [c for c in cells if "nbgrader" not in c.metadata]
    assert others and all(c.outputs == [] and c.execution_count is None for c in others)
    assert all(c.cell_type == "code" for c in graded_notebook.cells)


def test_score_gives_points_only_to_passed_checks_and_turns_outcomes_into_hints():
    solution = reference()
    graded_notebook = grading_notebook(solution, {"sample_noise": "", "build_generator": ""}, Path("/w"), [])
    numbers = {c.metadata.get("nbgrader", {}).get("grade_id"): n for n, c in enumerate(graded_notebook.cells)}
    outcomes = {numbers["check_sample_noise"]: {"result": "error", "ename": "AssertionError", "message": ""},
                numbers["check_build_generator"]: {"result": "passed"}}
    checks, status = score(solution, graded_notebook, outcomes)
    assert status == "graded"
    assert (checks["check_build_generator"].passed, checks["check_build_generator"].points) == (True, 1.0)
    assert checks["check_sample_noise"].points == 0 and "hidden test" in checks["check_sample_noise"].hint
    outcomes[numbers["check_build_generator"]] = {"result": "differs", "message": "x", "expected": "y"}
    outcomes[0] = {"result": "timeout", "message": "Timeout of 9 seconds exceeded"}
    checks, status = score(solution, graded_notebook, outcomes)
    assert status == "timeout"
    assert checks["check_build_generator"].hint == "the check printed 'x' where the reference prints 'y'"


def test_progress_line_fills_with_the_share_done():
    assert progress_line(3, 6, "alice", width=10).startswith("\rgrading [#####     ] 3/6 alice")


def test_a_grader_failure_on_one_submission_is_recorded_and_the_rest_are_graded(monkeypatch):
    import gan_lab.grading as grading
    from gan_lab.gradebook import StudentResult
    from gan_lab.submissions import Submission

    def flaky(submission, *args):
        if submission.student == "odd":
            raise KeyError("cells")
        return StudentResult(submission.student, "graded")

    monkeypatch.setattr(grading, "grade_submission", flaky)
    results = grading.grade_all([Submission("odd", Path("odd.ipynb")), Submission("fine", Path("fine.ipynb"))],
                                reference(), {}, [], jobs=2)
    assert [(r.student, r.status) for r in results] == [("odd", "grader_error"), ("fine", "graded")]
    assert results[0].notes == ["the grader failed on this submission (KeyError: 'cells')"]
