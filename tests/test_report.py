"""Lab reports (gan_lab.report): the template `gan-lab report` writes from small synthetic notebooks."""

import base64
import io
import re
from datetime import date

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from gan_lab.report import (
    NOT_ANSWERED, ReportError, hand_in_stem, parse_hand_in_name, report_text, read_lab_notebook, trimmed,
    without_progress, write_report,
)

PNG = base64.b64decode(  # a 1x1 PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
OTHER_PNG = PNG[:-1] + b"\x83"  # different bytes, to tell the figures apart
KERAS_PROGRESS = ("\x1b[1m15/16\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━\x1b[0m\x1b[37m━━\x1b[0m \x1b[1m0s\x1b[0m 51ms/step"
                  " - d_loss: 0.6452\n")
STUDENT = ("2023001234", "张三")


def printed(text):
    return new_output("stream", name="stdout", text=text)


def figure(png=PNG):
    return new_output("display_data", data={"image/png": base64.b64encode(png).decode(), "text/plain": "<Figure>"})


def written_answer(text):
    cell = new_markdown_cell(text)
    cell.metadata["nbgrader"] = {"solution": True, "grade": True, "grade_id": "why", "locked": False, "points": 2,
                                 "schema_version": 3}
    return cell


def lab_notebook(answer="YOUR ANSWER HERE", executed=True):
    """A small Lab 03: two sections with a figure, printed results and a written answer, then extension tasks."""
    train = new_code_cell("train()", outputs=[printed("Epoch 1/2\n" + KERAS_PROGRESS), figure(),
                                             printed(KERAS_PROGRESS + "training done\n")] if executed else [])
    measure = new_code_cell("measure()", outputs=[printed("MNIST score: 8.50\n"), figure(OTHER_PNG)]
                            if executed else [])
    return new_notebook(cells=[
        new_markdown_cell("# Lab 03: Train a GAN on MNIST"),
        new_markdown_cell("## Train it\n\nRun the training."),
        train,
        new_markdown_cell("Why do the losses not fall steadily?"),
        written_answer(answer),
        new_markdown_cell("## Measuring the result"),
        measure,
        new_markdown_cell("## Extension tasks\n\nPick one.\n\n1. **Longer.** Train for 60\n   epochs.\n"
                          "2. Try k = 2.\n\nReport what you measured."),
    ])


def saved(folder, notebook, name="lab03_gan.ipynb"):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    nbformat.write(notebook, path)
    return path


def report_of(tmp_path, notebook=None, **kwargs):
    """Write the report of one notebook; return (report path, its text, what was printed, what was warned)."""
    path = saved(tmp_path / "labs", notebook or lab_notebook())
    out, err = io.StringIO(), io.StringIO()
    report = write_report([path], *STUDENT, out_dir=tmp_path / "out", stdout=out, stderr=err, **kwargs)
    return report, report.read_text(encoding="utf-8"), out.getvalue(), err.getvalue()


def test_the_report_is_named_the_way_the_course_asks(tmp_path):
    report, text, printed_lines, _ = report_of(tmp_path)
    assert report == tmp_path / "out" / "第3次实验-2023001234-张三.md"
    assert "- Student number (学号): 2023001234" in text and "- Name (姓名): 张三" in text
    assert f"- Date: {date.today().isoformat()}" in text and "`lab03_gan.ipynb`" in text
    assert f"report: {report} (2 figures)" in printed_lines


def test_figures_are_extracted_in_order_and_linked_from_their_section(tmp_path):
    report, text, _, _ = report_of(tmp_path)
    figures = tmp_path / "out" / "第3次实验-2023001234-张三-figures"
    assert (figures / "figure_01.png").read_bytes() == PNG
    assert (figures / "figure_02.png").read_bytes() == OTHER_PNG
    train, measure = text.split("## Train it")[1], text.split("## Measuring the result")[1]
    assert "![Figure 1](<第3次实验-2023001234-张三-figures/figure_01.png>)" in train.split("## ")[0]
    assert "![Figure 2](<第3次实验-2023001234-张三-figures/figure_02.png>)" in measure.split("## ")[0]


def test_progress_bars_epoch_lines_and_ansi_escapes_are_stripped_from_printed_results(tmp_path):
    _, text, _, _ = report_of(tmp_path)
    assert "```text\ntraining done\n```" in text and "```text\nMNIST score: 8.50\n```" in text
    assert "━" not in text and "\x1b" not in text and "Epoch 1/2" not in text and "51ms/step" not in text


def test_carriage_return_redraws_keep_only_the_last_text():
    assert without_progress("10%\r50%\rdone\nnext\n") == "done\nnext"


def test_long_printed_results_are_trimmed_with_a_note():
    text = trimmed("\n".join(f"line {number}" for number in range(100)), limit=10)
    assert text.split("\n") == ["line 0", "line 1", "line 2", "line 3", "line 4",
                                "... (90 lines left out: see the notebook) ...",
                                "line 95", "line 96", "line 97", "line 98", "line 99"]


def test_a_written_answer_stands_under_its_question(tmp_path):
    _, text, _, _ = report_of(tmp_path, lab_notebook(answer="Each loss depends on the other network."))
    section = text.split("## Train it")[1].split("## ")[0]
    assert "> Why do the losses not fall steadily?\n\nEach loss depends on the other network." in section
    assert NOT_ANSWERED not in text


def test_an_answer_left_as_the_placeholder_is_shown_as_not_answered_yet(tmp_path):
    _, text, _, _ = report_of(tmp_path)
    assert f"> Why do the losses not fall steadily?\n\n{NOT_ANSWERED}" in text
    assert "YOUR ANSWER HERE" not in text


def test_each_notebook_section_comes_in_order_then_the_sections_to_fill_in(tmp_path):
    _, text, _, _ = report_of(tmp_path)
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert headings == ["Train it", "Measuring the result", "Extension tasks", "Extensions I tried",
                        "What I learned", "Problems I met"]
    train = text.split("## Train it")[1].split("## ")[0]
    assert train.index("![Figure 1]") < train.index("```text") < train.index("> Why do")


def test_the_extension_tasks_are_listed_each_with_a_blank(tmp_path):
    _, text, _, _ = report_of(tmp_path)
    tried = text.split("## Extensions I tried")[1].split("## ")[0]
    assert "1. **Longer.** Train for 60 epochs.\n\n   What I did and what I saw: \n" in tried
    assert "2. Try k = 2.\n\n   What I did and what I saw: \n\n## " in tried + "## "
    assert "Pick one" not in tried and "Report what you measured" not in tried


def test_notebooks_of_different_labs_are_refused_in_one_line(tmp_path):
    first = saved(tmp_path, lab_notebook())
    second = saved(tmp_path, lab_notebook(), name="lab04_dcgan.ipynb")
    with pytest.raises(ReportError) as error:
        write_report([first, second], *STUDENT, out_dir=tmp_path / "out")
    assert str(error.value) == ("the notebooks are from different labs (lab03_gan.ipynb: lab 3, lab04_dcgan.ipynb: "
                                "lab 4): make one report per lab, or pass --lab N")
    assert not (tmp_path / "out").exists()


def test_a_notebook_that_is_no_lab_is_refused_unless_the_lab_is_given(tmp_path):
    notebook = lab_notebook()
    notebook.cells[0].source = "# My experiments"
    path = saved(tmp_path, notebook, name="scratch.ipynb")
    with pytest.raises(ReportError, match="scratch.ipynb is not a lab notebook .*: pass --lab N"):
        write_report([path], *STUDENT, out_dir=tmp_path / "out")
    assert write_report([path], *STUDENT, out_dir=tmp_path / "out", lab=5, stdout=io.StringIO()).name == \
        "第5次实验-2023001234-张三.md"


def test_the_lab_of_a_renamed_notebook_comes_from_its_hand_in_name_or_title(tmp_path):
    mailed = saved(tmp_path, lab_notebook(), name="第3次实验-2023001234-张三.ipynb")
    titled = saved(tmp_path, lab_notebook(), name="my copy.ipynb")  # its title says "# Lab 03"
    assert write_report([mailed, titled], *STUDENT, out_dir=tmp_path / "out", stdout=io.StringIO()).name == \
        "第3次实验-2023001234-张三.md"


@pytest.mark.parametrize("student_id", ["2023-001234", "2023001234/..", "", "张三", "abc", "2" * 33])
def test_a_bad_student_number_is_refused_in_one_line(tmp_path, student_id):
    path = saved(tmp_path, lab_notebook())
    with pytest.raises(ReportError) as error:
        write_report([path], student_id, "张三", out_dir=tmp_path / "out")
    assert str(error.value) == "--id must be your student number, e.g. 2023001234"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["../张三", "张\\三", "张\n三", "张\x1b[2J三", "", "..", "x" * 51])
