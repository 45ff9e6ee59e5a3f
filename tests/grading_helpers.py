"""Build student submissions from a reference solution, for the grading tests."""

import copy
import hashlib
from pathlib import Path

import nbformat

from gan_lab.notebook_io import answer_cells, is_answer, nbgrader
from gan_lab.authoring.student_version import student_version

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"


def reference(name="lab01_generator"):
    """A solution notebook of the kit."""
    return nbformat.read(SOLUTIONS / f"{name}.ipynb", as_version=4)


def without_markers(source):
    """A solution cell's source with the nbgrader marker lines removed: the answer a student writes."""
    return "\n".join(line for line in source.split("\n") if line.strip() not in
                     ("### BEGIN SOLUTION", "### END SOLUTION"))


def submission(name="lab01_generator", change=None):
    """The student lab of `name` with every answer filled in; `change` maps grade_id -> f(source)."""
    solution = reference(name)
    answers = {nbgrader(c)["grade_id"]: without_markers(c.source) for c in answer_cells(solution)}
    lab = student_version(solution, f"solutions/{name}.ipynb")
    for cell in lab.cells:
        grade_id = nbgrader(cell).get("grade_id")
        if is_answer(cell):  # written answers stay as handed out
            cell.source = answers[grade_id]
        if change and grade_id in change:
            cell.source = change[grade_id](cell.source)
    return lab


def without_cells(notebook, grade_ids):
    """A copy of `notebook` without the cells whose grade_id is in `grade_ids`."""
    notebook = copy.deepcopy(notebook)
    notebook.cells = [cell for cell in notebook.cells if nbgrader(cell).get("grade_id") not in grade_ids]
    return notebook


def write(folder, student, notebook):
    """Write `notebook` as folder/<student>.ipynb and return the path."""
    path = Path(folder) / f"{student}.ipynb"
    nbformat.write(notebook, path)
    return path


def digests(folder):
    """SHA-256 of every file below `folder`, by relative path."""
    folder = Path(folder)
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}
