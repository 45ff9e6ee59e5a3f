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


@pytest.mark.parametrize("epochs", ["abc", "0", "-3", "2.5"])
def test_train_names_the_flag_and_the_bad_value_of_epochs_and_no_function(epochs, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["train", "--epochs", epochs, "--out", "unused"])
    error = capsys.readouterr().err
    assert stop.value.code == 2
    assert f"argument --epochs: must be a positive whole number, got '{epochs}'" in error
    assert "_positive_int" not in error


def run_folder(tmp_path, epoch=None, files=("metrics.json",)):
    out = tmp_path / "run"
    out.mkdir()
    for name in files:
        (out / name).write_text('{"mnist_score": 8.5}')
    if epoch is not None:
        (out / "checkpoint").mkdir()
        (out / "checkpoint" / "state.json").write_text(f'{{"epoch": {epoch}}}')
    return out


def contents(folder):
    return {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def test_train_refuses_a_folder_holding_a_run_and_names_resume_and_a_fresh_out(tmp_path):
    out = run_folder(tmp_path, epoch=3)
    before = contents(out)
    with pytest.raises(SystemExit) as stop:
        main(["train", "--epochs", "1", "--out", str(out)])
    assert str(stop.value) == (f"gan-lab train: {out} already holds a run (checkpoint, metrics.json); "
                               "pass --resume to continue it, or a fresh --out")
    assert contents(out) == before


def test_train_resume_without_a_checkpoint_refuses_to_replace_the_run(tmp_path):
    out = run_folder(tmp_path)
    with pytest.raises(SystemExit, match="no checkpoint, so --resume cannot continue it: pass a fresh --out"):
        main(["train", "--epochs", "1", "--out", str(out), "--resume"])
    assert (out / "metrics.json").read_text() == '{"mnist_score": 8.5}'


def test_train_resume_with_nothing_left_to_train_says_so_and_exits_0(tmp_path, capsys):
    out = run_folder(tmp_path, epoch=3)
    before = contents(out)
    assert main(["train", "--epochs", "2", "--out", str(out), "--resume"]) == 0
    assert f"{out} already holds 3 epochs: nothing to train; pass a larger --epochs" in capsys.readouterr().out
    assert contents(out) == before


def test_train_resume_on_an_empty_folder_says_it_starts_fresh(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--epochs", "1", "--out", str(out), "--resume"]) == 0
    assert f"no earlier run in {out}: starting fresh" in capsys.readouterr().out
    assert (out / "checkpoint" / "state.json").read_text() == '{"epoch": 1}'


def test_train_refusal_is_the_only_line_on_stderr_without_tensorflow_start_up_notices(tmp_path):
    import os

    out = run_folder(tmp_path)
    environment = {name: value for name, value in os.environ.items() if name != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-m", "gan_lab", "train", "--epochs", "1", "--out", str(out)],
                            capture_output=True, text=True, timeout=300, env=environment)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"gan-lab train: {out} already holds a run (metrics.json); pass --resume to continue it, or a fresh --out"]


def test_report_writes_the_course_named_report_and_refuses_a_bad_id_in_one_line(tmp_path, capsys):
    from nbformat.v4 import new_markdown_cell, new_output

    cell = new_code_cell("print('MNIST score: 8.50')", outputs=[new_output("stream", name="stdout",
                                                                           text="MNIST score: 8.50\n")])
    notebook = tmp_path / "lab03_gan.ipynb"
    notebook.write_text(nbformat.writes(new_notebook(cells=[new_markdown_cell("## Measuring the result"), cell])))
    assert main(["report", str(notebook), "--id", "2023001234", "--name", "张三", "--out", str(tmp_path)]) == 0
    report = tmp_path / "第3次实验-2023001234-张三.md"
    assert "## Measuring the result\n\n```text\nMNIST score: 8.50\n```" in report.read_text(encoding="utf-8")
    assert f"report: {report}" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stop:
        main(["report", str(notebook), "--id", "2023/../x", "--name", "张三", "--out", str(tmp_path)])
    assert str(stop.value) == "gan-lab report: --id must be your student number, e.g. 2023001234"
