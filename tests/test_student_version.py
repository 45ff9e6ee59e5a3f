"""Tests for gan_lab.authoring.student_version: solution notebooks in, student labs out."""

import ast

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output
from notebook_helpers import answer_cell, generator_notebook, graded_cell, nbgrader, notebook, written_cell

from gan_lab.authoring.student_version import (
    LabToolError,
    check_cells,
    find_solution_cells,
    first_exercise_index,
    student_source,
    student_version,
)

SOURCE = "solutions/lab01_generator.ipynb"


def lab_of(*cells):
    """The student version of a notebook made of `cells`, without the notice cell."""
    return student_version(notebook(*cells), SOURCE).cells[1:]


# ---- solution regions ----------------------------------------------------------------------


def test_region_in_function_body_becomes_placeholder_at_marker_indentation():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
    (cell,) = lab_of(answer_cell(source))
    assert cell.source == "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    ast.parse(cell.source)


def test_region_in_nested_block_keeps_the_deeper_indentation():
    source = (
        "class Generator:\n"
        "    def call(self, z):\n"
        "        if z is not None:\n"
        "            ### BEGIN SOLUTION\n"
        "            z = z * 2\n"
        "            return z\n"
        "            ### END SOLUTION\n"
        "        return None\n"
    )
    (cell,) = lab_of(answer_cell(source))
    placeholder = "            # YOUR CODE HERE\n            raise NotImplementedError()\n"
    assert placeholder + "        return None\n" in cell.source
    ast.parse(cell.source)


def test_top_level_region_becomes_unindented_placeholder():
    source = "### BEGIN SOLUTION\nlatent_dim = 64\n### END SOLUTION\nprint(latent_dim)"
    (cell,) = lab_of(answer_cell(source))
    assert cell.source == "# YOUR CODE HERE\nraise NotImplementedError()\nprint(latent_dim)"
    ast.parse(cell.source)


def test_several_regions_in_one_cell_are_each_replaced():
    source = (
        "def g():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n\n"
        "def d():\n    ### BEGIN SOLUTION\n    return 0\n    ### END SOLUTION\n"
    )
    (cell,) = lab_of(answer_cell(source))
    assert cell.source.count("# YOUR CODE HERE") == 2
    assert "return" not in cell.source
    ast.parse(cell.source)


def test_markdown_region_becomes_your_answer_here():
    cell = new_markdown_cell(
        "Why does the generator use tanh?\n\n"
        "### BEGIN SOLUTION\nImages are scaled to [-1, 1].\n### END SOLUTION",
        id="why-tanh",
        metadata=nbgrader("why-tanh", solution=True),
    )
    (lab_cell,) = lab_of(cell)
    assert lab_cell.source == "Why does the generator use tanh?\n\nYOUR ANSWER HERE"


MODEL_ANSWER = "Real images are scaled to [-1, 1], and tanh maps onto exactly that range."


def test_a_written_answer_becomes_exactly_your_answer_here_and_its_model_answer_is_gone():
    solution = notebook(new_markdown_cell("Why does the generator end in tanh?", id="question"),
                        written_cell(MODEL_ANSWER, grade_id="why-tanh"))
    lab = student_version(solution, SOURCE)
    question, answer = lab.cells[1:]
    assert answer.source == "YOUR ANSWER HERE" and question.source == "Why does the generator end in tanh?"
    assert "scaled to" not in nbformat.writes(lab)
    assert student_source(solution.cells[1]) == "YOUR ANSWER HERE"


def test_a_written_answer_keeps_its_points_and_grade_id_and_students_can_type_in_it_but_not_delete_it():
    cell = written_cell(MODEL_ANSWER, grade_id="why-tanh", points=3)
    cell.metadata.update(editable=False)
    cell.metadata["nbgrader"]["locked"] = True
    (lab_cell,) = lab_of(cell)
    assert lab_cell.cell_type == "markdown" and lab_cell.id == "why-tanh"
    assert lab_cell.metadata == {"nbgrader": {"grade": True, "grade_id": "why-tanh", "locked": False, "points": 3,
                                              "schema_version": 3, "solution": True}, "deletable": False}


