"""Student submissions for `gan-lab grade`: find them, read them, match their answers to the lab.

Each SUBMISSION argument is one student's notebook file (id: the file name) or folder (id: the
folder name). A notebook mailed under the course's name 第n次实验-学号-姓名.ipynb is the student's
whose number (学号) it carries, and is not graded as another lab than its n. A folder holding several
notebooks at its top level, or one such mailed notebook, or the collected.csv of `gan-lab collect`,
is taken as a class folder: each notebook in it, and each sub-folder, is one student. Nothing here
writes anything, and nothing follows a symbolic link: a linked notebook is refused with a note (it
could point at the solution), and linked folders are not entered.
"""

import ast
import errno
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from gan_lab import notebook_io
from gan_lab.notebook_io import NotebookError, answer_cells, graded_cells, nbgrader, parse_notebook
from gan_lab.authoring.student_version import python_syntax_error, student_source
from gan_lab.report import lab_number, parse_hand_in_name

COLLECTED = "collected.csv"  # written by `gan-lab collect` at the top of the class folder it makes


@dataclass
class Submission:
    """One student's notebook; when `path` is None, `status` and `problem` say why there is none."""

    student: str
    path: Path | None
    problem: str = ""
    status: str = "no_notebook"
    name: str = ""  # the student's name, from a mailed file's name (the gradebook has no column for it)
    hand_in: Path | None = None  # the mailed file (第n次实验-学号-姓名.ipynb) the student id was read from


class DuplicateHandIn(NotebookError):
    """Two mailed notebooks of the lab carry one student number; the message names both files."""


@dataclass
class Answers:
    """A submission's answer source for each answer grade_id, and what the matching noticed."""

    sources: dict
    notes: list = field(default_factory=list)


def _visible(entry):
    return not entry.name.startswith(".")


def _entries(folder):
    """The visible entries of a folder, sorted by name (os.DirEntry, links not followed)."""
    try:
        with os.scandir(folder) as scan:
            return sorted((entry for entry in scan if _visible(entry)), key=lambda entry: entry.name)
    except OSError:
        return []


def _is_notebook(entry):
    return entry.name.endswith(".ipynb") and (entry.is_symlink() or entry.is_file(follow_symlinks=False))


def _notebooks_below(folder):
    """Notebooks below a folder (linked ones included, to be refused); linked folders are not entered."""
    found, folders = [], [Path(folder)]
    while folders:
        for entry in _entries(folders.pop()):
            if _is_notebook(entry):
                found.append(Path(entry.path))
            elif entry.is_dir(follow_symlinks=False):
                folders.append(Path(entry.path))
    return sorted(found)


def _linked(student, where):
    return Submission(student, None, f"{where} is a symbolic link; the grader does not follow links: hand in "
                      "the notebook file itself", status="unreadable")


def _one_notebook(student, path):
    return _linked(student, path.name) if path.is_symlink() else Submission(student, path)


def _notebook(path, lab_file):
    """One notebook file's Submission: its student is the 学号 of a mailed name, else the file name."""
    hand_in, lab = parse_hand_in_name(path.name), lab_number(lab_file)
    if hand_in is None:
        return _one_notebook(path.stem, path)
    if lab is not None and hand_in.lab != lab:
        return Submission(hand_in.student_id, None, f"{path.name} is named for lab {hand_in.lab}, not lab {lab}: "
                          f"grade it with --lab lab{hand_in.lab:02d}, or rename it if it is lab {lab}",
                          status="wrong_lab", name=hand_in.name, hand_in=path)
    found = _one_notebook(hand_in.student_id, path)
    found.name, found.hand_in = hand_in.name, path
    return found


def _is_lab_file(path, lab_file):
    """The lab's notebook by name: the lab's own file name, or a mailed name of the lab's number."""
    hand_in = parse_hand_in_name(path.name)
    return path.name == lab_file or (hand_in is not None and hand_in.lab == lab_number(lab_file))


