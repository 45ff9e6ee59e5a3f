"""Tests for gan_lab.earlier_labs: a later lab runs an earlier lab's code, never a copy of its answers."""

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell
from notebook_helpers import answer_cell, notebook

from gan_lab import earlier_labs
from gan_lab.earlier_labs import EarlierLabError, earlier_lab, labs_folder, provide


def reference(source, **kwargs):
    """A code cell tagged `reference`."""
    return new_code_cell(source, metadata={"tags": ["reference"]}, **kwargs)


def write_lab(folder, name, *cells):
    path = folder / name
    nbformat.write(notebook(*cells), path)
    return path


@pytest.fixture(autouse=True)
def nothing_provided(monkeypatch):
    monkeypatch.setattr(earlier_labs, "_provided", {})


def test_the_students_own_notebook_supplies_its_reference_cells_only(tmp_path, monkeypatch):
    write_lab(tmp_path, "lab01_generator.ipynb", reference("SEED = 3"), new_code_cell("raise SystemExit"),
              new_markdown_cell("text"), reference("def double(x):\n    return 2 * x * SEED"))
    monkeypatch.chdir(tmp_path)
    lab01 = earlier_lab("lab01")
    assert lab01.double(2) == 12
    assert lab01.__file__.endswith("lab01_generator.ipynb")


def test_magics_in_the_students_notebook_do_not_break_it(tmp_path):
    write_lab(tmp_path, "lab01_generator.ipynb", reference("%matplotlib inline\nVALUE = 7"))
    with labs_folder(tmp_path), pytest.raises(NameError, match="get_ipython"):
        earlier_lab("lab01")  # outside a kernel the magic is a call to get_ipython, not a SyntaxError


def test_a_closed_module_wins_over_the_students_notebook(tmp_path):
    write_lab(tmp_path, "lab01_generator.ipynb", reference("ORIGIN = 'notebook'"))
    (tmp_path / "closed").mkdir()
    (tmp_path / "closed" / "lab01_generator.py").write_text("ORIGIN = 'closed'\n")
    with labs_folder(tmp_path):
        assert earlier_lab("lab01").ORIGIN == "closed"


def test_code_the_grader_provides_wins_over_files(tmp_path):
    write_lab(tmp_path, "lab02_discriminator.ipynb", reference("ORIGIN = 'notebook'"))
    provide("lab02", "ORIGIN = 'provided'", "lab02 (reference)")
    with labs_folder(tmp_path):
        assert earlier_lab("lab02").ORIGIN == "provided"


def test_an_unfinished_exercise_is_named_before_anything_runs(tmp_path):
    blank = "def sample_noise(n):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    answer = answer_cell(blank, grade_id="noise")
    answer.metadata["tags"] = ["reference"]
    write_lab(tmp_path, "lab01_generator.ipynb", reference("SEED = 1"), answer)
    with labs_folder(tmp_path), pytest.raises(EarlierLabError) as error:
        earlier_lab("lab01")
    assert "`sample_noise` in lab01_generator.ipynb is not written yet" in str(error.value)
    assert "finish Lab 01 first" in str(error.value)


def test_a_missing_lab_says_where_it_looked_and_what_to_do(tmp_path):
    with labs_folder(tmp_path), pytest.raises(EarlierLabError) as error:
        earlier_lab("lab03")
    message = str(error.value)
    assert str(tmp_path) in message and "lab03_*.ipynb" in message and "closed/lab03_*.py" in message
    assert "\n" not in message


def test_jupyter_copies_are_ignored_but_two_real_notebooks_are_an_error(tmp_path):
    write_lab(tmp_path, "lab01_generator.ipynb", reference("ORIGIN = 'mine'"))
    write_lab(tmp_path, "lab01_generator-Copy1.ipynb", reference("ORIGIN = 'copy'"))
    with labs_folder(tmp_path):
        assert earlier_lab("lab01").ORIGIN == "mine"
        write_lab(tmp_path, "lab01_other.ipynb", reference("ORIGIN = 'other'"))
        with pytest.raises(EarlierLabError, match="several Lab 01 notebooks"):
            earlier_lab("lab01")


def test_a_notebook_without_reference_cells_or_unreadable_is_explained(tmp_path):
    write_lab(tmp_path, "lab01_generator.ipynb", new_code_cell("x = 1"))
    with labs_folder(tmp_path), pytest.raises(EarlierLabError, match="no cells tagged 'reference'"):
        earlier_lab("lab01")
    (tmp_path / "lab01_generator.ipynb").write_text("{not json")
    with labs_folder(tmp_path), pytest.raises(EarlierLabError, match="cannot be read"):
        earlier_lab("lab01")


def test_a_lab_name_must_look_like_lab01():
    with pytest.raises(ValueError, match="'lab01'"):
        earlier_lab("../secrets")


def test_earlier_labs_of_the_kit_chain_through_the_solutions():
    """Lab 03's code runs Lab 02's from the folder it was found in, and builds a working GAN."""
    with labs_folder(Path(__file__).resolve().parent.parent / "solutions"):
        lab03 = earlier_lab("lab03")
    assert lab03.lab02.__name__ == "earlier_lab02" and lab03.discriminator_loss is lab03.lab02.discriminator_loss
    gan = lab03.make_gan(seed=0)
    assert gan.generator.output_shape == (None, 28, 28, 1)
