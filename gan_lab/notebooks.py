"""Turn a solution notebook into its student lab, in memory (gan_lab.make_labs writes the files).

A lab is its solution notebook with each `### BEGIN SOLUTION` ... `### END SOLUTION` region
replaced by a placeholder, each `### BEGIN HIDDEN TESTS` ... `### END HIDDEN TESTS` region
removed (nbgrader conventions), outputs cleared and a notice on top.
"""

import ast
import copy
import hashlib
import json

import nbformat

from gan_lab.notebook_io import NotebookError, nbgrader

MARKERS = {
    "### BEGIN SOLUTION": ("begin", "solution"),
    "### END SOLUTION": ("end", "solution"),
    "### BEGIN HIDDEN TESTS": ("begin", "hidden"),
    "### END HIDDEN TESTS": ("end", "hidden"),
}
_MARKER_WORDS = {" ".join(marker.lstrip("# ").split()): marker for marker in MARKERS}
_END_OF = {"solution": "### END SOLUTION", "hidden": "### END HIDDEN TESTS"}

NOTICE_ID = "generated-notice"
NOTICE = (
    "> This notebook was generated from `{source}` by `gan-lab make-labs`. "
    "Fill in the cells marked `# YOUR CODE HERE`; "
    "instructors edit the solution notebook, not this file."
)


class LabToolError(NotebookError):
    """A problem with a solution notebook's markers; the message is one line: what, then the fix."""


def find_solution_cells(nb):
    """Return the indices of the cells whose metadata marks them `nbgrader.solution`."""
    return [index for index, cell in enumerate(nb.cells) if nbgrader(cell).get("solution")]


def first_exercise_index(nb):
    """Return the index of the first `nbgrader.solution` cell, or None when there is none."""
    return next(iter(find_solution_cells(nb)), None)


def check_cells(nb):
    """Return the indices of the graded (`nbgrader.grade`) cells."""
    return [index for index, cell in enumerate(nb.cells) if nbgrader(cell).get("grade")]


def _describe_cell(source_name, nb, index):
    where = f"{source_name}, cell {index + 1} of {len(nb.cells)}"
    grade_id = nbgrader(nb.cells[index]).get("grade_id")
    return f"{where} (grade_id {grade_id!r})" if grade_id else where


def _marker(line, where, number):
    """Return (begin|end, solution|hidden) for a marker line, None for any other line."""
    stripped = line.strip()
    if stripped in MARKERS:
        return MARKERS[stripped]
    # A misspelt marker would silently leak a solution into the lab, so refuse it.
    meant = _MARKER_WORDS.get(" ".join(stripped.lstrip("#").split()).upper())
    if meant:
        raise LabToolError(
            f"{where}, line {number}: {stripped!r} looks like a marker; "
            f"spell it exactly `{meant}` so the region is recognised."
        )
    return None


def _placeholder(cell_type, indent):
    if cell_type == "code":
        return [indent + "# YOUR CODE HERE", indent + "raise NotImplementedError()"]
    return [indent + "YOUR ANSWER HERE"]


def _strip_regions(source, cell_type, where):
    """Return (student source, kinds of region found) for one cell's source."""
    kept, found, region = [], set(), None  # region: (kind, line number, indent) while open
    for number, line in enumerate(source.split("\n"), start=1):
        marker = _marker(line, where, number)
        if marker is None:
            if region is None:
                kept.append(line)
            continue
        action, kind = marker
        if action == "begin":
            if region is not None:
                raise LabToolError(
                    f"{where}, line {number}: {line.strip()} inside the region opened on line "
                    f"{region[1]}; regions cannot nest: close it with {_END_OF[region[0]]} first."
                )
            region = (kind, number, line[: len(line) - len(line.lstrip())])
        elif region is None:
            raise LabToolError(
                f"{where}, line {number}: {line.strip()} has no BEGIN line before it; "
                "add the matching BEGIN line or delete this one."
            )
        elif region[0] != kind:
            raise LabToolError(
                f"{where}, line {number}: {line.strip()} closes the region opened on line "
                f"{region[1]}; close it with {_END_OF[region[0]]} instead."
            )
        else:
            if kind == "solution":
                kept.extend(_placeholder(cell_type, region[2]))
            found.add(kind)
            region = None
    if region is not None:
        raise LabToolError(
            f"{where}, line {region[1]}: the region opened here is never closed; "
            f"add {_END_OF[region[0]]} after it."
        )
    return "\n".join(kept), found


