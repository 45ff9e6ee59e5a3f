"""`gan-lab grade`: grade student submissions with nbval against the reference solution.

For each submission a grading notebook is built in a private temporary folder: a guard cell
(gan_lab.grading_guard), then the reference solution's code cells with each answer cell replaced
by the student's and each check cell taken from the reference (hidden tests included, the checks
imported afresh, the reference's outputs stored). nbval runs it in a fresh kernel, in fast mode,
with a per-cell timeout; gan_lab.grading_plugin records how each cell ended. A check earns its
points when its cell runs without error and prints what the reference printed.
"""

import ast
import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

from gan_lab.gradebook import CheckResult, Exercise, StudentResult
from gan_lab.submissions import (
    answer_cells, check_cell_changes, grade_ids, graded_cells, match_answers, nbgrader, read_submission,
)

CELL_TIMEOUT_S = 120
_FRESH_CHECKS = """\
import sys as _gan_lab_sys  # added by gan-lab grade: the official checks, imported afresh
for _gan_lab_module in [name for name in list(_gan_lab_sys.modules) if name.split(".")[:2] == ["gan_lab", "checks"]]:
    del _gan_lab_sys.modules[_gan_lab_module]
from gan_lab.checks import {names}
"""


class GradingError(Exception):
    """The grader cannot start (no such lab, unwritable output folder); the message is one line."""


def find_lab(solutions, lab):
    """The solution notebook of `lab` (e.g. lab01 or lab01_generator) in the solutions folder."""
    matches = sorted(path for path in Path(solutions).glob("*.ipynb") if path.stem.startswith(lab))
    exact = [path for path in matches if path.stem == lab]
    if exact or len(matches) == 1:
        return (exact or matches)[0]
    names = ", ".join(path.stem for path in sorted(Path(solutions).glob("*.ipynb")))
    how = "matches several" if matches else "matches none"
    raise GradingError(f"--lab {lab} {how} of the solution notebooks in {solutions} ({names})")


def exercises_of(reference):
    """The lab's graded exercises: its check cells, with their points."""
    return [Exercise(nbgrader(cell)["grade_id"], float(nbgrader(cell).get("points", 1)))
            for cell in graded_cells(reference)]


def _code_cell(source, cell=None, keep_outputs=False):
    new = nbformat.v4.new_code_cell(source)
    if cell is not None:
        new.metadata = copy.deepcopy(cell.metadata)
        if keep_outputs:
            new.outputs, new.execution_count = copy.deepcopy(cell.outputs), cell.execution_count
    return new


def _imported_checks(reference):
    """Names the solution imports from gan_lab.checks."""
    names = set()
    for cell in reference.cells:
        if cell.cell_type == "code":
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:
                continue
            names |= {alias.asname or alias.name for node in ast.walk(tree)
                      if isinstance(node, ast.ImportFrom) and node.module == "gan_lab.checks"
                      for alias in node.names}
    return names


def _names_used(source):
    try:
        return {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}
    except SyntaxError:
        return set()


def grading_notebook(reference, answers, workdir, private):
    """The notebook nbval runs: guard cell, then the reference with the student's answers in place."""
    guard = (f"import gan_lab.grading_guard\n"
             f"gan_lab.grading_guard.install({str(workdir)!r}, {[str(path) for path in private]!r})")
    cells = [_code_cell(guard)]
    checks = _imported_checks(reference)
    for cell in reference.cells:
        if cell.cell_type != "code":
            continue
        if nbgrader(cell).get("solution"):
            cells.append(_code_cell(answers[nbgrader(cell)["grade_id"]], cell))
        elif nbgrader(cell).get("grade"):
            names = sorted(_names_used(cell.source) & checks)
            fresh = _FRESH_CHECKS.format(names=", ".join(names)) if names else ""
            cells.append(_code_cell(fresh + cell.source, cell, keep_outputs=True))
        else:
            cells.append(_code_cell(cell.source, cell))
    return nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(reference.metadata))


