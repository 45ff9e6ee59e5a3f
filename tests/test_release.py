"""Tests for gan_lab.authoring.release (`gan-lab release`): the hand-out holds no answer of any lab."""

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from notebook_helpers import notebook, written_cell

from gan_lab.authoring.release import closed_module, release
from gan_lab.authoring.student_version import LabToolError
from gan_lab.notebook_io import is_answer, is_check, is_written_answer, written_answer_cells

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
CONCEPTS = ROOT / "notebooks"
REGION = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.DOTALL)
WORDS = 8  # a written answer is often one long line: any 8 of its words in a row make a run


def lines_of(text):
    """The non-trivial lines of a text, stripped (short lines such as `],` are common idioms)."""
    return [line.strip() for line in text.splitlines() if len(line.strip()) >= 12]


def solution_regions(cell):
    """A solution cell's answers: its solution regions and hidden tests, or a written answer as a whole."""
    regions = [match.group(2) for match in REGION.finditer(cell.source)]
    return regions or ([cell.source] if is_written_answer(cell) else [])


def runs_of(text, prose):
    """The runs of an answer: three consecutive non-trivial lines of code, or WORDS consecutive words of prose."""
    if prose:
        words = text.split()
        runs = [" ".join(words[start:start + WORDS]) for start in range(max(len(words) - WORDS, 0) + 1)]
        return [run for run in runs if len(run) >= 12]  # as for lines: a very short answer is too common to tell
    lines = lines_of(text)
    return ["\n".join(lines[start:start + 3]) for start in range(len(lines) - 2)]


