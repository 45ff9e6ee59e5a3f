"""Tests for gan_lab.notebooks: solution notebooks in, student labs out."""

import ast
import hashlib
import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from gan_lab.notebooks import (
    LabToolError,
    check_cells,
    find_solution_cells,
    first_exercise_index,
    make_labs,
    read_notebook,
    stale_labs,
    student_version,
)

SOURCE = "solutions/lab01_generator.ipynb"


def nbgrader(grade_id, solution=False, grade=False, points=0):
    """The cell metadata nbgrader writes for an answer or a test cell."""
    meta = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3}
    meta["solution"] = solution
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def answer_cell(source, grade_id="answer", **kwargs):
    return new_code_cell(source, id=grade_id, metadata=nbgrader(grade_id, solution=True), **kwargs)


def graded_cell(source, grade_id="test", points=1):
    return new_code_cell(source, id=grade_id, metadata=nbgrader(grade_id, grade=True, points=points))


def notebook(*cells):
    nb = new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def lab_of(*cells):
    """The student version of a notebook made of `cells`, without the notice cell."""
    return student_version(notebook(*cells), SOURCE).cells[1:]


def write_solutions(folder, **notebooks):
    folder.mkdir(exist_ok=True)
    for name, nb in notebooks.items():
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def folder_hashes(folder):
    files = (path for path in folder.rglob("*") if path.is_file())
    return {path.relative_to(folder): hashlib.sha256(path.read_bytes()).hexdigest() for path in files}


def generator_notebook():
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


def test_notice_cell_comes_first_and_names_the_source_notebook():
    notice = student_version(generator_notebook(), SOURCE).cells[0]
    assert notice.cell_type == "markdown"
    assert notice.id == "generated-notice"
    assert notice.metadata == {"gan_lab": {"generated": True}}
    assert notice.source == (
        "> This notebook was generated from `solutions/lab01_generator.ipynb` by "
        "`gan-lab make-labs`. Fill in the cells marked `# YOUR CODE HERE`; "
        "instructors edit the solution notebook, not this file."
    )


def test_cell_ids_tags_and_nbgrader_metadata_are_preserved():
    solution = generator_notebook()
    solution.cells[1].metadata["tags"] = ["exercise"]
    lab = student_version(solution, SOURCE)
    ids = [cell.id for cell in lab.cells]
    assert ids == ["generated-notice", "intro", "make-noise", "check-make-noise"]
    assert lab.cells[2].metadata == {**nbgrader("make-noise", solution=True), "tags": ["exercise"]}
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


@pytest.mark.parametrize(
    "text, problem",
    [
        ('{"cells": [', "cannot be read as notebook JSON"),
        ('{"nbformat": 3, "nbformat_minor": 0, "worksheets": []}', "is not an nbformat 4 notebook"),
        ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"id": "a", "source": "x"}]}',
         "fails nbformat validation"),
    ],
    ids=["bad-json", "not-v4", "invalid-v4"],
)
def test_malformed_notebook_is_a_one_line_error_naming_the_file(tmp_path, text, problem):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "lab09_broken.ipynb").write_text(text)
    with pytest.raises(LabToolError) as caught:
        make_labs(tmp_path / "solutions", tmp_path / "labs")
    message = str(caught.value)
    assert "lab09_broken.ipynb" in message and problem in message and "\n" not in message


def test_cells_without_ids_get_the_same_ids_every_time(tmp_path):
    nb = json.loads(nbformat.writes(generator_notebook()))
    for cell in nb["cells"]:
        del cell["id"]
    (tmp_path / "lab.ipynb").write_text(json.dumps(nb))
    first = read_notebook(tmp_path / "lab.ipynb")
    assert [cell.id for cell in first.cells] == ["cell-0", "cell-1", "cell-2"]
    assert read_notebook(tmp_path / "lab.ipynb") == first


# ---- make_labs and stale_labs --------------------------------------------------------------


def test_make_labs_writes_one_lab_per_solution_sorted_and_skips_checkpoints(tmp_path):
    solutions = write_solutions(
        tmp_path / "solutions", lab02_critic=generator_notebook(), lab01_generator=generator_notebook()
    )
    write_solutions(solutions / ".ipynb_checkpoints", lab01_generator=generator_notebook())
    report = make_labs(solutions, tmp_path / "labs")
    assert [(path.name, action) for path, action in report] == [
        ("lab01_generator.ipynb", "written"),
        ("lab02_critic.ipynb", "written"),
    ]
    written = sorted(path.name for path in (tmp_path / "labs").iterdir())
    assert written == ["lab01_generator.ipynb", "lab02_critic.ipynb"]
    lab = read_notebook(tmp_path / "labs" / "lab01_generator.ipynb")
    assert "`solutions/lab01_generator.ipynb`" in lab.cells[0].source


def test_make_labs_twice_reports_unchanged_and_leaves_identical_bytes(tmp_path):
    solutions = write_solutions(tmp_path / "solutions", lab01_generator=generator_notebook())
    make_labs(solutions, tmp_path / "labs")
    first = (tmp_path / "labs" / "lab01_generator.ipynb").read_bytes()
    report = make_labs(solutions, tmp_path / "labs")
    assert [action for _, action in report] == ["unchanged"]
    assert (tmp_path / "labs" / "lab01_generator.ipynb").read_bytes() == first
    assert first.endswith(b"}\n") and b'\n "nbformat": 4,\n' in first


def test_make_labs_never_modifies_the_solutions_folder(tmp_path):
    solved = generator_notebook()
    solved.cells[1].outputs = [new_output("stream", name="stdout", text="ok\n")]
    solved.cells[1].execution_count = 1
    solutions = write_solutions(
        tmp_path / "solutions", lab01_generator=solved, lab02_critic=generator_notebook()
    )
    before = folder_hashes(solutions)
    make_labs(solutions, tmp_path / "labs")
    make_labs(solutions, tmp_path / "labs")
    assert folder_hashes(solutions) == before


