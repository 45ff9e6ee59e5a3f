"""Reading, testing and writing notebooks (gan_lab.notebook_io), shared by authoring and grading."""

import json
import os
import re

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell
from notebook_helpers import (
    answer_cell, generator_notebook, graded_cell, nbgrader as nbgrader_metadata, notebook, written_cell,
)

from gan_lab.notebook_io import (
    NotebookError, answer_cells, grade_ids, graded_cells, is_answer, is_check, is_written_answer, keep_previous,
    nbgrader, parse_notebook, read_notebook, stamped_path, write_atomically, written_answer_cells, written_points,
)


def test_cells_without_ids_get_the_same_ids_every_time(tmp_path):
    nb = json.loads(nbformat.writes(generator_notebook()))
    for cell in nb["cells"]:
        del cell["id"]
    (tmp_path / "lab.ipynb").write_text(json.dumps(nb))
    first = read_notebook(tmp_path / "lab.ipynb")
    assert [cell.id for cell in first.cells] == ["cell-0", "cell-1", "cell-2"]
    assert read_notebook(tmp_path / "lab.ipynb") == first


def test_nbgrader_helpers_tell_answers_from_checks():
    nb = notebook(answer_cell("x = 1", "make-noise"), graded_cell("check(x)", "check-noise", points=2))
    nb.cells[0].metadata["nbgrader"] = "not a dict"
    assert nbgrader(nb.cells[0]) == {} and not is_answer(nb.cells[0])
    nb = notebook(answer_cell("x = 1", "make-noise"), graded_cell("check(x)", "check-noise", points=2))
    assert [is_answer(c) for c in nb.cells] == [True, False] and [is_check(c) for c in nb.cells] == [False, True]
    assert answer_cells(nb) == [nb.cells[0]] and graded_cells(nb) == [nb.cells[1]]
    assert grade_ids(nb) == {"make-noise", "check-noise"}


def test_a_written_answer_is_a_graded_markdown_answer_and_never_a_code_answer_or_check():
    region = new_markdown_cell("### BEGIN SOLUTION\nx\n### END SOLUTION",
                               metadata=nbgrader_metadata("region", solution=True))
    nb = notebook(answer_cell("x = 1", "make-noise"), graded_cell("check(x)", "check-noise"),
                  written_cell("Because tanh matches [-1, 1].", "why-tanh"), region)
    assert [is_written_answer(c) for c in nb.cells] == [False, False, True, False]
    assert written_answer_cells(nb) == [nb.cells[2]]
    assert answer_cells(nb) == [nb.cells[0]] and graded_cells(nb) == [nb.cells[1]]
    assert "why-tanh" in grade_ids(nb)


def test_written_points_are_read_as_a_number():
    assert written_points(written_cell("answer", points=2)) == 2.0
    assert written_points(written_cell("answer", points=0.5)) == 0.5


@pytest.mark.parametrize("points, has", [(None, "no points"), (0, "points 0"), (-1, "points -1"),
                                         ("2", "points '2'"), (True, "points True"), (float("nan"), "points nan")])
def test_written_points_missing_or_not_positive_are_a_one_line_error_saying_the_fix(points, has):
    cell = written_cell("answer")
    cell.metadata["nbgrader"].pop("points")
    if points is not None:
        cell.metadata["nbgrader"]["points"] = points
    with pytest.raises(NotebookError, match=f"has {re.escape(has)}: set \"points\": 1") as caught:
        written_points(cell)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("data, strict, message", [
    (b"\xff\xfe", False, "not a notebook: the file is not UTF-8 text"),
    (b'{"cells": [', False, "not a notebook: invalid JSON (line 1"),
    (b"[1, 2]", False, "not a notebook: the JSON has no cells"),
    (json.dumps({"nbformat": 5, "cells": []}).encode(), False, "nbformat 5 cannot be read (the kit reads nbformat 4, "
     "and 3 by conversion)"),
    (json.dumps({"nbformat": 3, "worksheets": []}).encode(), True, "nbformat 3 cannot be read (the kit reads "
     "nbformat 4)"),
    (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                 "cells": [{"id": "a", "source": "x"}]}).encode(), True, "fails nbformat validation"),
    (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"id": "a", "cell_type": "markdown", "metadata": {}, "source": ""},
        {"id": "a", "cell_type": "markdown", "metadata": {}, "source": ""}]}).encode(), True, "two cells share an id"),
])
def test_a_bad_notebook_is_one_line_saying_what_is_wrong(data, strict, message):
    with pytest.raises(NotebookError, match=re.escape(message)) as caught:
        parse_notebook(data, strict=strict)
    assert "\n" not in str(caught.value)


def test_read_notebook_names_the_file_and_the_fix(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("{")
    with pytest.raises(NotebookError, match=re.escape(f"{path}: not a notebook: invalid JSON")) as caught:
        read_notebook(path)
    assert str(caught.value).endswith("open it in Jupyter and save it again, or restore it from version control.")
    with pytest.raises(NotebookError, match="cannot be read"):
        read_notebook(tmp_path / "missing.ipynb")


def test_write_atomically_replaces_the_file_and_keeps_its_permissions(tmp_path):
    path = tmp_path / "lab.ipynb"
    path.write_text("old")
    os.chmod(path, 0o640)
    write_atomically(path, "new")
    assert path.read_text() == "new" and oct(path.stat().st_mode & 0o777) == oct(0o640)
    write_atomically(tmp_path / "fresh.csv", b"bytes")
    fresh = tmp_path / "fresh.csv"
    assert fresh.read_bytes() == b"bytes" and fresh.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh.csv", "lab.ipynb"]  # no temporary left


def test_a_failed_atomic_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "gradebook.csv"
    path.write_text("kept")
    with pytest.raises(TypeError):
        write_atomically(path, 12345)
    assert path.read_text() == "kept" and [p.name for p in tmp_path.iterdir()] == ["gradebook.csv"]


def test_stamped_paths_never_collide_and_keep_previous_moves_aside(tmp_path):
    first = stamped_path(tmp_path, "lab01-", ".ipynb")
    first.write_text("one")
    second = stamped_path(tmp_path, "lab01-", ".ipynb")
    assert second != first and second.name.startswith("lab01-") and second.suffix == ".ipynb"
    (tmp_path / "feedback").mkdir()
    (tmp_path / "feedback" / "a.md").write_text("a")
    moved = keep_previous(tmp_path / "feedback")
    assert moved.name.startswith("feedback.previous-") and (moved / "a.md").read_text() == "a"
    assert not (tmp_path / "feedback").exists() and keep_previous(tmp_path / "nothing.csv") is None
