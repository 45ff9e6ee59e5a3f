"""Finding, reading and matching student submissions (gan_lab.grading.submissions); no kernels run here."""

import json
import os
import re

import nbformat
import pytest

from gan_lab.authoring.student_version import student_source
from gan_lab.grading.submissions import (
    check_cell_changes, defined_names, find_submissions, match_answers, read_submission,
)
from gan_lab.grading.gradebook import feedback_name, spreadsheet_safe
from grading_helpers import SOLUTIONS, reference, submission, without_cells, write

from gan_lab.notebook_io import NotebookError

LAB = "lab01_generator.ipynb"
SOLUTION = SOLUTIONS / LAB


def test_a_notebook_file_is_one_student_named_after_the_file(tmp_path):
    path = write(tmp_path, "alice", submission())
    [found] = find_submissions([path], LAB)
    assert (found.student, found.path, found.problem) == ("alice", path, "")


def test_a_folder_with_one_notebook_is_one_student_named_after_the_folder(tmp_path):
    (tmp_path / "bob" / "lab01").mkdir(parents=True)
    path = write(tmp_path / "bob" / "lab01", "whatever", submission())
    [found] = find_submissions([tmp_path / "bob"], LAB)
    assert (found.student, found.path) == ("bob", path)


def test_a_folder_of_notebooks_and_student_folders_is_a_class(tmp_path):
    write(tmp_path, "alice", submission())
    write(tmp_path, "bob", submission())
    (tmp_path / "carol").mkdir()
    write(tmp_path / "carol", LAB[:-6], submission())
    write(tmp_path / "carol", "scratch", submission())
    (tmp_path / ".ipynb_checkpoints").mkdir()
    write(tmp_path / ".ipynb_checkpoints", "alice-checkpoint", submission())
    found = find_submissions([tmp_path], LAB)
    assert [(s.student, s.path.name) for s in found] == [
        ("alice", "alice.ipynb"), ("bob", "bob.ipynb"), ("carol", LAB)]


def test_a_folder_made_by_collect_is_a_class_even_with_student_folders_only(tmp_path):
    (tmp_path / "collected.csv").write_text("student,file,modified,status,note\n")
    (tmp_path / "alice").mkdir()
    write(tmp_path / "alice", LAB[:-6], submission())
    (tmp_path / "bob").mkdir()
    found = find_submissions([tmp_path], LAB)
    assert [s.student for s in found] == ["alice", "bob"]


def test_a_student_folder_with_several_unnamed_notebooks_is_reported_not_guessed(tmp_path):
    write(tmp_path, "one", submission())
    write(tmp_path, "two", submission())
    (tmp_path / "dave").mkdir()
    for name in ("a", "b"):
        write(tmp_path / "dave", name, submission())
    dave = [s for s in find_submissions([tmp_path], LAB) if s.student == "dave"][0]
    assert dave.path is None and "several notebooks" in dave.problem and LAB in dave.problem


def test_the_same_student_id_twice_gets_a_suffix(tmp_path):
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        write(tmp_path / folder, "alice", submission())
    found = find_submissions([tmp_path / "x" / "alice.ipynb", tmp_path / "y" / "alice.ipynb"], LAB)
    assert [s.student for s in found] == ["alice", "alice-2"]


def test_a_missing_path_is_a_one_line_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        find_submissions([tmp_path / "nobody.ipynb"], LAB)


