"""Notebook files and their nbgrader metadata: the one place that reads them, tests cells, writes atomically.

Authoring (solutions -> labs) and grading (submissions -> gradebook) both use it: the nbgrader cell
tests, the notebook reader, the atomic write and the time-stamped names of kept copies.
"""

import json
import os
import stat
import sys
import tempfile
from datetime import datetime
from pathlib import Path

# jsonschema imports this optional format checker when it is installed (JupyterLab brings it);
# building its grammar takes 2 s in every process that imports nbformat (each grading process
# among them), and notebook validation never uses the formats it checks.
sys.modules.setdefault("rfc3987_syntax", None)

import nbformat  # noqa: E402

MAX_NOTEBOOK_BYTES = 100_000_000


class NotebookError(ValueError):
    """A notebook that cannot be used; the message is one line: what is wrong, then the fix."""


def nbgrader(cell):
    """The cell's nbgrader metadata (an empty dict when it has none or it is not a dict)."""
    metadata = cell.get("metadata", {}).get("nbgrader", {})
    return metadata if isinstance(metadata, dict) else {}


def is_answer(cell):
    """True for an nbgrader answer (solution) code cell."""
    return cell.get("cell_type") == "code" and bool(nbgrader(cell).get("solution"))


def is_check(cell):
    """True for an nbgrader graded (check) code cell."""
    return cell.get("cell_type") == "code" and bool(nbgrader(cell).get("grade"))


def is_written_answer(cell):
    """True for a written answer: an nbgrader manually graded answer (solution and grade) in Markdown."""
    metadata = nbgrader(cell)
    return cell.get("cell_type") == "markdown" and bool(metadata.get("solution")) and bool(metadata.get("grade"))


def answer_cells(notebook):
    """The nbgrader answer code cells of a notebook, in order."""
    return [cell for cell in notebook.cells if is_answer(cell)]


def written_answer_cells(notebook):
    """The written-answer (manually graded Markdown) cells of a notebook, in order."""
    return [cell for cell in notebook.cells if is_written_answer(cell)]


def written_points(cell):
    """A written answer's points, or a one-line NotebookError when they are missing or not a positive number."""
    points = nbgrader(cell).get("points")
    if isinstance(points, bool) or not isinstance(points, (int, float)) or not 0 < points < float("inf"):
        has = "no points" if points is None else f"points {points!r}"
        raise NotebookError(f"a written answer needs a positive number of points but has {has}: "
                            'set "points": 1 (or more) in its nbgrader metadata')
    return float(points)


def graded_cells(notebook):
    """The nbgrader graded (check) code cells of a notebook, in order."""
    return [cell for cell in notebook.cells if is_check(cell)]


def grade_ids(notebook):
    """The grade_ids of a notebook's cells."""
    return {nbgrader(cell).get("grade_id") for cell in notebook.cells} - {None}


def _with_fixed_ids(data):
    # nbformat would invent random ids for cells without one; fixed ones keep labs reproducible.
    for index, cell in enumerate(data["cells"]):
        if isinstance(cell, dict):
            cell.setdefault("id", f"cell-{index}")
    ids = [cell.get("id") for cell in data["cells"] if isinstance(cell, dict)]
    if len(set(ids)) != len(ids):
        raise NotebookError("two cells share an id")


def parse_notebook(data, strict=False):
    """Parse notebook bytes as nbformat 4; `strict` (solutions) also refuses nbformat 3 and invalid cells.

    Raises a NotebookError whose message says what is wrong in one line.
    """
    try:
        content = json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
    except UnicodeDecodeError:
        raise NotebookError("not a notebook: the file is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise NotebookError(f"not a notebook: invalid JSON (line {error.lineno}: {error.msg})") from None
    if not isinstance(content, dict) or not isinstance(content.get("cells", content.get("worksheets")), list):
        raise NotebookError("not a notebook: the JSON has no cells")
    version = content.get("nbformat")
    readable = (4,) if strict else (3, 4)
    if version not in readable:
        also = "" if strict else ", and 3 by conversion"
        raise NotebookError(f"nbformat {version!r} cannot be read (the kit reads nbformat 4{also})")
    if strict:
        if isinstance(content.get("nbformat_minor"), int) and content["nbformat_minor"] >= 5:
            _with_fixed_ids(content)
        try:
            nbformat.validate(content)
        except nbformat.ValidationError as error:
            reason = str(getattr(error, "message", error)).splitlines()[0]
            raise NotebookError(f"fails nbformat validation ({reason})") from None
        return nbformat.v4.to_notebook(content)
    try:
        notebook = nbformat.reads(json.dumps(content), as_version=4, capture_validation_error={})
    except Exception as error:  # nbformat raises many types for damaged notebooks
        raise NotebookError(f"damaged notebook ({type(error).__name__}: {error})"[:200]) from None
    if any(not isinstance(cell.get("source"), str) for cell in notebook.cells):
        raise NotebookError("damaged notebook: a cell has no source")
    return notebook


def read_notebook(path):
    """Read a solution or lab notebook strictly; a bad one raises a one-line NotebookError naming it."""
    fix = "open it in Jupyter and save it again, or restore it from version control"
    try:
        return parse_notebook(Path(path).read_bytes(), strict=True)
    except OSError as error:
        raise NotebookError(f"{path}: cannot be read ({error.strerror}); {fix}.") from None
    except NotebookError as error:
        raise NotebookError(f"{path}: {error}; {fix}.") from None


def notebook_text(notebook):
    """Serialise a notebook as nbformat saves it (sorted keys, 1-space indent), plus a final newline."""
    return nbformat.writes(notebook) + "\n"


def write_atomically(path, text, mode=None):
    """Replace `path` with `text` in one step (a reader sees the old or the new file, never half of one).

    The file keeps its permissions, or gets `mode` (default 0o644) when it is new.
    """
    path = Path(path)
    if mode is None:
        mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644  # mkstemp gives 0o600
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(text.encode("utf-8") if isinstance(text, str) else text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def stamped_path(folder, stem, suffix):
    """A path in `folder` named stem + a time stamp + suffix that does not exist yet."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target, count = Path(folder) / f"{stem}{stamp}{suffix}", 1
    while target.exists():
        target, count = Path(folder) / f"{stem}{stamp}-{count}{suffix}", count + 1
    return target


def keep_previous(path):
    """Rename an existing file or folder aside as NAME.previous-<time>[.ext]; return the new path or None."""
    path = Path(path)
    if not path.exists():
        return None
    target = stamped_path(path.parent, f"{path.stem}.previous-", path.suffix)
    path.rename(target)
    return target


def writable_folder(path):
    """Create `path` if needed and prove it is writable, or fail with a one-line error."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".gan-lab-write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as error:
        raise PermissionError(f"cannot write to {path} ({error.strerror}): pick another --out") from None
    return path
