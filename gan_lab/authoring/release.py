"""`gan-lab release`: the students' hand-out, made from the solutions, with no answer in it.

The hand-out holds a short README, the labs (answers blanked, hidden tests removed, check cells
locked) and the concept notebooks. A lab whose deadline has passed can be *closed*: its reference
cells, answers included, go into `labs/closed/<lab>.py`, from which later labs take its code
(`gan_lab.earlier_labs`). Until then a later lab takes that code from the student's own notebook.

Releasing again into the same folder adds what is new and leaves identical files alone; a file
that differs is first moved into the hidden folder `.previous/` (which the JupyterHub recipe does
not hand out), as NAME-<time>.
"""

from pathlib import Path

from gan_lab.authoring.make_labs import generated_labs
from gan_lab.authoring.student_version import MARKERS, LabToolError
from gan_lab.earlier_labs import CLOSED, reference_cells

PREVIOUS = ".previous"
from gan_lab.notebook_io import notebook_text, read_notebook, stamped_path, write_atomically

README = """# GAN lab: your hand-out

Open the labs in `labs/` in order, in JupyterLab. Each exercise is a cell with `# YOUR CODE HERE`
and `raise NotImplementedError()`: replace both with your code, run the cell, then run the check
cell below it. A check prints one line such as `build_generator: all 12 checks passed`, or stops
with a `CheckFailed` message that says what is wrong and how to fix it. Check cells are locked.

Later labs build on earlier ones: Lab 02 runs the code of your Lab 01 notebook, Labs 03, 05 and
06 your Lab 02 losses, Lab 04 your Lab 03 GAN. Keep your finished labs in `labs/` under the names
they were given.
Once a lab's deadline has passed, your instructor may add its solution as `labs/closed/<lab>.py`;
later labs then use that instead of your notebook.

`notebooks/` holds three concept notebooks without exercises: the GAN game, divergences, and a
1-D GAN. Read the first two before Lab 02 and the third before Lab 03.

Training runs write their pictures and checkpoints under `runs/` beside the lab.
"""


def closed_module(solution_path):
    """The reference cells of a solution notebook, answers included, as a Python module's text."""
    notebook = read_notebook(solution_path)
    cells = reference_cells(notebook)
    if not cells:
        raise LabToolError(f"{solution_path}: has no cells tagged 'reference', so it cannot be closed; "
                           "tag the cells later labs need")
    lines = [line for line in "\n\n".join(cells).splitlines() if line.strip() not in MARKERS]
    header = f'"""{Path(solution_path).stem}: the course\'s code of this lab (its reference cells)."""\n\n'
    return header + "\n".join(lines) + "\n"


def _write(out, path, text, report):
    """Write `path` unless it already holds `text`; move a different file into out/.previous/ first."""
    data = text.encode("utf-8")
    if path.is_file() and path.read_bytes() == data:
        report.append((path, "unchanged"))
        return
    kept = None
    if path.exists():
        folder = out / PREVIOUS / path.parent.relative_to(out)
        folder.mkdir(parents=True, exist_ok=True)
        kept = stamped_path(folder, f"{path.stem}-", path.suffix)
        path.rename(kept)
    write_atomically(path, data, mode=0o644)
    report.append((path, f"written (the earlier file is kept as {kept})" if kept else "written"))


def _closed_labs(solutions, closed):
    """{lab id: solution notebook} for each lab id in `closed` (lab01, ...), or a one-line error."""
    notebooks = {path.stem.split("_")[0]: path for path in sorted(Path(solutions).glob("lab*.ipynb"))}
    unknown = [lab for lab in closed if lab not in notebooks]
    if unknown:
        raise LabToolError(f"--closed {unknown[0]}: no such lab in {solutions} (labs: {', '.join(notebooks)})")
    return {lab: notebooks[lab] for lab in closed}


def release(out, solutions, concepts, closed=()):
    """Write the hand-out into `out`: README.md, labs/, notebooks/ and labs/closed/; return [(path, action)]."""
    out, concepts = Path(out), Path(concepts)
    if not concepts.is_dir():
        raise LabToolError(f"no concept notebooks folder at {concepts}: pass --notebooks DIR")
    labs = generated_labs(solutions, out / "labs")  # every notebook is checked before any write
    modules = {path.stem: closed_module(path) for path in _closed_labs(solutions, closed).values()}
    for folder in (out, out / "labs", out / "notebooks", *([out / "labs" / CLOSED] if modules else [])):
        folder.mkdir(parents=True, exist_ok=True)
    report = []
    _write(out, out / "README.md", README, report)
    for _, path, lab in labs:
        _write(out, path, notebook_text(lab), report)
    for stem, text in modules.items():
        _write(out, out / "labs" / CLOSED / f"{stem}.py", text, report)
    for path in sorted(concepts.glob("*.ipynb")):
        _write(out, out / "notebooks" / path.name, path.read_text(encoding="utf-8"), report)
    return report
