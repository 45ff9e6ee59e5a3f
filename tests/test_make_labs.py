"""Tests for gan_lab.make_labs: labs/ kept in sync with solutions/, student work never lost."""

import hashlib

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_output
from notebook_helpers import answer_cell, generator_notebook, notebook

from gan_lab.make_labs import make_labs, stale_labs
from gan_lab.notebook_io import NotebookError, read_notebook
from gan_lab.notebooks import LabToolError


def write_solutions(folder, **notebooks):
    folder.mkdir(exist_ok=True)
    for name, nb in notebooks.items():
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def folder_hashes(folder):
    files = (path for path in folder.rglob("*") if path.is_file())
    return {path.relative_to(folder): hashlib.sha256(path.read_bytes()).hexdigest() for path in files}


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


@pytest.mark.parametrize(
    "text, problem",
    [
        ('{"cells": [', "not a notebook: invalid JSON (line 1"),
        ('{"nbformat": 3, "nbformat_minor": 0, "worksheets": []}',
         "nbformat 3 cannot be read (the kit reads nbformat 4)"),
        ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"id": "a", "source": "x"}]}',
         "fails nbformat validation"),
    ],
    ids=["bad-json", "not-v4", "invalid-v4"],
)
def test_malformed_notebook_is_a_one_line_error_naming_the_file(tmp_path, text, problem):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "lab09_broken.ipynb").write_text(text)
    with pytest.raises(NotebookError) as caught:
        make_labs(tmp_path / "solutions", tmp_path / "labs")
    message = str(caught.value)
    assert "lab09_broken.ipynb" in message and problem in message and "\n" not in message


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
