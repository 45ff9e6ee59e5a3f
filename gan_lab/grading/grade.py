"""`gan-lab grade` as one function: submissions of a lab in, gradebook.csv and feedback files out."""

import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

from gan_lab.authoring.release import closed_module
from gan_lab.course_config import CourseConfigError, find_solutions
from gan_lab.grading import CELL_TIMEOUT_S
from gan_lab.grading import sandbox as sandboxes
from gan_lab.grading.gradebook import STATUSES, summary_table, write_feedback, write_gradebook
from gan_lab.grading.notebook import exercises_of
from gan_lab.grading.run import Grader, GradingSettings, progress_line
from gan_lab.grading.submissions import find_submissions
from gan_lab.grading.written import written_questions
from gan_lab.notebook_io import NotebookError, grade_ids, keep_previous, read_notebook, writable_folder


class GradingError(Exception):
    """The grader cannot start (no such lab, unwritable output folder, no sandbox); the message is one line."""


def find_lab(solutions, lab):
    """The solution notebook of `lab` (e.g. lab01 or lab01_generator) in the solutions folder."""
    matches = sorted(path for path in Path(solutions).glob("*.ipynb") if path.stem.startswith(lab))
    exact = [path for path in matches if path.stem == lab]
    if exact or len(matches) == 1:
        return (exact or matches)[0]
    names = ", ".join(path.stem for path in sorted(Path(solutions).glob("*.ipynb")))
    how = "matches several" if matches else "matches none"
    raise GradingError(f"--lab {lab} {how} of the solution notebooks in {solutions} ({names})")


def _other_labs(solutions, lab_path):
    labs = {}
    for path in sorted(solutions.glob("*.ipynb")):
        if path != lab_path:
            try:
                labs[path.stem] = grade_ids(read_notebook(path))
            except NotebookError:
                continue
    return labs


def _exercises(reference, lab_path):
    """The lab's checks, then its written answers (graded by hand)."""
    try:
        return exercises_of(reference) + written_questions(reference)
    except NotebookError as error:
        raise GradingError(f"{lab_path}: {error}") from None


def _earlier_labs_cell(solutions, lab_path):
    """A first cell handing the kernel the code of every earlier lab, which later labs run."""
    lines = ["from gan_lab.earlier_labs import provide"]
    for path in sorted(solutions.glob("lab*.ipynb")):
        if path.stem < lab_path.stem:
            lab = path.stem.split("_")[0]
            lines.append(f"provide({lab!r}, {closed_module(path)!r}, {f'{path.stem} (reference)'!r})")
    return "\n".join(lines) if len(lines) > 1 else ""


def _home_seed(folder):
    """Build matplotlib's font cache once, to be copied into every sandbox's home (saves ~1 s each)."""
    cache = folder / ".config" / "matplotlib"
    cache.mkdir(parents=True)
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], capture_output=True, timeout=300,
                   env={**os.environ, "MPLCONFIGDIR": str(cache)}, check=False)
    return str(folder)


def _prepare_sandbox(scratch, private):
    """Check that sandboxes work here and hide every private path; return the home seed folder."""
    try:
        sandboxes.check_sandbox(scratch / "probe")
    except sandboxes.SandboxError as error:
        raise GradingError(str(error)) from None
    shown = sandboxes.exposed(private)
    if shown:
        raise GradingError(f"{shown[0]} lies inside the Python environment or the kit package that the sandbox "
                           "shows the kernel: move it elsewhere, or install the kit in its own environment")
    return _home_seed(scratch / "seed")


def _while_stoppable(grader, work):
    """Run work(); Ctrl-C or SIGTERM meanwhile stops the grader instead of killing this process."""
    if threading.current_thread() is not threading.main_thread():
        return work()

    def stop(number, _frame):
        print(f"\ngan-lab grade: {signal.Signals(number).name} received: stopping; the students graded so far "
              "are kept", file=sys.stderr, flush=True)
        grader.stop()

    previous = {number: signal.signal(number, stop) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        return work()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def grade_lab(submissions, lab, out="grades", jobs=1, cell_timeout=CELL_TIMEOUT_S, solutions=None,
              sandbox=True, stdout=None, stderr=None):
    """Grade SUBMISSION paths of `lab`: write gradebook.csv and feedback/ in `out`; return the StudentResults."""
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    try:
        solutions = find_solutions(solutions)
        lab_path = find_lab(solutions, lab)
        reference = read_notebook(lab_path)
        exercises = _exercises(reference, lab_path)
        found = find_submissions(submissions, lab_path.name)
        out_path = Path(out).resolve()
        inputs = [Path(path).resolve() for path in submissions]
        if any(out_path == path or path in out_path.parents for path in inputs):
            raise GradingError(f"--out {out} is inside the submissions: pick a folder outside them")
        writable_folder(out_path)
        earlier = _earlier_labs_cell(solutions, lab_path)
    except (OSError, GradingError, NotebookError, CourseConfigError) as error:
        raise GradingError(str(error)) from None
    if not found:
        raise GradingError("no submissions found in the paths given")
    private = [solutions.resolve(), out_path, *inputs]
    scratch = sandboxes.short_temporary_folder("gan-lab-grading-")
    try:
        seed = _prepare_sandbox(scratch, private) if sandbox else ""
        settings = GradingSettings(reference, _other_labs(solutions, lab_path), private, cell_timeout, sandbox,
                                   seed=seed, earlier=earlier)
        grader, lock, done = Grader(settings), threading.Lock(), []

        def progress(result):
            with lock:
                done.append(result)
                print(progress_line(len(done), len(found), result.student), end="", file=stderr, flush=True)

        results = _while_stoppable(grader, lambda: grader.grade_all(found, jobs=jobs, progress=progress))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(file=stderr)
    _write(out_path, Path(out), lab_path.stem, exercises, results, stdout)
    return results


def _write(out_path, shown, lab_name, exercises, results, stdout):
    for earlier in (keep_previous(out_path / "gradebook.csv"), keep_previous(out_path / "feedback")):
        if earlier:
            print(f"kept the earlier {earlier.name.split('.')[0]} as {earlier}", file=stdout)
    write_gradebook(out_path / "gradebook.csv", exercises, results)
    write_feedback(out_path / "feedback", lab_name, exercises, results)
    print(summary_table(exercises, results), file=stdout)
    counts = {status: sum(result.status == status for result in results) for status in STATUSES}
    print(", ".join(f"{count} {status}" for status, count in counts.items() if count), file=stdout)
    if counts["not_graded"]:
        print(f"interrupted: {counts['not_graded']} submission(s) not graded; grade them again to complete the "
              "gradebook", file=stdout)
    written = [exercise.grade_id for exercise in exercises if exercise.manual]
    if written:
        print(f"written answers to grade by hand: {', '.join(written)}: fill in their (manual) columns; "
              "each student's answers are in their feedback file", file=stdout)
    print(f"gradebook: {shown / 'gradebook.csv'}; feedback: {shown / 'feedback'}/", file=stdout)
