"""An earlier lab's code for a later lab, without ever handing out that lab's answers.

A later lab starts from the code of an earlier one (Lab 02 needs Lab 01's generator, Lab 04 needs
Lab 03's training step). It never copies that code: it calls `earlier_lab("lab01")`, which runs the
cells tagged `reference` of Lab 01, taken from the first of

1. a code module the grader handed over with `provide` (grading only);
2. `closed/lab01_*.py` in the labs folder: the course's solution of a lab whose deadline has
   passed, which the instructor adds with `gan-lab release --closed lab01`;
3. the student's own finished notebook `lab01_*.ipynb` in the labs folder.

The labs folder is the current folder (Jupyter runs a notebook in its own folder) unless
`labs_folder` says otherwise.
"""

import contextlib
import re
import types
from pathlib import Path

REFERENCE_TAG = "reference"
CLOSED = "closed"
_LAB_ID = re.compile(r"lab\d\d")
_BLANK = re.compile(r"# YOUR CODE HERE\s*\n\s*raise NotImplementedError\(\)")
_provided = {}
_folder = []


class EarlierLabError(RuntimeError):
    """An earlier lab's code cannot be found or does not run; the message says what to do."""


def provide(lab, source, origin):
    """Hand over `lab`'s code (the grader does this, so a grading kernel needs no files)."""
    _provided[lab] = (source, origin)


@contextlib.contextmanager
def labs_folder(path):
    """Look for earlier labs in `path` instead of the current folder while the block runs."""
    _folder.append(Path(path))
    try:
        yield
    finally:
        _folder.pop()


def _title(lab):
    return f"Lab {lab[3:]}"


def _own_notebook(folder, lab):
    """The student's notebook of `lab` in `folder`; Jupyter's '-Copy1' duplicates do not count."""
    found = [path for path in sorted(folder.glob(f"{lab}_*.ipynb"))
             if re.fullmatch(rf"{lab}_[A-Za-z0-9_]+", path.stem)]
    if len(found) > 1:
        names = ", ".join(path.name for path in found)
        raise EarlierLabError(f"{folder} holds several {_title(lab)} notebooks ({names}): keep only one")
    return found[0] if found else None


def reference_cells(notebook):
    """The source of every code cell tagged `reference` of an nbformat notebook, in order."""
    return [cell.source for cell in notebook.cells
            if cell.cell_type == "code" and REFERENCE_TAG in cell.metadata.get("tags", [])]


def _notebook_code(path, lab):
    import nbformat

    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as error:  # a damaged file can fail in many ways; the student needs one sentence
        raise EarlierLabError(f"{path.name} cannot be read ({type(error).__name__}): restore it from a "
                              f"checkpoint (File > Revert) or ask for {_title(lab)}'s closed module") from None
    cells = reference_cells(notebook)
    if not cells:
        raise EarlierLabError(f"{path.name} has no cells tagged {REFERENCE_TAG!r}: is it the {_title(lab)} "
                              "notebook you were given?")
    for source in cells:
        blank = _BLANK.search(source)
        if blank:
            names = re.findall(r"^\s*(?:def|class) (\w+)", source[:blank.start()], re.MULTILINE)
            what = f"`{names[-1]}`" if names else "an exercise"
            raise EarlierLabError(f"this lab uses your {_title(lab)} code, but {what} in {path.name} is not "
                                  f"written yet: finish {_title(lab)} first, or ask your instructor to release "
                                  "its closed module")
    return "\n\n".join(_without_magics(source) for source in cells)


def _without_magics(source):
    """A notebook cell as plain Python: IPython turns `%magic` and `!command` lines into calls."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return source
    return TransformerManager().transform_cell(source)


def _find(lab):
    """(source, where it came from) for `lab`."""
    if lab in _provided:
        return _provided[lab]
    folder = _folder[-1] if _folder else Path.cwd()
    closed = sorted((folder / CLOSED).glob(f"{lab}_*.py"))
    if closed:
        return closed[0].read_text(encoding="utf-8"), str(closed[0])
    notebook = _own_notebook(folder, lab)
    if notebook is not None:
        return _notebook_code(notebook, lab), str(notebook)
    raise EarlierLabError(f"this lab uses {_title(lab)}'s code, but {folder} has neither your finished "
                          f"{lab}_*.ipynb nor {CLOSED}/{lab}_*.py: put your {_title(lab)} notebook beside this "
                          "one, or ask your instructor to release its closed module")


def earlier_lab(lab):
    """Run `lab`'s reference cells (see the module docstring for where they come from); return a module."""
    if not _LAB_ID.fullmatch(lab):
        raise ValueError(f"earlier_lab({lab!r}): name a lab as 'lab01', 'lab02', ...")
    source, origin = _find(lab)
    module = types.ModuleType(f"earlier_{lab}", f"{_title(lab)}'s code, from {origin}")
    module.__file__ = origin
    exec(compile(source, origin, "exec"), module.__dict__)
    return module