def test_a_name_that_could_make_a_path_or_escape_is_refused(tmp_path, name):
    path = saved(tmp_path, lab_notebook())
    with pytest.raises(ReportError, match="^--name must be your name"):
        write_report([path], "2023001234", name, out_dir=tmp_path / "out")


def test_a_full_width_student_number_is_made_ascii(tmp_path):
    path = saved(tmp_path, lab_notebook())
    report = write_report([path], "２０２３００１２３４", "张三", out_dir=tmp_path / "out", stdout=io.StringIO())
    assert report.name == "第3次实验-2023001234-张三.md"


def test_an_earlier_report_and_its_figures_are_kept_together_and_said(tmp_path):
    report, _, _, _ = report_of(tmp_path)
    report.write_text("my finished report", encoding="utf-8")
    _, _, printed_lines, _ = report_of(tmp_path)
    [kept] = (tmp_path / "out").glob("第3次实验-2023001234-张三.previous-*")
    assert (kept / report.name).read_text(encoding="utf-8") == "my finished report"
    assert (kept / "第3次实验-2023001234-张三-figures" / "figure_01.png").read_bytes() == PNG
    assert f"kept the earlier report in {kept}/" in printed_lines
    assert "my finished report" not in report.read_text(encoding="utf-8")


def test_an_unexecuted_notebook_is_warned_about_in_the_report_and_on_the_terminal(tmp_path):
    _, text, _, warned = report_of(tmp_path, lab_notebook(executed=False))
    warning = ("warning: lab03_gan.ipynb holds no outputs (it was never run, or its outputs were cleared): run all "
               "its cells, save it and make the report again")
    assert warned == warning + "\n" and f"> {warning}" in text
    assert not (tmp_path / "out" / "第3次实验-2023001234-张三-figures").exists()


