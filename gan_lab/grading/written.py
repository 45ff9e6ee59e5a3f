"""Written answers: nbgrader's manually graded Markdown cells, which the instructor grades by hand.

No written answer is run. The lab's written answers become manual exercises (an empty gradebook
column each), and each student's text is carried from the submission to the feedback file.
"""

from gan_lab.authoring.student_version import WRITTEN_PLACEHOLDER, student_source
from gan_lab.grading.gradebook import Exercise
from gan_lab.grading.submissions import Answers
from gan_lab.notebook_io import NotebookError, nbgrader, written_answer_cells, written_points


def written_questions(reference):
    """The lab's written answers as manual Exercises, in notebook order; bad points raise a NotebookError."""
    questions = []
    for cell in written_answer_cells(reference):
        grade_id = nbgrader(cell).get("grade_id")
        try:
            questions.append(Exercise(grade_id, written_points(cell), manual=True))
        except NotebookError as error:
            raise NotebookError(f"grade_id {grade_id!r}: {error}") from None
    return questions


def _answer_text(theirs, question):
    """The student's text, or "" when they left the cell empty or as handed out (or deleted it)."""
    text = theirs.source.strip() if theirs is not None else ""
    return "" if text in (WRITTEN_PLACEHOLDER, student_source(question).strip()) else text


def written_answers(reference, submission):
    """Answers: each written answer's text by grade_id ("" for none), matched by grade_id, else by order."""
    theirs = written_answer_cells(submission)
    by_id = {nbgrader(cell)["grade_id"]: cell for cell in theirs if nbgrader(cell).get("grade_id")}
    without_id = iter([cell for cell in theirs if not nbgrader(cell).get("grade_id")])
    answers = Answers({})
    for question in written_answer_cells(reference):
        grade_id = nbgrader(question)["grade_id"]
        found = by_id.get(grade_id)
        if found is None:
            found = next(without_id, None)  # a cell that lost its grade_id: take them in order
            if found is not None:
                answers.notes.append(f"written answer {grade_id} found by its position")
        answers.sources[grade_id] = _answer_text(found, question)
    return answers
