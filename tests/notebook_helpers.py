"""Helpers shared by the notebook tests: build nbgrader cells and small solution notebooks."""

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def nbgrader(grade_id, solution=False, grade=False, points=0):
    """The cell metadata nbgrader writes for an answer or a test cell."""
    meta = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3}
    meta["solution"] = solution
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def answer_cell(source, grade_id="answer", **kwargs):
    """An answer cell (nbgrader.solution) whose id and grade_id are `grade_id`."""
    return new_code_cell(source, id=grade_id, metadata=nbgrader(grade_id, solution=True), **kwargs)


def graded_cell(source, grade_id="test", points=1):
    """A graded test cell (nbgrader.grade) worth `points`, with id and grade_id `grade_id`."""
    return new_code_cell(source, id=grade_id, metadata=nbgrader(grade_id, grade=True, points=points))


def written_cell(source, grade_id="written", points=2):
    """A written answer: a manually graded Markdown cell (nbgrader solution and grade) worth `points`."""
    return new_markdown_cell(source, id=grade_id, metadata=nbgrader(grade_id, solution=True, grade=True, points=points))


def notebook(*cells):
    """A Python 3 notebook made of `cells`."""
    nb = new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def generator_notebook():
    """A small Lab 1 solution: an intro, one answer cell and one check with hidden tests."""
    return notebook(
        new_markdown_cell("# Lab 1: the generator", id="intro"),
        answer_cell(
            "import numpy as np\n"
            "\n"
            "def make_noise(n):\n"
            '    """Return n noise vectors."""\n'
            "    ### BEGIN SOLUTION\n"
            "    return np.random.normal(size=(n, 8))\n"
            "    ### END SOLUTION\n",
            grade_id="make-noise",
        ),
        graded_cell(
            "assert make_noise(2).shape == (2, 8)\n"
            "### BEGIN HIDDEN TESTS\n"
            "assert make_noise(5).shape == (5, 8)\n"
            "### END HIDDEN TESTS\n",
            grade_id="check-make-noise",
        ),
    )
