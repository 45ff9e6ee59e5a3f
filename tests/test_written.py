"""Written answers (gan_lab.grading.written): graded by hand, carried from the submission to the feedback.

One real `gan-lab grade` run (sandboxed) over a tiny synthetic lab with one check and two written
answers, for two students: one who answered, one who left the answers blank.
"""

import copy
import csv
import io
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell, new_output
from notebook_helpers import answer_cell, graded_cell, notebook, written_cell

from gan_lab.authoring.student_version import student_version
from gan_lab.grading.grade import GradingError, grade_lab
from gan_lab.grading.gradebook import Exercise
from gan_lab.grading.written import written_answers, written_questions
from gan_lab.notebook_io import NotebookError, nbgrader

MODEL_WHY = "Real images are scaled to [-1, 1], the range of tanh."
MODEL_COLLAPSE = "The generator keeps drawing the same few digits whatever its noise."
ALICE_WHY = "tanh ends in [-1, 1], like the **scaled** images."
ALICE_COLLAPSE = "It draws only ones.\n\n| a table | row |"


def tiny_lab():
    """A solution with one code answer and its check, then two questions with written answers."""
    check = graded_cell("assert double(2) == 4\nprint('double: passed')", grade_id="check_double")
    check.outputs, check.execution_count = [new_output("stream", name="stdout", text="double: passed\n")], 1
    return notebook(
        answer_cell("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION", "double"),
        check,
        new_markdown_cell("Why does the generator end in tanh?", id="ask_why"),
        written_cell(MODEL_WHY, grade_id="why_tanh", points=2),
        new_markdown_cell("What is mode collapse?", id="ask_collapse"),
        written_cell(MODEL_COLLAPSE, grade_id="collapse", points=1),
    )


def handed_in(written=None, drop=()):
    """The tiny lab as a student hands it in: `double` solved, written answers by grade_id, cells dropped."""
    lab = student_version(tiny_lab(), "solutions/lab01_words.ipynb")
    for cell in lab.cells:
        grade_id = nbgrader(cell).get("grade_id")
        if grade_id == "double":
            cell.source = "def double(x):\n    return 2 * x"
        elif grade_id in (written or {}):
            cell.source = written[grade_id]
    lab.cells = [cell for cell in lab.cells if nbgrader(cell).get("grade_id") not in drop]
    return lab


# ---- the lab's written answers -------------------------------------------------------------


def test_written_questions_are_manual_exercises_with_their_points():
    assert written_questions(tiny_lab()) == [Exercise("why_tanh", 2.0, manual=True),
                                             Exercise("collapse", 1.0, manual=True)]


def test_a_written_answer_without_points_cannot_be_graded_and_the_error_names_it():
    lab = tiny_lab()
    del lab.cells[3].metadata["nbgrader"]["points"]
    with pytest.raises(NotebookError, match="^grade_id 'why_tanh': a written answer needs a positive number"):
        written_questions(lab)


# ---- matching a submission's written answers -----------------------------------------------


def test_written_answers_are_matched_by_grade_id_whatever_their_order():
    submission = handed_in({"why_tanh": ALICE_WHY, "collapse": ALICE_COLLAPSE})
    submission.cells.reverse()
    answers = written_answers(tiny_lab(), submission)
    assert answers.sources == {"why_tanh": ALICE_WHY, "collapse": ALICE_COLLAPSE} and answers.notes == []


def test_written_answers_that_lost_their_grade_id_are_taken_in_order_with_a_note():
    submission = handed_in({"why_tanh": ALICE_WHY, "collapse": ALICE_COLLAPSE})
    for cell in submission.cells:
        if nbgrader(cell).get("grade_id") in ("why_tanh", "collapse"):
            del cell.metadata["nbgrader"]["grade_id"]
    answers = written_answers(tiny_lab(), submission)
    assert answers.sources == {"why_tanh": ALICE_WHY, "collapse": ALICE_COLLAPSE}
    assert answers.notes == ["written answer why_tanh found by its position",
                             "written answer collapse found by its position"]