def answer_runs(solutions=SOLUTIONS):
    """{run of a solution region, hidden test or written answer: lab it comes from}."""
    runs = {}
    for path in sorted(Path(solutions).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for region in solution_regions(cell):
                for run in runs_of(region, prose=cell.cell_type == "markdown"):
                    runs.setdefault(run, path.stem)
    return runs


def file_text(path):
    """A hand-out file's text: every cell's source of a notebook, else the text."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        text = "\n".join(cell.source for cell in nbformat.reads(text, as_version=4).cells)
    return text


def leaks(folder, runs):
    """{hand-out file: set of labs whose answer runs it holds (code line by line, prose word by word)}."""
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        text = file_text(path)
        lines, words = "\n".join(lines_of(text)), " ".join(text.split())
        labs = {lab for run, lab in runs.items() if run in lines or run in words}
        if labs:
            found[path.relative_to(folder).as_posix()] = labs
    return found


@pytest.fixture(scope="module")
def hand_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("hand-out")
    release(out, SOLUTIONS, CONCEPTS)
    return out


def test_the_hand_out_holds_readme_labs_and_concept_notebooks(hand_out):
    files = sorted(p.relative_to(hand_out).as_posix() for p in hand_out.rglob("*") if p.is_file())
    labs = [f"labs/{p.name}" for p in sorted(SOLUTIONS.glob("*.ipynb"))]
    concepts = [f"notebooks/{p.name}" for p in sorted(CONCEPTS.glob("*.ipynb"))]
    assert files == sorted(["README.md", *labs, *concepts])


def test_no_three_lines_of_any_answer_or_hidden_test_reach_the_hand_out(hand_out):
    runs = answer_runs()
    assert len(runs) > 50  # the solutions do hold answers, so the test can find them
    assert leaks(hand_out, runs) == {}


def test_the_hand_out_never_names_the_solutions_or_the_authoring_tools(hand_out):
    for path in hand_out.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert "solutions/" not in text and "### BEGIN" not in text, path
            assert "gan_lab.authoring" not in text and "load_reference" not in text, path


def test_check_cells_are_locked_and_answers_undeletable_in_every_lab(hand_out):
    for path in sorted((hand_out / "labs").glob("*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        checks = [cell for cell in cells if is_check(cell)]
        assert checks, path
        for cell in checks:
            assert (cell.metadata["editable"], cell.metadata["deletable"]) == (False, False), path
            assert cell.metadata["nbgrader"]["locked"] is True
        assert all(cell.metadata["deletable"] is False for cell in cells if is_answer(cell))
        assert all(cell.metadata["deletable"] is False and cell.metadata.get("editable", True)
                   and cell.source == "YOUR ANSWER HERE" for cell in cells if is_written_answer(cell))


def test_a_written_answer_is_blanked_in_the_hand_out_and_the_leak_test_would_catch_it(tmp_path):
    """A one-line model answer (too short for the three-line runs of code) is still recognised if it leaks."""
    solutions, concepts, out = tmp_path / "solutions", tmp_path / "notebooks", tmp_path / "out"
    for folder in (solutions, concepts):
        folder.mkdir()
    answer = "The minimax generator loss saturates when the discriminator rejects every fake with confidence."
    nbformat.write(notebook(written_cell(answer, grade_id="why_saturate")), solutions / "lab01_words.ipynb")
    release(out, solutions, concepts)
    runs = answer_runs(solutions)
    assert leaks(out, runs) == {}
    (written,) = written_answer_cells(nbformat.read(out / "labs" / "lab01_words.ipynb", as_version=4))
    assert written.source == "YOUR ANSWER HERE" and written.metadata["deletable"] is False
    (out / "labs" / "notes.md").write_text("Hint: the minimax generator loss saturates when the\ndiscriminator "
                                           "rejects every fake.\n")
    assert leaks(out, runs) == {"labs/notes.md": {"lab01_words"}}


def test_a_closed_lab_adds_its_code_and_nothing_of_the_other_labs(tmp_path):
    release(tmp_path, SOLUTIONS, CONCEPTS, closed=["lab01", "lab03"])
    closed = sorted(p.name for p in (tmp_path / "labs" / "closed").iterdir())
    assert closed == ["lab01_generator.py", "lab03_gan.py"]
    found = leaks(tmp_path, answer_runs())
    assert found == {"labs/closed/lab01_generator.py": {"lab01_generator"},
                     "labs/closed/lab03_gan.py": {"lab03_gan"}}
    module = (tmp_path / "labs" / "closed" / "lab01_generator.py").read_text()
    assert "### BEGIN" not in module
    compile(module, "lab01_generator.py", "exec")


def test_releasing_again_adds_new_files_and_keeps_a_changed_one_in_a_hidden_folder(tmp_path):
    release(tmp_path, SOLUTIONS, CONCEPTS)
    readme = tmp_path / "README.md"
    readme.write_text("the instructor's own words\n")
    report = dict(release(tmp_path, SOLUTIONS, CONCEPTS, closed=["lab02"]))
    assert report[tmp_path / "labs" / "lab01_generator.ipynb"] == "unchanged"
    assert report[tmp_path / "labs" / "closed" / "lab02_discriminator.py"] == "written"
    kept = list((tmp_path / ".previous").glob("README-*.md"))
    assert len(kept) == 1 and kept[0].read_text() == "the instructor's own words\n"
    assert "kept as" in report[readme]


def test_an_unknown_closed_lab_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(LabToolError, match="--closed lab09: no such lab"):
        release(tmp_path / "out", SOLUTIONS, CONCEPTS, closed=["lab09"])
    assert not (tmp_path / "out").exists()


def test_closing_a_lab_without_reference_cells_is_refused(tmp_path):
    solution = tmp_path / "lab07_x.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), solution)
    with pytest.raises(LabToolError, match="no cells tagged 'reference'"):
        closed_module(solution)


def test_the_release_command_writes_the_hand_out_and_names_bad_input(tmp_path):
    command = [sys.executable, "-m", "gan_lab", "release", str(tmp_path / "out"), "--solutions", str(SOLUTIONS)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "labs" / "lab01_generator.ipynb").is_file()
    missing = subprocess.run([*command[:4], str(tmp_path / "x"), "--solutions", str(tmp_path / "none")],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode != 0
    assert missing.stderr.strip().splitlines() == [
        f"gan-lab release: no solutions folder at {tmp_path / 'none'} (set by --solutions): fix the path"]


def paste_answers(lab_path, solution_path):
    """Fill a hand-out lab's answer cells with the solution's answers, as a student who finished it."""
    lab, solution = nbformat.read(lab_path, as_version=4), nbformat.read(solution_path, as_version=4)
    answers = {cell.id: cell.source for cell in solution.cells if is_answer(cell)}
    for cell in lab.cells:
        if is_answer(cell):
            cell.source = "\n".join(line for line in answers[cell.id].splitlines() if "### " not in line)
    nbformat.write(lab, lab_path)


def test_lab02_runs_from_the_hand_out_on_the_students_own_lab01(hand_out, tmp_path):
    """No solutions on the way: Lab 02 takes Lab 01's code from the student's finished notebook."""
    import nbclient

    from gan_lab.authoring.validation import current_env_kernel_manager

    labs = tmp_path / "labs"
    labs.mkdir()
    for name in ("lab01_generator.ipynb", "lab02_discriminator.ipynb"):
        (labs / name).write_bytes((hand_out / "labs" / name).read_bytes())
        paste_answers(labs / name, SOLUTIONS / name)
    lab02 = nbformat.read(labs / "lab02_discriminator.ipynb", as_version=4)
    nbclient.NotebookClient(lab02, km=current_env_kernel_manager(), timeout=300,
                            resources={"metadata": {"path": str(labs)}}).execute()
    printed = "".join(output.get("text", "") for cell in lab02.cells if is_check(cell) for output in cell.outputs)
    assert printed.count("checks passed") == 3, printed