def test_make_labs_refuses_a_labs_folder_inside_solutions(tmp_path):
    solutions = write_solutions(tmp_path / "solutions", lab01_generator=generator_notebook())
    before = folder_hashes(solutions)
    for labs in (solutions, solutions / "labs"):
        with pytest.raises(LabToolError, match="pick a labs folder outside it"):
            make_labs(solutions, labs)
    assert folder_hashes(solutions) == before


def test_one_bad_solution_stops_make_labs_before_any_lab_is_written(tmp_path):
    broken = notebook(answer_cell("### BEGIN SOLUTION\nx = 1\n"))
    solutions = write_solutions(
        tmp_path / "solutions", lab01_generator=generator_notebook(), lab02_broken=broken
    )
    with pytest.raises(LabToolError, match="lab02_broken.ipynb"):
        make_labs(solutions, tmp_path / "labs")
    assert not (tmp_path / "labs" / "lab01_generator.ipynb").exists()


def test_stale_labs_is_empty_right_after_make_labs(tmp_path):
    solutions = write_solutions(tmp_path / "solutions", lab01_generator=generator_notebook())
    make_labs(solutions, tmp_path / "labs")
    assert stale_labs(solutions, tmp_path / "labs") == []


def test_edited_solution_makes_its_lab_stale(tmp_path):
    solutions = write_solutions(tmp_path / "solutions", lab01_generator=generator_notebook())
    make_labs(solutions, tmp_path / "labs")
    edited = generator_notebook()
    edited.cells[0].source = "# Lab 1: the generator, revised"
    write_solutions(solutions, lab01_generator=edited)
    [(path, reason)] = stale_labs(solutions, tmp_path / "labs")
    assert path.name == "lab01_generator.ipynb"
    assert "differs from what solutions/lab01_generator.ipynb generates" in reason


def test_missing_lab_is_stale(tmp_path):
    solutions = write_solutions(tmp_path / "solutions", lab01_generator=generator_notebook())
    [(path, reason)] = stale_labs(solutions, tmp_path / "labs")
    assert path == tmp_path / "labs" / "lab01_generator.ipynb" and reason.startswith("missing")


def test_extra_lab_without_a_solution_is_stale(tmp_path):
    solutions = write_solutions(tmp_path / "solutions", lab01_generator=generator_notebook())
    make_labs(solutions, tmp_path / "labs")
    write_solutions(tmp_path / "labs", lab99_orphan=generator_notebook())
    [(path, reason)] = stale_labs(solutions, tmp_path / "labs")
    assert path.name == "lab99_orphan.ipynb" and reason.startswith("extra")


# ---- student work is never lost ------------------------------------------------------------


def regenerate_after_solution_edit(tmp_path, student_edit):
    """Make a lab, let `student_edit` change it, edit the solution, make labs again."""
    solutions = write_solutions(tmp_path / "solutions", lab01_generator=generator_notebook())
    lab_path = tmp_path / "labs" / "lab01_generator.ipynb"
    make_labs(solutions, tmp_path / "labs")
    lab = nbformat.read(lab_path, as_version=4)
    student_edit(lab)
    nbformat.write(lab, lab_path)
    students_bytes = lab_path.read_bytes()
    edited = generator_notebook()
    edited.cells[0].source = "# Lab 1: the generator, revised"
    write_solutions(solutions, lab01_generator=edited)
    [(_, action)] = make_labs(solutions, tmp_path / "labs")
    return lab_path, students_bytes, action


def answer_the_exercise(lab):
    answer = lab.cells[2].source.replace("raise NotImplementedError()", "return np.zeros((n, 8))")
    lab.cells[2].source = answer


def run_the_notebook(lab):
    lab.cells[2].execution_count = 1
    lab.cells[2].outputs = [new_output("stream", name="stdout", text="done\n")]


def add_a_scratch_cell(lab):
    lab.cells.append(new_code_cell("make_noise(3)", id="scratch"))


def drop_the_fingerprint(lab):
    """A lab file not written by make_labs: nothing says it is untouched, so it must be kept."""
    del lab.metadata["gan_lab"]


@pytest.mark.parametrize(
    "student_edit", [answer_the_exercise, run_the_notebook, add_a_scratch_cell, drop_the_fingerprint]
)
def test_student_work_is_backed_up_before_the_lab_is_overwritten(tmp_path, student_edit):
    lab_path, students_bytes, action = regenerate_after_solution_edit(tmp_path, student_edit)
    [backup] = (tmp_path / "labs" / ".backup").glob("lab01_generator-*.ipynb")
    assert backup.read_bytes() == students_bytes
    assert action == f"written (previous version with student work saved to {backup})"
    assert "revised" in lab_path.read_text()


def test_clean_generated_lab_is_overwritten_without_a_backup(tmp_path):
    lab_path, _, action = regenerate_after_solution_edit(tmp_path, lambda lab: None)
    assert action == "written"
    assert not (tmp_path / "labs" / ".backup").exists()
    assert "revised" in lab_path.read_text()


def test_lab_only_resaved_by_jupyter_is_overwritten_without_a_backup(tmp_path):
    def resave_with_new_notebook_metadata(lab):
        lab.metadata["language_info"] = {"name": "python"}
        lab.cells[1].metadata["collapsed"] = True

    _, _, action = regenerate_after_solution_edit(tmp_path, resave_with_new_notebook_metadata)
    assert action == "written"
    assert not (tmp_path / "labs" / ".backup").exists()