def _without_magics(line):
    # IPython magics and shell escapes are not Python; `pass` keeps any enclosing block valid.
    body = line.lstrip()
    return line[: len(line) - len(body)] + "pass" if body.startswith(("%", "!")) else line


def python_syntax_error(code):
    """Return the SyntaxError of a code cell's source (IPython magics allowed), or None if it parses."""
    if code.lstrip().startswith("%%"):  # a cell magic: the whole cell is another language
        return None
    python = "\n".join(_without_magics(line) for line in code.split("\n"))
    flags = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    try:
        compile(python, "<cell>", "exec", flags=flags, dont_inherit=True)
    except SyntaxError as error:
        return error
    return None


def _check_python(code, where):
    """Raise LabToolError when a generated code cell is not valid Python."""
    error = python_syntax_error(code)
    if error is not None:
        raise LabToolError(
            f"{where}: the student version is not valid Python (line {error.lineno}: "
            f"{error.msg}); check the code, and indent BEGIN SOLUTION like the code it replaces."
        )


def _student_cell(cell, where):
    cell = copy.deepcopy(cell)
    cell.source, found = _strip_regions(cell.source, cell.cell_type, where)
    if "solution" in found and not nbgrader(cell).get("solution"):
        raise LabToolError(
            f"{where}: has solution markers but its metadata lacks nbgrader.solution = true; "
            "mark it as an autograded-answer cell (nbgrader metadata) or remove the markers."
        )
    cell.metadata.pop("execution", None)
    cell.metadata.pop("ExecuteTime", None)
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None
        _check_python(cell.source, where)
    return cell


def _notice_cell(nb, source_name):
    cell = nbformat.v4.new_markdown_cell(
        NOTICE.format(source=source_name), metadata={"gan_lab": {"generated": True}}
    )
    if nb.get("nbformat_minor", 0) >= 5:
        cell.id = NOTICE_ID
    else:
        cell.pop("id", None)  # cell ids exist only from nbformat 4.5 on
    return cell


def _is_notice(cell):
    return cell.get("metadata", {}).get("gan_lab", {}).get("generated", False)


def student_source(cell, where="cell"):
    """The source a student sees for a solution notebook cell: answers blanked, hidden tests removed."""
    return _strip_regions(cell.source, cell.cell_type, where)[0]


def cells_digest(cells):
    """A fingerprint of the cells' ids, types and sources, recorded in each generated lab."""
    cells = [cell for cell in cells if not _is_notice(cell)]
    content = [[cell.get("id"), cell["cell_type"], "".join(cell["source"])] for cell in cells]
    return hashlib.sha256(json.dumps(content).encode("utf-8")).hexdigest()


def student_version(nb, source_name):
    """Return the student lab made from solution notebook `nb` (read from `source_name`)."""
    cells = [
        _student_cell(cell, _describe_cell(source_name, nb, index))
        for index, cell in enumerate(nb.cells)
        if not _is_notice(cell)
    ]
    lab = copy.deepcopy(nb)
    lab.metadata.pop("widgets", None)
    # Lets make_labs tell a lab a student has edited from one that is just out of date.
    lab.metadata["gan_lab"] = {"cells_sha256": cells_digest(cells)}
    lab.cells = [_notice_cell(nb, source_name), *cells]
    return lab
