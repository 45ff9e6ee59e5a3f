"""Structural checks of the concept notebooks in notebooks/, without a kernel.

nbval runs the notebooks themselves (pyproject's testpaths include notebooks/); these tests make
sure each one is a well-formed, exercise-free notebook whose every code cell nbval will compare.
"""

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
CONCEPT_NOTEBOOKS = ["01_the_game.ipynb", "02_divergences.ipynb", "03_gan_1d.ipynb"]
MAX_BYTES = 1_000_000
SEED_CALLS = ("keras.utils.set_random_seed(", "np.random.default_rng(")
PLACEHOLDERS = ("YOUR CODE HERE", "YOUR ANSWER HERE")


@pytest.fixture(params=CONCEPT_NOTEBOOKS)
def path(request):
    return NOTEBOOKS_DIR / request.param


@pytest.fixture
def nb(path):
    return nbformat.read(path, as_version=4)


def code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def test_notebooks_folder_holds_exactly_the_listed_concept_notebooks():
    found = sorted(path.name for path in NOTEBOOKS_DIR.glob("*.ipynb"))
    assert found == sorted(CONCEPT_NOTEBOOKS)


def test_notebook_opens_with_a_markdown_title_cell(nb):
    first = nb.cells[0]
    assert first.cell_type == "markdown"
    assert first.source.startswith("# ")


def test_first_code_cell_sets_the_seeds_visibly(nb):
    first_code = code_cells(nb)[0].source
    assert any(call in first_code for call in SEED_CALLS)


def test_first_code_cell_imports_gan_lab_before_anything_else(nb):
    first_statement = next(line for line in code_cells(nb)[0].source.splitlines() if line.strip())
    assert first_statement.startswith("import gan_lab")


def test_notebook_has_no_nbgrader_metadata(nb):
    assert "nbgrader" not in nb.metadata
    assert [index for index, cell in enumerate(nb.cells) if "nbgrader" in cell.metadata] == []


def test_notebook_has_no_exercise_placeholders(nb):
    assert [index for index, cell in enumerate(nb.cells)
            if any(placeholder in cell.source for placeholder in PLACEHOLDERS)] == []


def test_every_code_cell_follows_a_markdown_cell(nb):
    unexplained = [index for index, cell in enumerate(nb.cells)
                   if cell.cell_type == "code" and (index == 0 or nb.cells[index - 1].cell_type != "markdown")]
    assert unexplained == []


def test_every_code_cell_was_executed_so_nbval_compares_it(nb):
    assert [cell.get("id") for cell in code_cells(nb) if cell.execution_count is None] == []


def test_notebook_file_is_under_1_mb(path):
    assert path.stat().st_size < MAX_BYTES