def test_an_unreadable_notebook_is_a_one_line_error_naming_it(tmp_path):
    path = tmp_path / "lab03_gan.ipynb"
    path.write_text('{"cells": [', encoding="utf-8")
    with pytest.raises(ReportError, match=r"lab03_gan.ipynb: not a notebook: invalid JSON .*; open it in Jupyter"):
        read_lab_notebook(path)


def test_two_notebooks_get_their_names_in_the_headings_and_one_figure_numbering(tmp_path):
    first = saved(tmp_path, lab_notebook())
    second = saved(tmp_path, lab_notebook(), name="lab03_gan_extension.ipynb")
    labs = [read_lab_notebook(path)[1] for path in (first, second)]
    text = report_text(3, *STUDENT, labs, "figures")
    assert "## lab03_gan_extension.ipynb: Train it\n\n![Figure 3](<figures/figure_03.png>)" in text


def test_the_hand_in_name_round_trips():
    stem = hand_in_stem(3, *STUDENT)
    assert stem == "第3次实验-2023001234-张三"
    assert parse_hand_in_name(stem + ".md") == parse_hand_in_name(stem + ".ipynb")
    assert (parse_hand_in_name(stem + ".md").lab, parse_hand_in_name(stem + ".md").student_id) == (3, "2023001234")