def test_a_written_answer_with_markers_keeps_the_text_around_them():
    cell = written_cell("Explain mode collapse.\n\n### BEGIN SOLUTION\n" + MODEL_ANSWER + "\n### END SOLUTION")
    (lab_cell,) = lab_of(cell)
    assert lab_cell.source == "Explain mode collapse.\n\nYOUR ANSWER HERE"


@pytest.mark.parametrize("points", [None, 0, -2, "2", True], ids=["missing", "zero", "negative", "text", "bool"])
def test_a_written_answer_without_positive_points_is_a_one_line_error_naming_notebook_grade_id_and_fix(points):
    cell = written_cell(MODEL_ANSWER, grade_id="why-tanh")
    cell.metadata["nbgrader"].pop("points")
    if points is not None:
        cell.metadata["nbgrader"]["points"] = points
    with pytest.raises(LabToolError) as caught:
        lab_of(new_markdown_cell("intro", id="intro"), cell)
    message = str(caught.value)
    assert message.startswith("solutions/lab01_generator.ipynb, cell 2 of 2 (grade_id 'why-tanh'): ")
    assert message.endswith('set "points": 1 (or more) in its nbgrader metadata.') and "\n" not in message


def test_a_markdown_answer_without_markers_or_grade_is_an_error_rather_than_a_leak():
    cell = new_markdown_cell(MODEL_ANSWER, id="loose", metadata=nbgrader("loose", solution=True))
    with pytest.raises(LabToolError, match=r"cell 1 of 1 \(grade_id 'loose'\): a Markdown answer cell without "
                                           r"solution markers must be a written answer; set nbgrader grade: true"):
        lab_of(cell)


def test_hidden_tests_are_removed_with_their_markers():
    source = "assert f(1) == 2\n### BEGIN HIDDEN TESTS\nassert f(3) == 6\n### END HIDDEN TESTS\n"
    (cell,) = lab_of(graded_cell(source))
    assert cell.source == "assert f(1) == 2\n"


def test_every_generated_code_cell_compiles():
    lab = student_version(generator_notebook(), SOURCE)
    for cell in lab.cells:
        if cell.cell_type == "code":
            compile(cell.source, cell.id, "exec")


def test_magic_lines_are_ignored_when_checking_that_cells_are_python():
    source = "%matplotlib inline\n!ls data\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION"
    (cell,) = lab_of(answer_cell(source))
    assert cell.source.startswith("%matplotlib inline\n!ls data\n# YOUR CODE HERE")


def test_region_that_leaves_invalid_python_is_an_error_naming_notebook_and_cell():
    source = "total = sum(\n    ### BEGIN SOLUTION\n    [1, 2]\n    ### END SOLUTION\n)"
    where = r"lab01_generator\.ipynb, cell 1 of 1 \(grade_id 'sum'\)"
    with pytest.raises(LabToolError, match=where + ": the student version is not valid Python"):
        lab_of(answer_cell(source, grade_id="sum"))


# ---- cells, outputs and metadata -----------------------------------------------------------


def test_outputs_execution_counts_and_timing_metadata_are_cleared():
    cell = answer_cell("### BEGIN SOLUTION\nprint(1)\n### END SOLUTION", execution_count=7)
    cell.outputs = [new_output("stream", name="stdout", text="1\n")]
    cell.metadata["execution"] = {"iopub.status.busy": "2024-05-01T10:00:00Z"}
    cell.metadata["ExecuteTime"] = {"start_time": "2024-05-01T10:00:00Z"}
    (lab_cell,) = lab_of(cell)
    assert lab_cell.outputs == [] and lab_cell.execution_count is None
    assert "execution" not in lab_cell.metadata and "ExecuteTime" not in lab_cell.metadata


