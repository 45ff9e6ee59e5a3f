"""Tests for gan_lab.cli: the `gan-lab` command's sub-commands, help and one-line errors."""

import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from gan_lab.cli import main


def solution_notebook(folder, name="lab09_demo.ipynb", answer="return 1"):
    cell = new_code_cell(f"def f():\n    ### BEGIN SOLUTION\n    {answer}\n    ### END SOLUTION")
    cell.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "f", "locked": False,
                                 "schema_version": 3}
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(nbformat.writes(new_notebook(cells=[cell])))


@pytest.mark.parametrize("command", [[], ["make-labs"], ["validate"], ["execute"]])
def test_every_command_has_help(command):
    result = subprocess.run([sys.executable, "-m", "gan_lab", *command, "--help"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "usage: gan-lab" in result.stdout


def test_make_labs_writes_labs_and_check_passes_afterwards(tmp_path, capsys):
    solution_notebook(tmp_path / "solutions")
    args = ["--solutions", str(tmp_path / "solutions"), "--labs", str(tmp_path / "labs")]
    assert main(["make-labs", *args]) == 0
    assert "raise NotImplementedError()" in (tmp_path / "labs" / "lab09_demo.ipynb").read_text()
    assert main(["make-labs", "--check", *args]) == 0
    assert "up to date" in capsys.readouterr().out


def test_make_labs_check_fails_and_lists_a_stale_lab(tmp_path, capsys):
    solution_notebook(tmp_path / "solutions")
    args = ["--solutions", str(tmp_path / "solutions"), "--labs", str(tmp_path / "labs")]
    main(["make-labs", *args])
    solution_notebook(tmp_path / "solutions", answer="return 2")
    assert main(["make-labs", "--check", *args]) == 1
    assert "lab09_demo.ipynb" in capsys.readouterr().out


def test_make_labs_without_a_solutions_folder_is_a_one_line_error(tmp_path):
    with pytest.raises(SystemExit) as stop:
        main(["make-labs", "--solutions", str(tmp_path / "nowhere")])
    assert "no solutions folder" in str(stop.value) and "--solutions" in str(stop.value)


def test_make_labs_reports_bad_markers_without_a_traceback(tmp_path):
    solution_notebook(tmp_path / "solutions", answer="return 1\n    ### BEGIN SOLUTION")
    with pytest.raises(SystemExit) as stop:
        main(["make-labs", "--solutions", str(tmp_path / "solutions"), "--labs", str(tmp_path / "labs")])
    assert str(stop.value).startswith("gan-lab make-labs:") and "lab09_demo.ipynb" in str(stop.value)
    assert not (tmp_path / "labs" / "lab09_demo.ipynb").exists()


def test_validate_rejects_a_missing_path(tmp_path):
    with pytest.raises(SystemExit, match="does not exist"):
        main(["validate", str(tmp_path / "missing.ipynb")])


def test_execute_rejects_a_file_that_is_not_a_notebook(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(SystemExit, match="is not a notebook file"):
        main(["execute", str(tmp_path / "notes.txt")])
