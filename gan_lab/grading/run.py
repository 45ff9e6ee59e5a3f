"""Grade submissions: each one's grading notebook run by nbval in a fresh (sandboxed) kernel, then scored.

nbval and gan_lab.grading.plugin run in a grader process outside the sandbox; only the kernel is
inside. A check earns its points when its cell runs without error and prints what the reference
printed. `Grader.stop()` (on Ctrl-C or SIGTERM) kills the running graders and leaves the rest
`not_graded`; every temporary folder is removed whatever happens.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from gan_lab.grading import CELL_TIMEOUT_S, GRACE_S
from gan_lab.grading import sandbox as sandboxes
from gan_lab.grading.gradebook import StudentResult, printable
from gan_lab.grading.notebook import grading_notebook
from gan_lab.grading.scan import review_notes
from gan_lab.grading.score import score
from gan_lab.grading.submissions import check_cell_changes, match_answers, read_submission
from gan_lab.grading.written import written_answers
from gan_lab.notebook_io import NotebookError, answer_cells, grade_ids, notebook_text

UNSANDBOXED = "graded without sandbox"
_SOLUTION_MARKERS = ("### BEGIN HIDDEN TESTS", "### BEGIN SOLUTION")


@dataclass
class GradingSettings:
    """How to grade: the lab's reference, the other labs' grade ids, limits and the sandbox choice."""

    reference: object
    other_labs: dict
    private: list  # paths the unsandboxed guard refuses to read (solutions, submissions, --out)
    cell_timeout: int = CELL_TIMEOUT_S
    sandbox: bool = True
    limits: sandboxes.Limits = field(default_factory=sandboxes.Limits)
    seed: str = ""  # files copied into each sandbox's home (matplotlib's font cache)
    earlier: str = ""  # a cell handing the kernel the earlier labs' code (gan_lab.earlier_labs.provide)


def _guard_cell(workdir, private):
    package = Path(__file__).resolve().parent.parent
    private = [path for path in private if Path(path) not in package.parents]  # the kit stays importable
    return (f"import gan_lab.grading.guard\n"
            f"gan_lab.grading.guard.install({str(workdir)!r}, {[str(path) for path in private]!r})")


@dataclass
class _Job:
    """A readable submission of this lab, waiting for nbval: its answers and what was noticed so far."""

    submission: object
    number: int
    answers: object
    notes: list
    review: list
    written: dict  # written answer text by grade_id, for the instructor (never run)


def _batches(jobs, workers):
    """Split jobs into batches, one nbval process each: big enough to share its start-up, small enough
    that every worker keeps busy."""
    size = max(1, min(8, -(-len(jobs) // (2 * workers))))
    return [jobs[start:start + size] for start in range(0, len(jobs), size)]


class Grader:
    """Grades Submissions with the given settings; stop() ends every run at once (from any thread)."""

    def __init__(self, settings):
        self.settings = settings
        self.stopped = threading.Event()
        self._running = set()
        self._lock = threading.Lock()

    def stop(self):
        """Kill the running grader processes (and so their sandboxes); later submissions are not graded."""
        self.stopped.set()
        with self._lock:
            for process in list(self._running):
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def _prepare(self, submission, number):
        """A _Job for a gradable submission, else its final StudentResult."""
        settings = self.settings
        if submission.path is None:
            return StudentResult(submission.student, submission.status, notes=[submission.problem])
        try:
            notebook = read_submission(submission.path)
        except NotebookError as error:
            return StudentResult(submission.student, "unreadable", notes=[f"{submission.path.name}: {error}"])
        ids = grade_ids(notebook)
        if not ids & grade_ids(settings.reference):
            other = next((name for name, lab_ids in settings.other_labs.items() if ids & lab_ids), None)
            if other:
                return StudentResult(submission.student, "wrong_lab", notes=[f"this is a {other} notebook"])
        answers, written = match_answers(settings.reference, notebook), written_answers(settings.reference, notebook)
        notes = answers.notes + written.notes + check_cell_changes(settings.reference, notebook)
        review = review_notes(answers.sources)
        if any(marker in cell.source for cell in notebook.cells for marker in _SOLUTION_MARKERS):
            review.append("the notebook holds the solution's markers or hidden tests (a copy of the solution?): "
                          "review this submission by hand")
        return _Job(submission, number, answers, notes, review, written.sources)

    def _write_notebooks(self, root, batch):
        """Write each job's grading notebook in its own folder of `root`; return the folders, the
        notebooks and the sandboxes by notebook folder."""
        settings, sandboxes_by_folder, notebooks = self.settings, {}, []
        folders = [root / f"student{index}" for index in range(len(batch))]
        for job, folder in zip(batch, folders):
            (folder / "notebook").mkdir(parents=True)
            (folder / "work").mkdir()
            first = ""
            if settings.sandbox:
                sandboxes_by_folder[str(folder / "notebook")] = sandboxes.Sandbox(
                    str(folder / "kernel"), sandboxes.UID_BASE + 1 + job.number, settings.limits, settings.seed
                ).to_json()
            else:
                others = [other for other in folders if other != folder]
                first = _guard_cell(folder / "work", [*settings.private, *others, folder / "notebook",
                                                      *(root / name for name in ("results.json", "pytest.log", "tmp"))])
            first = "\n".join(part for part in (first, settings.earlier) if part)
            notebooks.append(grading_notebook(settings.reference, job.answers.sources, first))
            (folder / "notebook" / "grading.ipynb").write_text(notebook_text(notebooks[-1]), encoding="utf-8")
        return folders, notebooks, sandboxes_by_folder

    def _run_nbval(self, root, folders, sandboxes_by_folder):
        """Run the batch's grading notebooks in one nbval process; return (outcomes by folder, failure)."""
        timeout = self.settings.cell_timeout
        (root / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        (root / "sandboxes.json").write_text(json.dumps(sandboxes_by_folder), encoding="utf-8")
        results = root / "results.json"
        command = [sys.executable, "-m", "pytest", "-c", str(root / "pytest.ini"), "--rootdir", str(root),
                   "-p", "no:cacheprovider", "-p", "gan_lab.grading.plugin", "-p", "gan_lab.authoring.validation",
                   "--nbval", "--nbval-current-env", f"--nbval-cell-timeout={timeout}",
                   f"--gan-lab-results={results}", "-q", "--tb=no", "-W", "ignore",
                   *([f"--gan-lab-sandboxes={root / 'sandboxes.json'}"] if sandboxes_by_folder else []),
                   *(str(folder / "notebook" / "grading.ipynb") for folder in folders)]
        (root / "tmp").mkdir()
        environment = {**os.environ, "GAN_LAB_FAST": "1", "TMPDIR": str(root / "tmp"),
                       "PYTHONDONTWRITEBYTECODE": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
        cells = len(answer_cells(self.settings.reference)) + 2
        limit = 60 + (120 + (timeout + GRACE_S + 15) * cells) * len(folders)  # every answer may time out
        failure = None
        with open(root / "pytest.log", "wb") as log:
            process = subprocess.Popen(command, cwd=root, env=environment, stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
            with self._lock:
                self._running.add(process)
            try:
                if self.stopped.is_set():
                    self.stop()
                process.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                failure = f"grading took over {limit} s and was stopped"
            finally:
                with self._lock:
                    self._running.discard(process)
        recorded = json.loads(results.read_text()) if results.exists() else {}
        if failure is None and not recorded:
            tail = (root / "pytest.log").read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            failure = f"nbval stopped without results ({tail[0][:200]})"
        outcomes = {}
        for folder in folders:
            notebook = recorded.get(str(folder / "notebook" / "grading.ipynb"), {})
            if notebook.get("error") and not any(outcome["result"] != "skipped" for outcome in
                                                 notebook["cells"].values()):
                outcomes[folder] = f"the kernel did not start ({notebook['error']})"
            elif notebook.get("done"):
                outcomes[folder] = {int(number): outcome for number, outcome in notebook["cells"].items()}
        return outcomes, failure

    def _result(self, job, notebook, outcomes, failure):
        student, notes, written = job.submission.student, list(job.notes), job.written
        if isinstance(outcomes, str):
            return StudentResult(student, "grader_error", notes=[*notes, outcomes], written=written)
        if outcomes is None:
            if self.stopped.is_set():
                return StudentResult(student, "not_graded", notes=["the grader was interrupted"], written=written)
            return StudentResult(student, "grader_error", notes=[*notes, failure or "nbval did not finish it"],
                                 written=written)
        checks, status, tampered = score(self.settings.reference, notebook, outcomes)
        review = [*job.review, *tampered]
        return StudentResult(student, "review" if review else status, checks, [*notes, *review], written)

    def _grade_batch(self, batch):
        if self.stopped.is_set():
            return [self._result(job, None, None, None) for job in batch]
        root = sandboxes.short_temporary_folder("gan-lab-grade-")
        try:
            folders, notebooks, sandboxes_by_folder = self._write_notebooks(root, batch)
            outcomes, failure = self._run_nbval(root, folders, sandboxes_by_folder)
            return [self._result(job, notebook, outcomes.get(folder), failure)
                    for job, notebook, folder in zip(batch, notebooks, folders)]
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def grade_all(self, submissions, jobs=1, progress=None):
        """Grade Submissions, `jobs` nbval processes at a time; results in order; after stop() the rest
        are `not_graded`."""
        prepared = []
        for number, submission in enumerate(submissions):
            try:
                prepared.append(self._prepare(submission, number))
            except Exception as error:  # noqa: BLE001 - one odd submission must not stop the class's grading
                prepared.append(StudentResult(submission.student, "grader_error", notes=[
                    f"the grader failed on this submission ({type(error).__name__}: {error})"[:300]]))
        for result in prepared:
            if progress and isinstance(result, StudentResult):
                progress(result)
        waiting = [job for job in prepared if isinstance(job, _Job)]

        def run(batch):
            try:
                results = self._grade_batch(batch)
            except Exception as error:  # noqa: BLE001 - the other batches still get graded
                message = f"the grader failed ({type(error).__name__}: {error})"[:300]
                results = [StudentResult(job.submission.student, "grader_error", notes=[message]) for job in batch]
            for result in results:
                if progress and result.status != "not_graded":
                    progress(result)
            return results

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            graded = [result for results in pool.map(run, _batches(waiting, max(1, jobs))) for result in results]
        by_number = {job.number: result for job, result in zip(waiting, graded)}
        results = [by_number.get(number, result) for number, result in enumerate(prepared)]
        if not self.settings.sandbox:  # every row says so, whatever became of it
            for result in results:
                result.notes.append(UNSANDBOXED)
        return results


def progress_line(done, total, student, width=24):
    """A one-line text progress bar, e.g. `[######      ] 3/6 alice`."""
    filled = width * done // max(total, 1)
    return f"\rgrading [{'#' * filled}{' ' * (width - filled)}] {done}/{total} {printable(student)}"[:100].ljust(60)
