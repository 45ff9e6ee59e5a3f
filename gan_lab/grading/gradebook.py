"""What `gan-lab grade` writes: gradebook.csv, one feedback file per student, a terminal summary.

Checks are graded automatically; written answers (manual exercises) are the instructor's: each gets
an empty gradebook column to fill in, and the student's text goes into the feedback file.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from gan_lab.notebook_io import write_atomically

STATUSES = {
    "graded": "graded",
    "timeout": "graded; a cell ran past the time limit",
    "kernel_died": "graded until the kernel died",
    "unreadable": "not graded: not a readable notebook file (or a symbolic link, which is not followed)",
    "wrong_lab": "not graded: a notebook of another lab",
    "no_notebook": "not graded: no notebook found",
    "grader_error": "not graded: the grader failed on this submission",
    "review": "graded, and flagged for the instructor: the code does something no lab needs (see the notes)",
    "not_graded": "not graded: the grader was interrupted before it finished this submission",
}
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
AUTO_TOTAL = "total (auto; manual not included)"  # the total column's name when a lab has written answers
GRADED_BY_HAND = "graded by your instructor"


@dataclass
class Exercise:
    """One graded cell of the lab: a check, or a written answer (`manual`) that the instructor grades."""

    grade_id: str
    points: float
    manual: bool = False

    def column(self):
        """Its gradebook column: the grade_id, marked `(manual, /N)` for a written answer."""
        return f"{self.grade_id} (manual, /{_points(self.points)})" if self.manual else self.grade_id


@dataclass
class CheckResult:
    """How one check cell went for one student."""

    passed: bool
    points: float
    hint: str = ""


@dataclass
class StudentResult:
    """One student's row: the checks (by grade_id), a status from STATUSES, notes and written answers."""

    student: str
    status: str
    checks: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    written: dict = field(default_factory=dict)  # written answer text by grade_id; "" when none was given

    def total(self):
        """Points earned over all checks."""
        return sum(check.points for check in self.checks.values())


def _points(value):
    return f"{value:g}"


def _checks_and_written(exercises):
    """The exercises split into the checks and the written answers."""
    return ([exercise for exercise in exercises if not exercise.manual],
            [exercise for exercise in exercises if exercise.manual])


def gradebook_rows(exercises, results):
    """The gradebook as rows of strings: a header, then one row per student (written answers left empty)."""
    checks, written = _checks_and_written(exercises)
    header = ["student", *(exercise.column() for exercise in checks + written),
              AUTO_TOTAL if written else "total", "status", "notes"]
    rows = [header]
    for result in results:
        earned = [_points(result.checks[e.grade_id].points) if e.grade_id in result.checks else "0"
                  for e in checks]
        rows.append([result.student, *earned, *[""] * len(written), _points(result.total()), result.status,
                     "; ".join(result.notes)])
    return rows


def spreadsheet_safe(value):
    """A CSV cell a spreadsheet shows as text: one starting with = + - @ (a formula) gets a leading '."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def write_gradebook(path, exercises, results):
    """Write gradebook.csv (one row per student) in one go, replacing an older gradebook."""
    text = io.StringIO()
    rows = gradebook_rows(exercises, results)
    csv.writer(text, lineterminator="\n").writerows([[spreadsheet_safe(value) for value in row] for row in rows])
    write_atomically(path, text.getvalue())


def feedback_name(student):
    """A safe file name for a student's feedback (any character outside [A-Za-z0-9._-] becomes _)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", student).lstrip(".")
    return f"{name or 'student'}.md"


def verbatim(text):
    """Markdown lines showing a student's text as it is: a code fence longer than any run of backticks in it,
    control characters as '?'."""
    lines = [printable(line.expandtabs(4)) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", text)), default=0))
    return [fence + "text", *lines, fence]


def _written_feedback(written, result):
    """Feedback lines for the written answers: each one's text, or "no answer", for the instructor to grade."""
    lines = ["## Written answers", "", f"Your written answers are {GRADED_BY_HAND}; their points are not in the "
             "total above.", ""]
    for question in written:
        points = _points(question.points)
        lines += [f"### {question.grade_id} ({points} point{'' if points == '1' else 's'}): {GRADED_BY_HAND}", ""]
        text = result.written.get(question.grade_id, "")
        lines += [*verbatim(text), ""] if text else ["no answer", ""]
    return lines


def feedback_text(lab_name, exercises, result):
    """The Markdown feedback for one student: status, notes, each check with its hint, then written answers."""
    checks, written = _checks_and_written(exercises)
    maximum = sum(exercise.points for exercise in checks)
    lines = [f"# {lab_name}: feedback for {result.student}", "",
             f"Total: {_points(result.total())} / {_points(maximum)} points. "
             f"Status: {STATUSES[result.status]}.", ""]
    if result.notes:
        lines += ["Notes:", *(f"- {note}" for note in result.notes), ""]
    lines += ["| check | points | result |", "|---|---|---|"]
    for exercise in checks:
        check = result.checks.get(exercise.grade_id)
        if check is None:
            outcome = "not graded"
        else:
            outcome = "passed" if check.passed else "failed: " + check.hint.replace("|", "\\|")
        earned = _points(check.points) if check else "0"
        lines.append(f"| {exercise.grade_id} | {earned} / {_points(exercise.points)} | {outcome} |")
    if written:
        lines += ["", *_written_feedback(written, result)]
    return "\n".join(lines).rstrip("\n") + "\n"


def write_feedback(folder, lab_name, exercises, results):
    """Write feedback/<student>.md for every student; return the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    used = set()
    for result in results:
        name = feedback_name(result.student)
        while name in used:  # two ids that differ only in unsafe characters
            name = name[:-3] + "_.md"
        used.add(name)
        (folder / name).write_text(feedback_text(lab_name, exercises, result), encoding="utf-8")
    return folder


def printable(text):
    """Text safe to print on the instructor's terminal: control characters (escape sequences a file name
    could carry) become '?'."""
    return "".join(character if character.isprintable() else "?" for character in text)


def summary_table(exercises, results):
    """The gradebook as an aligned plain-text table for the terminal."""
    rows = [[printable(value) for value in row[:-1]] for row in gradebook_rows(exercises, results)]  # notes: CSV
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join("  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip()
                     for row in rows)