def test_a_placeholder_an_empty_cell_or_a_deleted_cell_is_no_answer():
    submission = handed_in({"collapse": "  \n"})
    assert written_answers(tiny_lab(), submission).sources == {"why_tanh": "", "collapse": ""}
    assert written_answers(tiny_lab(), handed_in(drop={"why_tanh", "collapse"})).sources == {
        "why_tanh": "", "collapse": ""}


def test_a_written_answer_with_markers_left_as_handed_out_is_no_answer():
    lab = notebook(written_cell("Explain.\n\n### BEGIN SOLUTION\n" + MODEL_WHY + "\n### END SOLUTION", "why_tanh"))
    blank = student_version(lab, "solutions/lab01_words.ipynb")
    assert written_answers(lab, blank).sources == {"why_tanh": ""}
    answered = copy.deepcopy(blank)
    answered.cells[1].source = "Explain.\n\n" + ALICE_WHY
    assert written_answers(lab, answered).sources == {"why_tanh": "Explain.\n\n" + ALICE_WHY}


# ---- a real grading run ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """`gan-lab grade` over alice (answered both questions) and bob (left one blank, deleted the other)."""
    root = tmp_path_factory.mktemp("written")
    for folder in ("solutions", "class"):
        (root / folder).mkdir()
    nbformat.write(tiny_lab(), root / "solutions" / "lab01_words.ipynb")
    nbformat.write(handed_in({"why_tanh": ALICE_WHY, "collapse": ALICE_COLLAPSE}), root / "class" / "alice.ipynb")
    nbformat.write(handed_in(drop={"collapse"}), root / "class" / "bob.ipynb")
    run = subprocess.run(
        [sys.executable, "-m", "gan_lab", "grade", str(root / "class"), "--lab", "lab01", "--out", str(root / "grades"),
         "--solutions", str(root / "solutions"), "--cell-timeout", "60"],
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    feedback = {path.name: path.read_text() for path in (root / "grades" / "feedback").iterdir()}
    return {"stdout": run.stdout, "gradebook": (root / "grades" / "gradebook.csv").read_text(), "feedback": feedback}


def test_the_gradebook_has_an_empty_manual_column_per_written_answer_and_the_checks_total(graded):
    rows = list(csv.reader(io.StringIO(graded["gradebook"])))
    assert rows == [
        ["student", "check_double", "why_tanh (manual, /2)", "collapse (manual, /1)",
         "total (auto; manual not included)", "status", "notes"],
        ["alice", "1", "", "", "1", "graded", ""],
        ["bob", "1", "", "", "1", "graded", ""],
    ]
    assert "written answers to grade by hand: why_tanh, collapse" in graded["stdout"]
    assert "tanh ends" not in graded["stdout"]


def test_the_feedback_shows_the_students_answer_text_or_no_answer(graded):
    alice, bob = graded["feedback"]["alice.md"], graded["feedback"]["bob.md"]
    assert f"### why_tanh (2 points): graded by your instructor\n\n```text\n{ALICE_WHY}\n```" in alice
    assert f"### collapse (1 point): graded by your instructor\n\n```text\n{ALICE_COLLAPSE}\n```" in alice
    assert "### why_tanh (2 points): graded by your instructor\n\nno answer\n" in bob
    assert "### collapse (1 point): graded by your instructor\n\nno answer\n" in bob
    assert all(MODEL_WHY not in text and MODEL_COLLAPSE not in text for text in (alice, bob))


def test_grading_a_lab_whose_written_answer_has_no_points_is_a_one_line_error(tmp_path):
    lab = tiny_lab()
    lab.cells[5].metadata["nbgrader"]["points"] = 0
    (tmp_path / "solutions").mkdir()
    nbformat.write(lab, tmp_path / "solutions" / "lab01_words.ipynb")
    with pytest.raises(GradingError, match=r"lab01_words\.ipynb: grade_id 'collapse': a written answer needs a "
                                           r"positive number of points but has points 0: set \"points\": 1"):
        grade_lab([tmp_path / "alice.ipynb"], "lab01", out=tmp_path / "grades", solutions=tmp_path / "solutions")
