"""The grading notebook nbval runs for one student: the reference's cells with the student's answers.

Every code cell comes from the reference solution except the answer cells, which hold the
student's code; Markdown cells, written answers among them, are left out (gan_lab.grading.written).
Each check cell keeps its hidden tests and its stored output (what nbval compares) and starts by
importing the checks afresh and verifying that they are the kit's own, untouched:
a replaced module, a check function from elsewhere or a swallowed exception shows up as an error
that the grader turns into the `review` status.
"""

import ast
import copy
import re
import secrets
from pathlib import Path

import nbformat

import gan_lab
from gan_lab.grading.gradebook import Exercise
from gan_lab.notebook_io import graded_cells, is_answer, is_check, nbgrader

TAMPERED = "gan-lab grade: the official checks were replaced or bypassed"
COMPLETED = "gan-lab grade: check cell completed "  # + a fresh random token, printed by the cell's last line
_COMPLETED_RE = re.compile(re.escape(COMPLETED) + r"[0-9a-f]+\s*")
CHECKS_FOLDER = str(Path(gan_lab.__file__).resolve().parent / "checks")
_VERIFY = """\
def _gan_lab_verify(objects, folder, tampered):  # added by gan-lab grade: are these the kit's checks?
    import os, sys, types
    def genuine(cls):  # a class is what its module says it is: a forged __module__ does not resolve to it
        found = sys.modules.get(getattr(cls, "__module__", None) or "")
        if found is None or found.__name__ == "__main__":
            return False
        for part in cls.__qualname__.split("."):
            found = getattr(found, part, None)
        return found is cls
    problems = []
    for thing in objects:
        module = sys.modules.get(getattr(thing, "__module__", None) or "")
        spec = getattr(module, "__spec__", None)
        origin = os.path.realpath(getattr(spec, "origin", None) or "")
        code = thing.__code__ if isinstance(thing, types.FunctionType) else None
        if (not origin.startswith(folder + os.sep) or not genuine(type(getattr(spec, "loader", None)))
                or (code is not None and (os.path.realpath(code.co_filename) != origin
                                          or thing.__globals__ is not module.__dict__))):
            problems.append(getattr(thing, "__name__", "?"))
    shell = get_ipython()
    if shell.custom_exceptions or shell.input_transformers_post or shell.ast_transformers:
        problems.append("IPython hooks")
    if not all(genuine(finder if isinstance(finder, type) else type(finder)) for finder in sys.meta_path):
        problems.append("an import hook")
    if problems:  # printed as well as raised: an exception handler may swallow the error, not the output
        print(tampered + ": " + ", ".join(problems))
        raise RuntimeError(tampered + ": " + ", ".join(problems))
"""
_FRESH_CHECKS = """{verify}
import sys as _gan_lab_sys  # added by gan-lab grade: the official checks, imported afresh and verified
for _gan_lab_module in [name for name in list(_gan_lab_sys.modules) if name.split(".")[:2] == ["gan_lab", "checks"]]:
    del _gan_lab_sys.modules[_gan_lab_module]
from gan_lab.checks import {names}
from gan_lab.checks import CheckFailed as _gan_lab_check_failed
_gan_lab_verify([{names}, _gan_lab_check_failed], {folder!r}, {tampered!r})
"""


def exercises_of(reference):
    """The lab's graded exercises: its check cells, with their points."""
    return [Exercise(nbgrader(cell)["grade_id"], float(nbgrader(cell).get("points", 1)))
            for cell in graded_cells(reference)]


def _code_cell(source, cell=None, keep_outputs=False):
    new = nbformat.v4.new_code_cell(source)
    if cell is not None:
        new.metadata = copy.deepcopy(cell.metadata)
        if keep_outputs:
            new.outputs, new.execution_count = copy.deepcopy(cell.outputs), cell.execution_count
    return new


def _parsed(source):
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def _imported_checks(reference):
    """Names the solution imports from gan_lab.checks."""
    trees = [_parsed(cell.source) for cell in reference.cells if cell.cell_type == "code"]
    return {alias.asname or alias.name for tree in trees if tree for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "gan_lab.checks" for alias in node.names}


def _names_used(source):
    tree = _parsed(source)
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} if tree else set()


def _completed(cell):
    """The check cell's source and outputs extended with a last line that prints a one-off token: a cell
    rewritten before it runs (an IPython input transformer) cannot print the token it never saw."""
    token = COMPLETED + secrets.token_hex(8)
    cell.source += f"\nprint({token!r})"
    cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=token + "\n"))
    return cell


def without_tokens(text):
    """Printed text without the completion tokens of the check cells (for feedback)."""
    return _COMPLETED_RE.sub("", text).strip()


def grading_notebook(reference, answers, first_cell=""):
    """The notebook nbval runs: [first_cell,] then the reference with the student's answers in place.

    It ends at the last answer or check cell: what follows cannot change a grade, only cost time.
    """
    cells = [_code_cell(first_cell)] if first_cell else []
    checks = _imported_checks(reference)
    code = [cell for cell in reference.cells if cell.cell_type == "code"]
    last = max((number for number, cell in enumerate(code) if is_answer(cell) or is_check(cell)), default=-1)
    for cell in code[: last + 1]:
        if is_answer(cell):
            cells.append(_code_cell(answers[nbgrader(cell)["grade_id"]], cell))
        elif is_check(cell):
            names = ", ".join(sorted(_names_used(cell.source) & checks))
            fresh = _FRESH_CHECKS.format(verify=_VERIFY, names=names, folder=CHECKS_FOLDER, tampered=TAMPERED)
            fresh = fresh if names else ""
            cells.append(_completed(_code_cell(fresh + cell.source, cell, keep_outputs=True)))
        else:
            cells.append(_code_cell(cell.source, cell))
    return nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(reference.metadata))