def test_notice_cell_comes_first_and_never_names_where_the_solutions_live():
    notice = student_version(generator_notebook(), SOURCE).cells[0]
    assert notice.cell_type == "markdown"
    assert notice.id == "generated-notice"
    assert notice.metadata == {"gan_lab": {"generated": True}}
    assert notice.source.startswith("> This notebook was generated by `gan-lab make-labs`.")
    assert "solutions/" not in notice.source


def test_check_cells_are_locked_and_answer_cells_cannot_be_deleted():
    _, _, answer, check = student_version(generator_notebook(), SOURCE).cells
    assert check.metadata["editable"] is False and check.metadata["deletable"] is False
    assert check.metadata["nbgrader"]["locked"] is True
    assert answer.metadata["deletable"] is False and "editable" not in answer.metadata


def test_cell_ids_tags_and_nbgrader_metadata_are_preserved():
    solution = generator_notebook()
    solution.cells[1].metadata["tags"] = ["exercise"]
    lab = student_version(solution, SOURCE)
    ids = [cell.id for cell in lab.cells]
    assert ids == ["generated-notice", "intro", "make-noise", "check-make-noise"]
    assert lab.cells[2].metadata == {**nbgrader("make-noise", solution=True), "tags": ["exercise"],
                                     "deletable": False}
    assert lab.cells[3].metadata["nbgrader"] == {
        "grade": True, "grade_id": "check-make-noise", "locked": True, "points": 1,
        "schema_version": 3, "solution": False,
    }


def test_notebook_metadata_is_kept_but_widget_state_is_dropped():
    solution = generator_notebook()
    solution.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    lab = student_version(solution, SOURCE)
    assert "widgets" not in lab.metadata
    assert lab.metadata["kernelspec"]["name"] == "python3"


def test_student_version_leaves_the_solution_notebook_untouched():
    solution = generator_notebook()
    before = nbformat.writes(solution)
    student_version(solution, SOURCE)
    assert nbformat.writes(solution) == before


def test_student_version_of_a_lab_does_not_stack_notices():
    lab = student_version(generator_notebook(), SOURCE)
    assert student_version(lab, SOURCE) == lab


def test_exercise_and_check_cell_indices():
    nb = generator_notebook()
    assert find_solution_cells(nb) == [1]
    assert first_exercise_index(nb) == 1
    assert check_cells(nb) == [2]
    assert first_exercise_index(notebook(new_markdown_cell("no exercises"))) is None
    nb.cells.append(written_cell(MODEL_ANSWER))
    assert check_cells(nb) == [2]  # a written answer is graded by hand: no check can fail on it


# ---- marker errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, problem",
    [
        ("x = 1\n### BEGIN SOLUTION\nx = 2\n", "line 2: the region opened here is never closed"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "line 2: ### BEGIN SOLUTION inside"),
        ("x = 1\n### END SOLUTION", "line 2: ### END SOLUTION has no BEGIN line"),
        ("### BEGIN SOLUTION\nx = 2\n### END HIDDEN TESTS", "line 3: ### END HIDDEN TESTS closes the"),
        ("## BEGIN SOLUTION\nx = 2\n## END SOLUTION", "line 1: '## BEGIN SOLUTION' looks like a marker"),
    ],
    ids=["unclosed", "nested", "unmatched-end", "mixed", "misspelt"],
)
def test_bad_markers_are_errors_naming_notebook_cell_and_line(source, problem):
    solution = notebook(new_markdown_cell("intro", id="intro"), answer_cell(source, grade_id="broken"))
    where = r"lab01_generator\.ipynb, cell 2 of 2 \(grade_id 'broken'\), "
    with pytest.raises(LabToolError, match=where + problem):
        student_version(solution, SOURCE)


def test_solution_markers_without_solution_metadata_are_an_error_saying_the_fix():
    cell = new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", id="plain")
    with pytest.raises(LabToolError, match=r"cell 1 of 1: has solution markers.*nbgrader\.solution = true"):
        lab_of(cell)
