"""What `gan-lab grade` writes: gradebook.csv, one feedback file per student, a terminal summary."""

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


@dataclass
class Exercise:
    """One graded check cell of the lab."""

    grade_id: str
    points: float


@dataclass
class CheckResult:
    """How one check cell went for one student."""

    passed: bool
    points: float
    hint: str = ""


@dataclass
class StudentResult:
    """One student's row: the checks (by grade_id), a status from STATUSES and notes."""

    student: str
    status: str
    checks: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def total(self):
        """Points earned over all checks."""
        return sum(check.points for check in self.checks.values())


def _points(value):
    return f"{value:g}"


def gradebook_rows(exercises, results):
    """The gradebook as rows of strings: a header, then one row per student."""
    header = ["student", *(exercise.grade_id for exercise in exercises), "total", "status", "notes"]
    rows = [header]
    for result in results:
        earned = [_points(result.checks[e.grade_id].points) if e.grade_id in result.checks else "0"
                  for e in exercises]
        rows.append([result.student, *earned, _points(result.total()), result.status,
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


def feedback_text(lab_name, exercises, result):
    """The Markdown feedback for one student: status, notes, then each check with its hint."""
    maximum = sum(exercise.points for exercise in exercises)
    lines = [f"# {lab_name}: feedback for {result.student}", "",
             f"Total: {_points(result.total())} / {_points(maximum)} points. "
             f"Status: {STATUSES[result.status]}.", ""]
    if result.notes:
        lines += ["Notes:", *(f"- {note}" for note in result.notes), ""]
    lines += ["| check | points | result |", "|---|---|---|"]
    for exercise in exercises:
        check = result.checks.get(exercise.grade_id)
        if check is None:
            outcome = "not graded"
        else:
            outcome = "passed" if check.passed else "failed: " + check.hint.replace("|", "\\|")
        earned = _points(check.points) if check else "0"
        lines.append(f"| {exercise.grade_id} | {earned} / {_points(exercise.points)} | {outcome} |")
    return "\n".join(lines) + "\n"


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
