"""The gradebook CSV, feedback files and terminal summary (gan_lab.grading.gradebook)."""

import csv

import pytest

from gan_lab.grading.gradebook import (
    CheckResult, Exercise, StudentResult, feedback_name, feedback_text, gradebook_rows, printable, spreadsheet_safe,
    summary_table, verbatim, write_feedback, write_gradebook,
)

EXERCISES = [Exercise("check_a", 1.0), Exercise("check_b", 2.0)]


def _results():
    return [
        StudentResult("alice", "graded", {"check_a": CheckResult(True, 1.0), "check_b": CheckResult(True, 2.0)}),
        StudentResult("bob", "timeout", {"check_a": CheckResult(True, 1.0),
                                         "check_b": CheckResult(False, 0.0, "Timeout | of 30 s")}, ["slow"]),
        StudentResult("../eve", "unreadable", notes=["eve.ipynb: not a notebook", "second note"]),
    ]


def test_rows_have_points_per_check_total_status_and_notes():
    assert gradebook_rows(EXERCISES, _results()) == [
        ["student", "check_a", "check_b", "total", "status", "notes"],
        ["alice", "1", "2", "3", "graded", ""],
        ["bob", "1", "0", "1", "timeout", "slow"],
        ["../eve", "0", "0", "0", "unreadable", "eve.ipynb: not a notebook; second note"],
    ]


def test_gradebook_csv_round_trips_and_replaces_an_older_one(tmp_path):
    path = tmp_path / "gradebook.csv"
    path.write_text("old")
    write_gradebook(path, EXERCISES, _results())
    with open(path, newline="") as file:
        assert list(csv.reader(file)) == gradebook_rows(EXERCISES, _results())
    assert [p.name for p in tmp_path.iterdir()] == ["gradebook.csv"]


def test_feedback_names_cannot_escape_the_feedback_folder():
    assert feedback_name("../eve") == "_eve.md"
    assert feedback_name("Zoë Smith") == "Zo__Smith.md"
    assert feedback_name("...") == "student.md"


def test_feedback_lists_each_check_with_its_hint_and_escapes_table_bars():
    text = feedback_text("lab01", EXERCISES, _results()[1])
    assert "Total: 1 / 3 points. Status: graded; a cell ran past the time limit." in text
    assert "- slow" in text
    assert "| check_a | 1 / 1 | passed |" in text
    assert "| check_b | 0 / 2 | failed: Timeout \\| of 30 s |" in text


def test_feedback_of_an_ungraded_submission_says_so_per_check():
    text = feedback_text("lab01", EXERCISES, _results()[2])
    assert "| check_a | 0 / 1 | not graded |" in text and "not graded: not a readable notebook file" in text


def test_write_feedback_writes_one_file_per_student(tmp_path):
    results = _results() + [StudentResult("/eve", "graded")]  # same safe name as ../eve
    write_feedback(tmp_path / "feedback", "lab01", EXERCISES, results)
    assert sorted(p.name for p in (tmp_path / "feedback").iterdir()) == ["_eve.md", "_eve_.md", "alice.md", "bob.md"]


def test_summary_table_aligns_columns_without_notes():
    lines = summary_table(EXERCISES, _results()).splitlines()
    assert lines[0].split() == ["student", "check_a", "check_b", "total", "status"]
    assert lines[1].split() == ["alice", "1", "2", "3", "graded"]
    status = lines[0].index("status")
    assert all(line[status - 1] == " " and line[status] != " " for line in lines)  # a column
    assert "slow" not in "\n".join(lines)


@pytest.mark.parametrize("value", ["=1+1", "+cmd", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_written_as_text(value):
    assert spreadsheet_safe(value) == "'" + value
    assert spreadsheet_safe("alice=bob") == "alice=bob" and spreadsheet_safe("") == ""


def test_the_gradebook_csv_neutralises_formula_ids_and_notes_but_the_terminal_shows_them(tmp_path):
    results = [StudentResult("=HYPERLINK(\"x\")", "no_notebook", notes=["@note"]),
               StudentResult("-2", "graded", {"check_a": CheckResult(True, 1.0)})]
    write_gradebook(tmp_path / "gradebook.csv", EXERCISES, results)
    with open(tmp_path / "gradebook.csv", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[1][0] == "'=HYPERLINK(\"x\")" and rows[1][-1] == "'@note"
    assert rows[2][:2] == ["'-2", "1"]
    assert summary_table(EXERCISES, results).splitlines()[1].startswith("=HYPERLINK")


def test_review_and_not_graded_are_explained_in_the_feedback():
    review = feedback_text("lab01", EXERCISES, StudentResult("x", "review", notes=["answer a, line 1: ..."]))
    assert "Status: graded, and flagged for the instructor" in review and "- answer a, line 1: ..." in review
    assert "interrupted" in feedback_text("lab01", EXERCISES, StudentResult("y", "not_graded"))


def test_a_file_name_cannot_send_escape_sequences_to_the_instructor_s_terminal():
    results = [StudentResult("eve\x1b]0;owned\x07\x1b[2J", "graded", {"check_a": CheckResult(True, 1.0)})]
    table = summary_table(EXERCISES, results)
    assert "\x1b" not in table and "\x07" not in table and "eve?]0;owned??[2J" in table
    assert printable("Zoë Smith") == "Zoë Smith"


WRITTEN = [*EXERCISES, Exercise("why_tanh", 2.0, manual=True), Exercise("collapse", 1.0, manual=True)]


def test_written_answers_get_an_empty_manual_column_each_and_the_total_stays_the_checks_total():
    results = [StudentResult("alice", "graded", {"check_a": CheckResult(True, 1.0), "check_b": CheckResult(True, 2.0)},
                             written={"why_tanh": "Because of [-1, 1].", "collapse": ""})]
    assert gradebook_rows(WRITTEN, results) == [
        ["student", "check_a", "check_b", "why_tanh (manual, /2)", "collapse (manual, /1)",
         "total (auto; manual not included)", "status", "notes"],
        ["alice", "1", "2", "", "", "3", "graded", ""],
    ]
    assert "Because" not in summary_table(WRITTEN, results)


def test_feedback_shows_each_written_answer_as_text_or_no_answer_graded_by_the_instructor():
    result = StudentResult("alice", "graded", {"check_a": CheckResult(True, 1.0)},
                           written={"why_tanh": "Real images lie in **[-1, 1]**.\n\n<img src=x>"})
    text = feedback_text("lab01", WRITTEN, result)
    assert "Total: 1 / 3 points." in text and "are graded by your instructor; their points are not in the" in text
    assert ("### why_tanh (2 points): graded by your instructor\n\n"
            "```text\nReal images lie in **[-1, 1]**.\n\n<img src=x>\n```\n") in text
    assert "### collapse (1 point): graded by your instructor\n\nno answer\n" in text
    assert text.index("| check_b |") < text.index("## Written answers")


def test_a_written_answer_cannot_close_its_fence_or_send_escape_sequences():
    answer = "```\n# not a heading\n````\n\x1b[2J\tend"
    lines = verbatim(answer)
    assert lines == ["`````text", "```", "# not a heading", "````", "?[2J    end", "`````"]
