"""Lab reports: a Markdown template holding what a student's executed lab notebooks show.

The course asks for a lab report named 第<n>次实验-<学号>-<姓名> (lab n - student number - name).
`write_report` (the `gan-lab report` command) writes that .md file with, for each `## ` section of
the notebooks, its figures (PNG files in a folder beside the report), the results it printed and
the written answers, then headings the student fills in. The naming rule lives here too, since
`gan-lab grade` reads the student number from mailed files named the same way.
"""

import base64
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from gan_lab.authoring.student_version import WRITTEN_PLACEHOLDER
from gan_lab.notebook_io import NotebookError, is_written_answer, parse_notebook, stamped_path, write_atomically

ID_HINT = "--id must be your student number, e.g. 2023001234"
NAME_HINT = ("--name must be your name, e.g. 张三 (at most 50 characters, without / \\ : * ? \" < > | or "
             "control characters)")
NOT_ANSWERED = "(not answered yet)"
MAX_OUTPUT_LINES = 40  # a printed output longer than this keeps its first and last lines
MAX_LINE_CHARACTERS = 300  # and a longer line is cut
EXTENSIONS_HEADING = "Extension tasks"

_STUDENT_ID = re.compile(r"(?=[A-Za-z]*[0-9])[0-9A-Za-z]{1,32}")  # letters and digits, at least one digit
_NOT_IN_NAME = set('/\\:*?"<>|')  # path separators, and what Windows refuses in a file name
_CHINESE_NUMBERS = {character: value for value, character in enumerate("一二三四五六七八九十", start=1)}
# After NFKC, the full-width '－' '＿', digits and spaces a Chinese keyboard types are ASCII.
_SEPARATOR = r"(?:\s*[-_\u2013\u2014]+\s*|\s+)"  # - _ en or em dash(es), spaces around; or spaces alone
_HAND_IN = re.compile(rf"第\s*(?P<lab>[0-9]{{1,2}}|[一二三四五六七八九十])\s*次\s*实验{_SEPARATOR}"
                      rf"(?P<student_id>{_STUDENT_ID.pattern}){_SEPARATOR}(?P<name>.+)")
_LAB_FILE = re.compile(r"lab([0-9]{2})")
_LAB_TITLE = re.compile(r"^#\s+Lab\s+0*([0-9]{1,2})\b", re.MULTILINE)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_PROGRESS = re.compile(r"━|█|^\s*\d+/\d+ \[[=>.]*\]|^Epoch \d+/\d+\s*$")  # Keras 3, tqdm, Keras 2, fit


class ReportError(ValueError):
    """The report cannot be written; the message is one line: what is wrong, then the fix."""


@dataclass(frozen=True)
class HandInName:
    """What a file named 第<n>次实验-<学号>-<姓名> says: the lab number, the student number, the name."""

    lab: int
    student_id: str
    name: str


def hand_in_stem(lab, student_id, name):
    """The course's name for a student's hand-in of a lab, without the extension."""
    return f"第{lab}次实验-{student_id}-{name}"


def is_student_id(text):
    """True for a student number: letters and digits only, at least one digit."""
    return bool(_STUDENT_ID.fullmatch(text))


def is_name(text):
    """True for a name safe inside a file name: a letter, no path separators or control characters, short."""
    return (any(character.isalpha() for character in text) and len(text) <= 50 and text.isprintable()
            and not _NOT_IN_NAME & set(text))


def parse_hand_in_name(file_name):
    """The HandInName of a file named 第n次实验-学号-姓名[.ext], or None when it is not named so."""
    stem = unicodedata.normalize("NFKC", Path(file_name).stem).strip()
    match = _HAND_IN.fullmatch(stem)
    if not match or not is_name(match["name"]):
        return None
    lab = match["lab"]
    return HandInName(int(lab) if lab.isdigit() else _CHINESE_NUMBERS[lab], match["student_id"],
                      match["name"].strip())


def lab_number(file_name):
    """The lab number of a lab notebook's file name (lab03_gan.ipynb: 3), or None."""
    match = _LAB_FILE.match(Path(file_name).name)
    return int(match[1]) if match else None


@dataclass
class WrittenAnswer:
    """A written-answer cell and the question above it."""

    question: str
    answer: str


@dataclass
class Section:
    """What one `## ` section of a notebook holds for the report."""

    title: str
    figures: list = field(default_factory=list)  # PNG bytes
    outputs: list = field(default_factory=list)  # cleaned printed text
    answers: list = field(default_factory=list)  # WrittenAnswer
    items: list = field(default_factory=list)  # list items of its Markdown (the extension tasks)


@dataclass
class LabNotebook:
    """A student's notebook as the report sees it."""

    path: Path
    sections: list
    executed: bool


