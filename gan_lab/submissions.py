"""Student submissions for `gan-lab grade`: find them, read them, match their answers to the lab.

Each SUBMISSION argument is one student's notebook file (id: the file name) or folder (id: the
folder name). A folder holding several notebooks at its top level is taken as a class folder: each
notebook in it, and each sub-folder, is one student. Nothing here writes anything.
"""

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from gan_lab.notebooks import python_syntax_error, student_source

MAX_NOTEBOOK_BYTES = 100_000_000


@dataclass
class Submission:
    """One student's notebook (path None when none was found; `problem` then says why)."""

    student: str
    path: Path | None
    problem: str = ""


@dataclass
class Answers:
    """A submission's answer source for each answer grade_id, and what the matching noticed."""

    sources: dict
    notes: list = field(default_factory=list)


def _hidden(path):
    return any(part.startswith(".") for part in path.parts)


def _notebooks_below(folder):
    found = [path for path in folder.rglob("*.ipynb") if path.is_file()]
    return sorted(path for path in found if not _hidden(path.relative_to(folder)))


def _one_student(folder, lab_file):
    notebooks = _notebooks_below(folder)
    if not notebooks:
        return Submission(folder.name, None, f"no notebook found in {folder}")
    if len(notebooks) == 1:
        return Submission(folder.name, notebooks[0])
    named = [path for path in notebooks if path.name == lab_file]
    if len(named) == 1:
        return Submission(folder.name, named[0])
    names = ", ".join(str(path.relative_to(folder)) for path in notebooks[:4])
    return Submission(folder.name, None, f"several notebooks in {folder} ({names}); name the lab's "
                      f"one {lab_file}")


def find_submissions(paths, lab_file):
    """Expand SUBMISSION arguments into Submissions with unique student ids, in argument order."""
    found = []
    for path in map(Path, paths):
        if path.is_file():
            found.append(Submission(path.stem, path))
        elif not path.is_dir():
            raise FileNotFoundError(f"{path}: no such file or folder; pass notebooks or folders of them")
        elif len([p for p in path.glob("*.ipynb") if p.is_file() and not p.name.startswith(".")]) > 1:
            children = sorted(p for p in path.iterdir() if not p.name.startswith("."))
            for child in children:
                if child.is_file() and child.suffix == ".ipynb":
                    found.append(Submission(child.stem, child))
                elif child.is_dir() and _notebooks_below(child):
                    found.append(_one_student(child, lab_file))
        else:
            found.append(_one_student(path, lab_file))
    seen = {}
    for submission in found:  # two students called alice (from two folders) become alice, alice-2
        count = seen[submission.student] = seen.get(submission.student, 0) + 1
        if count > 1:
            submission.student = f"{submission.student}-{count}"
    return found


def read_submission(path):
    """Read a notebook as nbformat 4 (converting older ones); a bad file raises a one-line ValueError."""
    size = Path(path).stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"the file is {size / 1e6:.0f} MB, over the {MAX_NOTEBOOK_BYTES / 1e6:.0f} MB a "
                         "submission may have: clear its outputs and submit it again")
    try:
        data = json.loads(Path(path).read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("not a notebook: the file is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"not a notebook: invalid JSON (line {error.lineno}: {error.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells", data.get("worksheets")), list):
        raise ValueError("not a notebook: the JSON has no cells")
    version = data.get("nbformat")
    if version not in (3, 4):
        raise ValueError(f"nbformat {version!r} cannot be read (the kit reads nbformat 4, and 3 by "
                         "conversion): open it in Jupyter and save it again")
    try:
        notebook = nbformat.reads(json.dumps(data), as_version=4, capture_validation_error={})
    except Exception as error:  # nbformat raises many types for damaged notebooks
        raise ValueError(f"damaged notebook ({type(error).__name__}: {error})"[:200]) from None
    for cell in notebook.cells:
        if not isinstance(cell.get("source"), str):
            raise ValueError("damaged notebook: a cell has no source")
    return notebook


def nbgrader(cell):
    """The cell's nbgrader metadata (an empty dict when it has none)."""
    metadata = cell.get("metadata", {}).get("nbgrader", {})
    return metadata if isinstance(metadata, dict) else {}


def answer_cells(notebook):
    """The nbgrader answer (solution) code cells of a notebook, in order."""
    return [cell for cell in notebook.cells if cell.cell_type == "code" and nbgrader(cell).get("solution")]


def graded_cells(notebook):
    """The nbgrader graded (check) code cells of a notebook, in order."""
    return [cell for cell in notebook.cells if cell.cell_type == "code" and nbgrader(cell).get("grade")]


def grade_ids(notebook):
    """The grade_ids of a notebook's answer and check cells."""
    return {nbgrader(cell).get("grade_id") for cell in notebook.cells} - {None}


def defined_names(source):
    """Names of the functions and classes a cell defines at top level (a regex when it does not parse)."""
    try:
        tree = ast.parse(source)
        return {node.name for node in tree.body
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    except SyntaxError:  # a slip, top-level await or IPython magics: fall back to the regex
        pass
    return set(re.findall(r"^(?:async\s+)?(?:def|class)\s+(\w+)", source, flags=re.MULTILINE))


def match_answers(reference, submission):
    """Find the submission's cell for each reference answer: by grade_id, then function, then position."""
    student_code = [cell for cell in submission.cells
                    if cell.cell_type == "code" and not nbgrader(cell).get("grade")]
    by_id = {nbgrader(cell).get("grade_id"): cell for cell in student_code if nbgrader(cell).get("grade_id")}
    reference_code = [cell for cell in reference.cells if cell.cell_type == "code"]
    same_layout = len(reference_code) == len([c for c in submission.cells if c.cell_type == "code"])
    answers = Answers({})
    for cell in answer_cells(reference):
        grade_id = nbgrader(cell)["grade_id"]
        names = defined_names(cell.source)
        if grade_id in by_id:
            answers.sources[grade_id] = by_id[grade_id].source
            continue
        defining = [c for c in student_code if names and names <= defined_names(c.source)]
        if defining:
            answers.sources[grade_id] = defining[-1].source  # the last definition is the one that runs
            answers.notes.append(f"answer {grade_id} found by the function it defines")
        elif same_layout:
            position = reference_code.index(cell)
            answers.sources[grade_id] = [c for c in submission.cells if c.cell_type == "code"][position].source
            answers.notes.append(f"answer {grade_id} found by its position")
        else:
            answers.sources[grade_id] = student_source(cell)  # the blank placeholder
            answers.notes.append(f"no answer cell for {grade_id}")
    for grade_id, source in answers.sources.items():
        error = python_syntax_error(source)
        if error is not None:
            answers.notes.append(f"answer {grade_id} has a syntax error (line {error.lineno}: {error.msg})")
    return answers


def check_cell_changes(reference, submission):
    """Notes on check cells the student edited or deleted (the official ones are graded anyway)."""
    theirs = {nbgrader(cell).get("grade_id"): cell for cell in graded_cells(submission)}
    notes = []
    for cell in graded_cells(reference):
        grade_id = nbgrader(cell)["grade_id"]
        if grade_id not in theirs:
            notes.append(f"check cell {grade_id} was deleted or lost its metadata; the official one was graded")
        elif theirs[grade_id].source.strip() != student_source(cell).strip():
            notes.append(f"check cell {grade_id} was edited; the official one was graded")
    return notes
