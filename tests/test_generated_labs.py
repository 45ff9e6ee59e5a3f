"""The generated student labs: in sync with solutions/, free of answers, and failing when blank."""

import re
from pathlib import Path

import nbclient
import nbformat
import pytest

from gan_lab.authoring.make_labs import stale_labs
from gan_lab.authoring.release import closed_module
from gan_lab.authoring.student_version import check_cells, first_exercise_index
from gan_lab.authoring.validation import current_env_kernel_manager

ROOT = Path(__file__).resolve().parent.parent
LABS = sorted((ROOT / "labs").glob("*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
REGION = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.DOTALL)


def test_every_solution_has_a_generated_lab_and_none_is_stale():
    assert [p.name for p in LABS] == [p.name for p in SOLUTIONS]
    assert stale_labs(ROOT / "solutions", ROOT / "labs") == []


def stripped_lines(text):
    return {line.strip() for line in text.splitlines() if line.strip()}


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_labs_contain_no_solution_or_hidden_test_code(solution):
    lab_text = (ROOT / "labs" / solution.name).read_text()
    assert "### BEGIN" not in lab_text and "### END" not in lab_text
    lab_lines = stripped_lines("\n".join(c.source for c in nbformat.reads(lab_text, as_version=4).cells))
    sources = [cell.source for cell in nbformat.read(solution, as_version=4).cells]
    answers = stripped_lines("\n".join(m.group(2) for s in sources for m in REGION.finditer(s)))
    elsewhere = stripped_lines("\n".join(REGION.sub("", s) for s in sources))
    # A line that only the answers contain must not reach the students.
    leaked = (answers - elsewhere) & lab_lines
    assert answers and not leaked, f"{solution.name}: answer lines leaked: {sorted(leaked)}"


@pytest.fixture(scope="module")
def closed_labs(tmp_path_factory):
    """A labs folder in which every lab is closed, as at the end of a course (earlier labs' code exists)."""
    folder = tmp_path_factory.mktemp("labs")
    (folder / "closed").mkdir()
    for solution in SOLUTIONS:
        (folder / "closed" / f"{solution.stem}.py").write_text(closed_module(solution))
    return folder


@pytest.fixture(scope="module", params=LABS, ids=lambda p: p.stem)
def executed_lab(request, closed_labs):
    """Run a blank lab top to bottom, errors allowed, as a student who wrote nothing would."""
    notebook = nbformat.read(request.param, as_version=4)
    client = nbclient.NotebookClient(
        notebook, km=current_env_kernel_manager(), timeout=600, allow_errors=True,
        resources={"metadata": {"path": str(closed_labs)}},
    )
    client.execute()
    return notebook


def errors_of(cell):
    return [out for out in cell.get("outputs", []) if out.output_type == "error"]


def test_blank_lab_runs_without_error_up_to_its_first_exercise(executed_lab):
    first = first_exercise_index(executed_lab)
    assert first is not None
    for index, cell in enumerate(executed_lab.cells[:first]):
        assert not errors_of(cell), f"cell {index} failed: {errors_of(cell)}"


def test_every_check_cell_fails_with_check_failed_on_the_blank_lab(executed_lab):
    indices = check_cells(executed_lab)
    assert indices
    for index in indices:
        errors = errors_of(executed_lab.cells[index])
        assert [error.ename for error in errors] == ["CheckFailed"], f"check cell {index}: {errors}"
        assert "not written yet" in errors[0].evalue