def run_with_nbval(notebook, base, cell_timeout):
    """Run a grading notebook with nbval in `base`; return {code cell number: outcome}."""
    folder = base / "notebook"
    folder.mkdir()
    (folder / "grading.ipynb").write_text(nbformat.writes(notebook), encoding="utf-8")
    (base / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    results = base / "results.json"
    command = [sys.executable, "-m", "pytest", "-c", str(base / "pytest.ini"), "--rootdir", str(base),
               "-p", "no:cacheprovider", "-p", "gan_lab.validation", "-p", "gan_lab.grading_plugin",
               "--nbval", "--nbval-current-env", f"--nbval-cell-timeout={cell_timeout}",
               f"--gan-lab-results={results}", "-q", "--tb=no", "-W", "ignore",
               str(folder / "grading.ipynb")]
    environment = {**os.environ, "GAN_LAB_FAST": "1", "TMPDIR": str(base / "work"),
                   "PYTHONDONTWRITEBYTECODE": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    limit = 300 + cell_timeout * (len(answer_cells(notebook)) + 2)  # every answer may time out
    with open(base / "pytest.log", "wb") as log:
        process = subprocess.Popen(command, cwd=base, env=environment, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise RuntimeError(f"grading took over {limit} s and was stopped") from None
    if not results.exists():
        tail = (base / "pytest.log").read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"nbval stopped without results ({tail[0][:200]})")
    return {int(number): outcome for number, outcome in json.loads(results.read_text())["cells"].items()}


def _hint(outcome):
    result, message = outcome.get("result"), outcome.get("message", "")
    if result == "error":
        name = outcome.get("ename", "")
        if name == "AssertionError" and not message:
            return "a hidden test of this check failed (an assert in the official check cell)"
        return f"{name}: {message}" if name else message
    if result == "differs":
        return f"the check printed {message!r} where the reference prints {outcome.get('expected', '')!r}"
    return message or result


def score(reference, notebook, outcomes):
    """Turn nbval cell outcomes into a CheckResult per check cell, and the run's status."""
    numbers = {nbgrader(cell).get("grade_id"): number for number, cell in enumerate(notebook.cells)
               if nbgrader(cell).get("grade")}
    died = any(outcome["result"] == "kernel_died" for outcome in outcomes.values())
    unrun = {"result": "not_run", "message": "not run: the kernel died in an earlier cell (code there ended "
             "or crashed Python, e.g. os._exit)" if died else "not run"}
    checks = {}
    for exercise in exercises_of(reference):
        outcome = outcomes.get(numbers[exercise.grade_id], unrun)
        if outcome["result"] in ("skipped", "not_run"):
            outcome = unrun
        passed = outcome["result"] == "passed"
        checks[exercise.grade_id] = CheckResult(passed, exercise.points if passed else 0.0,
                                                "" if passed else _hint(outcome))
    results = {outcome["result"] for outcome in outcomes.values()}
    status = "kernel_died" if "kernel_died" in results else "timeout" if "timeout" in results else "graded"
    return checks, status


def grade_submission(submission, reference, other_labs, private, cell_timeout):
    """Grade one Submission; every failure of the submission is recorded, never raised."""
    if submission.path is None:
        return StudentResult(submission.student, "no_notebook", notes=[submission.problem])
    try:
        notebook = read_submission(submission.path)
    except ValueError as error:
        return StudentResult(submission.student, "unreadable", notes=[f"{submission.path.name}: {error}"])
    ids = grade_ids(notebook)
    if not ids & grade_ids(reference):
        other = next((name for name, lab_ids in other_labs.items() if ids & lab_ids), None)
        if other:
            return StudentResult(submission.student, "wrong_lab", notes=[f"this is a {other} notebook"])
    answers = match_answers(reference, notebook)
    notes = answers.notes + check_cell_changes(reference, notebook)
    base = Path(tempfile.mkdtemp(prefix="gan-lab-grade-"))
    try:
        (base / "work").mkdir()
        private_paths = [*private, base / "notebook", base / "results.json"]
        graded = grading_notebook(reference, answers.sources, base / "work", private_paths)
        try:
            outcomes = run_with_nbval(graded, base, cell_timeout)
        except (OSError, RuntimeError) as error:
            return StudentResult(submission.student, "grader_error", notes=[*notes, str(error)])
        checks, status = score(reference, graded, outcomes)
        return StudentResult(submission.student, status, checks, notes)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def progress_line(done, total, student, width=24):
    """A one-line text progress bar, e.g. `[######      ] 3/6 alice`."""
    filled = width * done // max(total, 1)
    return f"\rgrading [{'#' * filled}{' ' * (width - filled)}] {done}/{total} {student}"[:100].ljust(60)


def grade_all(submissions, reference, other_labs, private, cell_timeout=CELL_TIMEOUT_S, jobs=1,
              progress=None):
    """Grade Submissions, `jobs` at a time; results come back in submission order."""
    def one(submission):
        try:
            result = grade_submission(submission, reference, other_labs, private, cell_timeout)
        except Exception as error:  # noqa: BLE001 - one odd submission must not stop the class's grading
            result = StudentResult(submission.student, "grader_error",
                                   notes=[f"the grader failed on this submission ({type(error).__name__}: {error})"[:300]])
        if progress:
            progress(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, submissions))