def _one_student(folder, lab_file):
    notebooks = _notebooks_below(folder)
    named = [path for path in notebooks if _is_lab_file(path, lab_file)]
    if len(notebooks) == 1 or len(named) == 1:
        chosen = (named if len(named) == 1 else notebooks)[0]
        if chosen.is_symlink():
            return _linked(folder.name, str(chosen.relative_to(folder.parent)))
        return Submission(folder.name, chosen)
    if not notebooks:
        links = [entry.name for entry in _entries(folder) if entry.is_symlink()]
        skipped = f" (links not followed: {', '.join(links[:3])})" if links else ""
        return Submission(folder.name, None, f"no notebook found in {folder}{skipped}")
    names = ", ".join(str(path.relative_to(folder)) for path in notebooks[:4])
    return Submission(folder.name, None, f"several notebooks in {folder} ({names}); name the lab's "
                      f"one {lab_file}")


def _class_folder(folder, lab_file):
    """Each notebook and each sub-folder (empty ones included) of a class folder is one student."""
    students = []
    for entry in _entries(folder):
        path = Path(entry.path)
        if _is_notebook(entry):
            students.append(_notebook(path, lab_file))
        elif entry.is_symlink():
            students.append(_linked(entry.name, entry.name))
        elif entry.is_dir(follow_symlinks=False):
            students.append(_one_student(path, lab_file))
    return students


def _is_class(folder):
    """A folder with several notebooks at its top level, or a mailed one, or one `gan-lab collect` wrote,
    holds a class."""
    notebooks = [entry for entry in _entries(folder) if _is_notebook(entry)]
    mailed = any(parse_hand_in_name(entry.name) for entry in notebooks)
    return len(notebooks) > 1 or mailed or (Path(folder) / COLLECTED).is_file()


def _refuse_two_hand_ins(found):
    """Raise DuplicateHandIn when two mailed notebooks of the lab carry one student number."""
    of_this_lab = {}
    for submission in found:
        if submission.hand_in and submission.status != "wrong_lab":
            first = of_this_lab.setdefault(submission.student, submission.hand_in)
            if first != submission.hand_in:
                raise DuplicateHandIn(f"{first} and {submission.hand_in} both carry student number "
                                      f"{submission.student} for this lab: keep the one to grade, move the other "
                                      "out of the submissions and grade again")
    return set(of_this_lab)


def _one_row_per_hand_in(found):
    """Fold the notebooks a student mailed for other labs into one wrong_lab row, none when the student
    mailed this lab's too."""
    handed_in, rows, other_labs = _refuse_two_hand_ins(found), [], {}
    for submission in found:
        if submission.status != "wrong_lab" or not submission.hand_in:
            rows.append(submission)
        elif submission.student in other_labs:
            other_labs[submission.student].problem += "; " + submission.problem
        elif submission.student not in handed_in:
            other_labs[submission.student] = submission
            rows.append(submission)
    return rows


def find_submissions(paths, lab_file):
    """Expand SUBMISSION arguments into Submissions with unique student ids, in argument order.

    Raises DuplicateHandIn when two mailed notebooks of the lab carry one student number.
    """
    found = []
    for path in map(Path, paths):
        if (path.is_symlink() and path.suffix == ".ipynb") or path.is_file():
            found.append(_notebook(path, lab_file))
        elif not path.is_dir():
            raise FileNotFoundError(f"{path}: no such file or folder; pass notebooks or folders of them")
        elif _is_class(path):
            found.extend(_class_folder(path, lab_file))
        else:
            found.append(_one_student(path, lab_file))
    found = _one_row_per_hand_in(found)
    seen = {}
    for submission in found:  # two students called alice (from two folders) become alice, alice-2
        count = seen[submission.student] = seen.get(submission.student, 0) + 1
        if count > 1:
            submission.student = f"{submission.student}-{count}"
    return found


def read_submission(path):
    """Read a student's notebook without following links; a bad file raises a one-line NotebookError."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        reason = "is a symbolic link" if error.errno == errno.ELOOP else f"cannot be opened ({error.strerror})"
        raise NotebookError(f"the file {reason}: hand in the notebook file itself") from None
    with os.fdopen(handle, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise NotebookError("not a regular file: hand in the notebook file itself")
        limit = notebook_io.MAX_NOTEBOOK_BYTES
        if info.st_size > limit:
            raise NotebookError(f"the file is {info.st_size / 1e6:.0f} MB, over the {limit / 1e6:.0f} MB a "
                                "submission may have: clear its outputs and submit it again")
        data = file.read(limit + 1)
    try:
        return parse_notebook(data)
    except NotebookError as error:
        if "cannot be read" in str(error):
            raise NotebookError(f"{error}: open it in Jupyter and save it again") from None
        raise


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