def without_progress(text):
    """Printed text without progress bars, carriage-return redraws or ANSI escapes."""
    lines = []
    for line in text.split("\n"):  # not splitlines(): a lone \r redraws the line, it does not end it
        shown = _ANSI.sub("", line.rstrip("\r").rsplit("\r", 1)[-1]).replace("\b", "")
        if not _PROGRESS.search(shown) and shown.strip():
            lines.append(shown.rstrip())
    return "\n".join(lines)


def _short(line):
    """The line, cut at MAX_LINE_CHARACTERS."""
    return line if len(line) <= MAX_LINE_CHARACTERS else line[:MAX_LINE_CHARACTERS] + " ..."


def trimmed(text, limit=MAX_OUTPUT_LINES):
    """Text cut to its first and last lines when it is longer than `limit` lines, with a note; long lines cut."""
    lines = [_short(line) for line in text.split("\n")]
    if len(lines) <= limit:
        return "\n".join(lines)
    half = limit // 2
    return "\n".join([*lines[:half], f"... ({len(lines) - limit} lines left out: see the notebook) ...",
                      *lines[-half:]])


def _answer_text(source):
    """The student's answer, or NOT_ANSWERED while only the placeholder is there."""
    answer = "\n".join(line for line in source.split("\n") if line.strip() != WRITTEN_PLACEHOLDER).strip()
    return answer or NOT_ANSWERED


def _list_items(source):
    """The items of a Markdown list, each with its indented continuation lines joined."""
    items, open_item = [], False
    for line in source.split("\n"):
        item = re.match(r"\s*(?:[-*+]|\d+[.)])\s+(.+)", line)
        if item:
            items.append(item[1].strip())
        elif open_item and line.startswith((" ", "\t")) and line.strip():
            items[-1] += " " + line.strip()
        open_item = bool(item) or (open_item and bool(line.strip()))
    return items


def _png(data):
    """The bytes of a stored image/png output (base64, as one string or a list of lines)."""
    return base64.b64decode("".join(data) if isinstance(data, list) else data)


def _add_code_outputs(section, cell):
    """Add a code cell's figures and printed results to its section."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            text = trimmed(without_progress(output.get("text", "")))
            if text:
                section.outputs.append(text)
        elif "image/png" in output.get("data", {}):
            section.figures.append(_png(output["data"]["image/png"]))


def notebook_sections(notebook):
    """The notebook's `## ` sections (an untitled first one for what comes before) with their contents."""
    sections, previous = [Section("")], None
    for cell in notebook.cells:
        if cell.cell_type == "code":
            _add_code_outputs(sections[-1], cell)
        elif is_written_answer(cell):
            question = previous.source.strip() if previous is not None and previous.cell_type == "markdown" else ""
            sections[-1].answers.append(WrittenAnswer(question, _answer_text(cell.source)))
        elif cell.cell_type == "markdown":
            for part in re.split(r"^(?=## )", cell.source, flags=re.MULTILINE):
                if part.startswith("## "):
                    sections.append(Section(part.split("\n", 1)[0][3:].strip()))
                sections[-1].items += _list_items(part)
        previous = cell
    return [section for section in sections if section.title or section.figures or section.outputs
            or section.answers]


def _executed(notebook):
    """True when some code cell of the notebook holds an output."""
    return any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


def read_lab_notebook(path):
    """Read a student's notebook for the report; a missing or bad file raises a one-line ReportError."""
    path = Path(path)
    try:
        notebook = parse_notebook(path.read_bytes())
    except OSError as error:
        raise ReportError(f"{path}: cannot be read ({error.strerror}); pass your lab notebook file") from None
    except NotebookError as error:
        raise ReportError(f"{path}: {error}; open it in Jupyter and save it again") from None
    return notebook, LabNotebook(path, notebook_sections(notebook), _executed(notebook))


def _lab_in_title(notebook):
    """The lab number of a '# Lab NN' title, or None."""
    titles = [_LAB_TITLE.search(cell.source) for cell in notebook.cells if cell.cell_type == "markdown"]
    return next((int(title[1]) for title in titles if title), None)


def lab_of(paths, notebooks):
    """The one lab the notebooks belong to (by file name, hand-in name or title), or a ReportError."""
    labs = {}
    for path, notebook in zip(paths, notebooks):
        hand_in = parse_hand_in_name(path.name)
        number = lab_number(path.name) or (hand_in and hand_in.lab) or _lab_in_title(notebook)
        if not number:
            raise ReportError(f"{path.name} is not a lab notebook (no labNN in its name, no '# Lab NN' title): "
                              "pass --lab N to say which lab it belongs to")
        labs[path.name] = number
    if len(set(labs.values())) > 1:
        found = ", ".join(f"{name}: lab {number}" for name, number in labs.items())
        raise ReportError(f"the notebooks are from different labs ({found}): make one report per lab, or pass "
                          "--lab N")
    return next(iter(labs.values()))


def check_student(student_id, name):
    """The student number and name, cleaned (full-width characters made ASCII), or a one-line ReportError."""
    student_id, name = unicodedata.normalize("NFKC", student_id).strip(), name.strip()
    if not is_student_id(student_id):
        raise ReportError(ID_HINT)
    if not is_name(name):
        raise ReportError(NAME_HINT)
    return student_id, name