@pytest.mark.parametrize("text, message", [
    (b"\xff\xfe", "not UTF-8"),
    (b'{"cells": [', "invalid JSON (line 1"),
    (b"[1, 2]", "the JSON has no cells"),
    (json.dumps({"nbformat": 5, "cells": []}).encode(), "nbformat 5 cannot be read"),
    (json.dumps({"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [{"cell_type": "code"}]}).encode(),
     "damaged notebook"),
])
def test_unreadable_files_raise_a_one_line_reason(tmp_path, text, message):
    path = tmp_path / "bad.ipynb"
    path.write_bytes(text)
    with pytest.raises(ValueError, match=re.escape(message)) as error:
        read_submission(path)
    assert "\n" not in str(error.value)


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    import gan_lab.notebook_io

    path = write(tmp_path, "big", submission())
    monkeypatch.setattr(gan_lab.notebook_io, "MAX_NOTEBOOK_BYTES", 1000)
    with pytest.raises(ValueError, match="over the 0 MB a submission may have"):
        read_submission(path)


def test_an_nbformat_3_notebook_is_read_by_conversion(tmp_path):
    path = tmp_path / "old.ipynb"
    path.write_text(nbformat.writes(nbformat.convert(submission(), 3)))
    assert [c.source for c in read_submission(path).cells if c.cell_type == "code"][:2] == \
        [c.source for c in submission().cells if c.cell_type == "code"][:2]


def test_defined_names_reads_functions_and_classes_even_from_broken_code():
    assert defined_names("x = 1\ndef f():\n    pass\nclass G:\n    pass\n") == {"f", "G"}
    assert defined_names("def f(:\n    pass\nasync def g():\n    pass") == {"f", "g"}


def test_answers_are_matched_by_grade_id_first():
    student = submission(change={"sample_noise": lambda s: s + "\n# mine"})
    answers = match_answers(reference(), student)
    assert answers.sources["sample_noise"].endswith("# mine") and answers.notes == []


def test_answers_without_metadata_are_matched_by_the_function_they_define():
    student = submission(change={"build_generator": lambda s: s + "\n# last"})
    student.cells.insert(3, nbformat.v4.new_code_cell("def build_generator(latent_dim=100):\n    return None"))
    for cell in student.cells:
        cell.metadata.pop("nbgrader", None)
    answers = match_answers(reference(), student)
    assert answers.sources["build_generator"].endswith("# last")  # the last definition is the one that runs
    assert "answer build_generator found by the function it defines" in answers.notes


def test_answers_fall_back_to_position_when_the_layout_is_the_lab_s():
    student = submission(change={"sample_noise": lambda s: "noise = 3"})
    for cell in student.cells:
        cell.metadata.pop("nbgrader", None)
    answers = match_answers(reference(), student)
    assert answers.sources["sample_noise"] == "noise = 3"
    assert "answer sample_noise found by its position" in answers.notes


def test_a_missing_answer_gets_the_blank_placeholder_and_a_note():
    answers = match_answers(reference(), without_cells(submission(), {"build_generator"}))
    assert "raise NotImplementedError()" in answers.sources["build_generator"]
    assert answers.notes == ["no answer cell for build_generator"]


def test_a_syntax_error_in_an_answer_is_noted_with_its_line():
    student = submission(change={"sample_noise": lambda s: s + "\nreturn ("})
    notes = match_answers(reference(), student).notes
    assert len(notes) == 1 and notes[0].startswith("answer sample_noise has a syntax error (line")


def test_edited_and_deleted_check_cells_are_noted():
    student = without_cells(submission(change={"check_sample_noise": lambda s: "pass"}), {"check_build_generator"})
    assert check_cell_changes(reference(), student) == [
        "check cell check_sample_noise was edited; the official one was graded",
        "check cell check_build_generator was deleted or lost its metadata; the official one was graded",
    ]


def test_untouched_check_cells_are_not_noted():
    lab = submission()
    assert check_cell_changes(reference(), lab) == []
    assert all("HIDDEN" not in student_source(c) for c in reference().cells)


def test_a_notebook_that_is_a_symbolic_link_is_refused_with_a_note(tmp_path):
    (tmp_path / "class").mkdir()
    write(tmp_path / "class", "alice", submission())
    (tmp_path / "class" / "mallory.ipynb").symlink_to(SOLUTION)
    found = {s.student: s for s in find_submissions([tmp_path / "class"], LAB)}
    mallory = found["mallory"]
    assert (mallory.path, mallory.status) == (None, "unreadable")
    assert "mallory.ipynb is a symbolic link; the grader does not follow links" in mallory.problem
    [direct] = find_submissions([tmp_path / "class" / "mallory.ipynb"], LAB)
    assert direct.path is None and direct.status == "unreadable"


def test_a_student_folder_holding_a_link_to_the_solution_is_refused(tmp_path):
    (tmp_path / "trudy").mkdir()
    (tmp_path / "trudy" / LAB).symlink_to(SOLUTION)
    [trudy] = find_submissions([tmp_path / "trudy"], LAB)
    assert trudy.path is None and trudy.status == "unreadable" and f"trudy/{LAB} is a symbolic link" in trudy.problem


def test_linked_folders_are_not_entered(tmp_path):
    (tmp_path / "victor").mkdir()
    (tmp_path / "victor" / "work").symlink_to(SOLUTION.parent, target_is_directory=True)
    [victor] = find_submissions([tmp_path / "victor"], LAB)
    assert victor.path is None and victor.status == "no_notebook"
    assert "links not followed: work" in victor.problem


def test_an_empty_student_folder_in_a_class_is_a_no_notebook_row(tmp_path):
    write(tmp_path, "alice", submission())
    write(tmp_path, "bob", submission())
    (tmp_path / "zoe").mkdir()
    found = find_submissions([tmp_path], LAB)
    assert [(s.student, s.status, s.path is None) for s in found][-1] == ("zoe", "no_notebook", True)
    assert "no notebook found in" in found[-1].problem


def test_reading_refuses_links_and_special_files_without_blocking(tmp_path):
    link = tmp_path / "link.ipynb"
    link.symlink_to(SOLUTION)
    with pytest.raises(NotebookError, match="is a symbolic link"):
        read_submission(link)
    fifo = tmp_path / "pipe.ipynb"
    os.mkfifo(fifo)
    with pytest.raises(NotebookError, match="not a regular file"):
        read_submission(fifo)  # opened non-blocking: a FIFO with no writer must not hang the grader


MAILED = "第1次实验-2023001234-张三"  # the course's name for Lab 01 handed in by student 2023001234


def test_a_mailed_notebook_is_the_student_whose_number_it_carries(tmp_path):
    path = write(tmp_path, MAILED, submission())
    [found] = find_submissions([path], LAB)
    assert (found.student, found.name, found.path, found.problem) == ("2023001234", "张三", path, "")


def test_a_flat_folder_of_mailed_notebooks_is_a_class_of_student_numbers(tmp_path):
    write(tmp_path, MAILED, submission())
    write(tmp_path, "第1次实验-2023005678-李四", submission())
    found = find_submissions([tmp_path], LAB)
    assert [(s.student, s.name, s.path.name) for s in found] == [
        ("2023001234", "张三", f"{MAILED}.ipynb"), ("2023005678", "李四", "第1次实验-2023005678-李四.ipynb")]


def test_a_folder_holding_one_mailed_notebook_is_a_class_not_a_student_named_after_the_folder(tmp_path):
    (tmp_path / "lab01-mail").mkdir()
    write(tmp_path / "lab01-mail", MAILED, submission())
    [found] = find_submissions([tmp_path / "lab01-mail"], LAB)
    assert found.student == "2023001234"


@pytest.mark.parametrize("stem", [
    "第1次实验_2023001234_张三", "第1次实验－2023001234－张三", "第1次实验 - 2023001234 - 张三", "第1次实验——2023001234——张三",
    "第１次实验-２０２３００１２３４-张三", "第一次实验-2023001234-张三", "第1次实验 2023001234 张三", "第 1 次实验-2023001234-张三 ",
])
def test_the_separators_and_digits_a_student_plausibly_types_are_read(tmp_path, stem):
    [found] = find_submissions([write(tmp_path, stem, submission())], LAB)
    assert (found.student, found.name) == ("2023001234", "张三")


def test_a_latin_name_with_spaces_is_kept_whole(tmp_path):
    [found] = find_submissions([write(tmp_path, "第1次实验-2023001234-Zhang San", submission())], LAB)
    assert (found.student, found.name) == ("2023001234", "Zhang San")


def test_a_mailed_notebook_of_another_lab_is_a_wrong_lab_row_saying_why(tmp_path):
    write(tmp_path, MAILED, submission())
    write(tmp_path, "第2次实验-2023005678-李四", submission("lab02_discriminator"))
    li = find_submissions([tmp_path], LAB)[1]
    assert (li.student, li.path, li.status) == ("2023005678", None, "wrong_lab")
    assert li.problem == ("第2次实验-2023005678-李四.ipynb is named for lab 2, not lab 1: grade it with --lab lab02, "
                          "or rename it if it is lab 1")


def test_another_lab_s_notebook_beside_this_lab_s_adds_no_second_row(tmp_path):
    write(tmp_path, MAILED, submission())
    write(tmp_path, "第2次实验-2023001234-张三", submission("lab02_discriminator"))
    assert [(s.student, s.path.name) for s in find_submissions([tmp_path], LAB)] == [("2023001234", f"{MAILED}.ipynb")]


def test_several_other_labs_notebooks_of_one_student_are_one_row_naming_each(tmp_path):
    for lab in (2, 3):
        write(tmp_path, f"第{lab}次实验-2023005678-李四", submission())
    [li] = find_submissions([tmp_path], LAB)
    assert (li.student, li.status) == ("2023005678", "wrong_lab")
    assert "第2次实验-2023005678-李四.ipynb is named for lab 2" in li.problem
    assert "; 第3次实验-2023005678-李四.ipynb is named for lab 3" in li.problem


def test_two_mailed_notebooks_of_the_lab_with_one_student_number_are_a_one_line_error_naming_both(tmp_path):
    first = write(tmp_path, MAILED, submission())
    second = write(tmp_path, "第1次实验_2023001234_张三 改", submission())
    with pytest.raises(NotebookError) as error:
        find_submissions([tmp_path], LAB)
    assert str(error.value) == (f"{first} and {second} both carry student number 2023001234 for this lab: keep the "
                                "one to grade, move the other out of the submissions and grade again")


@pytest.mark.parametrize("stem", ["第1次实验-张三-2023001234", "第1次实验-=cmd-张三", "第1次实验-2023001234",
                                  "lab01 张三 2023001234", "第1次实验-2023001234-张三\x1b[2J"])
def test_names_not_following_the_pattern_keep_the_file_name_as_the_id(tmp_path, stem):
    write(tmp_path, "bob", submission())
    path = write(tmp_path, stem, submission())
    found = find_submissions([tmp_path], LAB)
    assert [s.student for s in found if s.path == path] == [stem]


def test_a_name_that_could_inject_a_path_is_not_read_as_a_name(tmp_path):
    path = write(tmp_path, "第1次实验-2023001234-..\\..\\etc", submission())
    [found] = find_submissions([path], LAB)
    assert found.student == path.stem and found.name == ""
    assert "/" not in feedback_name(found.student) and "\\" not in feedback_name(found.student)


@pytest.mark.parametrize("stem, student", [(MAILED, "2023001234"), ("第1次实验-SA23001234-买买提·艾力", "SA23001234")])
def test_a_student_number_is_a_safe_feedback_file_name_and_csv_cell(tmp_path, stem, student):
    [found] = find_submissions([write(tmp_path, stem, submission())], LAB)
    assert found.student == student
    assert feedback_name(found.student) == f"{student}.md" and spreadsheet_safe(found.student) == student


def test_a_student_folder_holding_mailed_notebooks_of_several_labs_gives_this_lab_s(tmp_path):
    (tmp_path / "zhang" / "mail").mkdir(parents=True)
    path = write(tmp_path / "zhang" / "mail", MAILED, submission())
    write(tmp_path / "zhang" / "mail", "第2次实验-2023001234-张三", submission("lab02_discriminator"))
    [found] = find_submissions([tmp_path / "zhang"], LAB)
    assert (found.student, found.path) == ("zhang", path)


def test_a_mailed_notebook_that_is_a_link_is_refused_under_the_student_number(tmp_path):
    write(tmp_path, "第1次实验-2023005678-李四", submission())
    (tmp_path / f"{MAILED}.ipynb").symlink_to(SOLUTION)
    found = {s.student: s for s in find_submissions([tmp_path], LAB)}
    assert (found["2023001234"].path, found["2023001234"].status) == (None, "unreadable")