def unexecuted_warning(path):
    """The one line said about a notebook that holds no outputs."""
    return (f"warning: {path.name} holds no outputs (it was never run, or its outputs were cleared): run all its "
            "cells, save it and make the report again")


def _link(folder, number):
    """A Markdown image link to figure `number` (angle brackets: the folder's name may hold spaces)."""
    return f"![Figure {number}](<{folder}/figure_{number:02d}.png>)"


def _quoted(text):
    """Text as a Markdown block quote."""
    return "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))


def _section_lines(section, heading, figure_links):
    """A notebook section in the report: its figures, then printed results, then written answers."""
    lines = [f"## {heading}", ""]
    lines += [line for link in figure_links for line in (link, "")]
    for output in section.outputs:
        lines += ["```text", output.replace("```", "'''"), "```", ""]
    for answer in section.answers:
        lines += [_quoted(answer.question or "(the question above the answer cell)"), "", answer.answer, ""]
    if len(lines) == 2:
        lines += ["(no figures, printed results or written answers in this section)", ""]
    return lines


def _extension_lines(labs):
    """"Extensions I tried": the notebooks' extension tasks each with a blank, or one blank item."""
    tasks = [item for lab in labs for section in lab.sections if section.title == EXTENSIONS_HEADING
             for item in section.items]
    lines = ["## Extensions I tried", ""]
    if not tasks:
        return lines + ["For each extension: what you changed, what you expected, what you saw (with figures).",
                        "", "1. ", ""]
    for number, task in enumerate(tasks, start=1):
        lines += [f"{number}. {task}", "", "   What I did and what I saw: ", ""]
    return lines


def report_text(lab, student_id, name, labs, figures_folder, today=None):
    """The Markdown report; `figures_folder` is the figures' folder name, numbered in order from 1."""
    lines = [f"# 第{lab}次实验 lab report: Lab {lab:02d}", "",
             f"- Course lab: {lab}", f"- Student number (学号): {student_id}", f"- Name (姓名): {name}",
             f"- Date: {(today or date.today()).isoformat()}",
             f"- Notebooks: {', '.join(f'`{lab_notebook.path.name}`' for lab_notebook in labs)}", ""]
    lines += [f"> {unexecuted_warning(lab_notebook.path)}\n" for lab_notebook in labs if not lab_notebook.executed]
    figure = 0
    for lab_notebook in labs:
        for section in lab_notebook.sections:
            title = section.title or "Before the first section"
            heading = f"{lab_notebook.path.name}: {title}" if len(labs) > 1 else title
            links = [_link(figures_folder, figure + index) for index in range(1, len(section.figures) + 1)]
            figure += len(section.figures)
            lines += _section_lines(section, heading, links)
    lines += _extension_lines(labs)
    lines += ["## What I learned", "", "", "## Problems I met", "", ""]
    return "\n".join(lines)


def _keep_earlier(report, figures, stdout):
    """Move an earlier report and its figures, together, into a time-stamped folder beside them."""
    earlier = [path for path in (report, figures) if path.exists()]
    if not earlier:
        return
    kept = stamped_path(report.parent, f"{report.stem}.previous-", "")
    kept.mkdir()
    for path in earlier:
        path.rename(kept / path.name)  # together, so the kept report's figure links still work
    print(f"kept the earlier report in {kept}/", file=stdout)


def write_report(notebooks, student_id, name, out_dir=".", lab=None, stdout=None, stderr=None):
    """Write 第n次实验-学号-姓名.md and its figures folder in `out_dir` (lab n: the notebooks' unless `lab`
    is given); return the report's path."""
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    student_id, name = check_student(student_id, name)
    paths = [Path(path) for path in notebooks]
    read = [read_lab_notebook(path) for path in paths]
    lab = lab or lab_of(paths, [notebook for notebook, _ in read])
    labs = [lab_notebook for _, lab_notebook in read]
    stem = hand_in_stem(lab, student_id, name)
    out = Path(out_dir)
    report, figures = out / f"{stem}.md", out / f"{stem}-figures"
    try:
        out.mkdir(parents=True, exist_ok=True)
        _keep_earlier(report, figures, stdout)
        pictures = [png for lab_notebook in labs for section in lab_notebook.sections for png in section.figures]
        if pictures:
            figures.mkdir()
        for number, png in enumerate(pictures, start=1):
            write_atomically(figures / f"figure_{number:02d}.png", png)
        write_atomically(report, report_text(lab, student_id, name, labs, figures.name))
    except OSError as error:
        raise ReportError(f"cannot write the report in {out} ({error.strerror}): pass another --out") from None
    for lab_notebook in labs:
        if not lab_notebook.executed:
            print(unexecuted_warning(lab_notebook.path), file=stderr)
    print(f"report: {report} ({len(pictures)} figures); fill in its last sections, then hand it in", file=stdout)
    return report
