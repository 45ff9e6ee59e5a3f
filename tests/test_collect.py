"""Tests for gan_lab.grading.collect: `gan-lab collect` copies students' notebooks out of their homes."""

import csv
import os
import signal
import stat
from datetime import datetime

import nbformat
import pytest

from gan_lab.cli import main
from gan_lab.grading import collect
from gan_lab.grading.collect import CollectError, collect_lab, parse_due
from gan_lab.grading.grade import grade_lab
from grading_helpers import SOLUTIONS, submission

LAB = "lab01_generator.ipynb"
ON_TIME = datetime(2026, 12, 1, 12, 0).timestamp()
LATE = datetime(2026, 12, 2, 0, 30).timestamp()


def home(homes, student, content=b'{"cells": []}', when=ON_TIME):
    """A fake home holding the student's Lab01 notebook; returns the notebook's path."""
    labs = homes / student / "gan-lab" / "labs"
    labs.mkdir(parents=True)
    path = labs / LAB
    path.write_bytes(content)
    os.utime(path, (when, when))
    return path


def run(homes, out, **options):
    return collect_lab([homes], "lab01", out=out, solutions=SOLUTIONS, **options)


def record(out):
    with open(out / "collected.csv", newline="", encoding="utf-8") as file:
        return {row["student"]: row for row in csv.DictReader(file)}


@pytest.fixture
def homes(tmp_path):
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


def test_copies_are_read_only_with_the_students_bytes_and_mtime(homes, tmp_path):
    original = home(homes, "alice", b'{"cells": ["alice"]}')
    rows = run(homes, tmp_path / "out")
    copy = tmp_path / "out" / "alice" / LAB
    assert [(row.student, row.status, row.file) for row in rows] == [("alice", "collected", f"alice/{LAB}")]
    assert copy.read_bytes() == original.read_bytes()
    assert stat.S_IMODE(copy.stat().st_mode) == 0o444
    assert copy.stat().st_mtime == original.stat().st_mtime == ON_TIME
    assert record(tmp_path / "out")["alice"]["modified"] == datetime.fromtimestamp(ON_TIME).astimezone().isoformat()


def test_the_students_file_is_left_unchanged(homes, tmp_path):
    original = home(homes, "alice", b'{"cells": ["mine"]}')
    os.chmod(original, 0o600)
    before = original.stat()
    run(homes, tmp_path / "out")
    after = original.stat()
    assert original.read_bytes() == b'{"cells": ["mine"]}'
    assert (after.st_mtime_ns, after.st_mode, after.st_ino) == (before.st_mtime_ns, before.st_mode, before.st_ino)


def test_late_is_marked_against_due_and_the_late_notebook_is_still_collected(homes, tmp_path):
    home(homes, "alice", when=ON_TIME)
    home(homes, "bob", when=LATE)
    run(homes, tmp_path / "out", due="2026-12-01")
    rows = record(tmp_path / "out")
    assert rows["alice"]["status"] == "collected"
    assert rows["bob"]["status"] == "late" and "due" in rows["bob"]["note"]
    assert (tmp_path / "out" / "bob" / LAB).is_file()


@pytest.mark.parametrize("text, late_at_noon", [("2026-12-01", False), ("2026-12-01T11:59", True),
                                                ("2026-12-01T12:00:00", False),
                                                ("2026-12-01T00:00+14:00", True), ("2026-12-01T23:59-12:00", False)])
def test_due_is_a_date_meaning_its_end_or_a_date_time_local_unless_offset(text, late_at_noon):
    noon = datetime.fromtimestamp(ON_TIME).astimezone()
    assert (noon > parse_due(text)) == late_at_noon


def test_missing_students_are_listed_and_get_an_empty_folder(homes, tmp_path, capsys):
    home(homes, "alice")
    (homes / "bob").mkdir()
    (homes / "carol" / "gan-lab" / "labs").mkdir(parents=True)
    run(homes, tmp_path / "out")
    rows = record(tmp_path / "out")
    assert (rows["bob"]["status"], rows["bob"]["note"]) == ("missing", "no ~/gan-lab")
    assert (rows["carol"]["status"], rows["carol"]["file"]) == ("missing", "")
    assert list((tmp_path / "out" / "bob").iterdir()) == []
    assert f"collected 1 of 3 students into {tmp_path / 'out'}/ (2 missing)" in capsys.readouterr().out


def test_a_symlinked_notebook_is_not_followed_and_is_reported(homes, tmp_path):
    secret = tmp_path / "shadow"
    secret.write_text("root:secret")
    labs = home(homes, "alice").parent
    (labs / LAB).unlink()
    (labs / LAB).symlink_to(secret)
    run(homes, tmp_path / "out")
    row = record(tmp_path / "out")["alice"]
    assert row["status"] == "link" and "symbolic link" in row["note"] and row["file"] == ""
    assert list((tmp_path / "out" / "alice").iterdir()) == []


def test_a_symlinked_gan_lab_folder_or_home_is_not_followed(homes, tmp_path):
    home(homes, "alice", b'{"cells": ["alice"]}')
    (homes / "mallory").mkdir()
    (homes / "mallory" / "gan-lab").symlink_to(homes / "alice" / "gan-lab")
    (homes / "trudy").symlink_to(homes / "alice")
    run(homes, tmp_path / "out")
    rows = record(tmp_path / "out")
    assert rows["mallory"]["status"] == rows["trudy"]["status"] == "link"
    assert "~/gan-lab is a symbolic link" in rows["mallory"]["note"]
    assert not (tmp_path / "out" / "mallory" / LAB).exists() and not (tmp_path / "out" / "trudy" / LAB).exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="making a file of another owner needs root")
def test_a_hard_link_to_another_users_file_is_not_copied(homes, tmp_path):
    secret = tmp_path / "shadow"
    secret.write_text("root:secret")
    labs = home(homes, "alice").parent
    (labs / LAB).unlink()
    os.link(secret, labs / LAB)
    os.chown(homes / "alice", 12345, 12345)
    run(homes, tmp_path / "out")
    assert record(tmp_path / "out")["alice"]["status"] == "link"
    assert not (tmp_path / "out" / "alice" / LAB).exists()


def test_a_fifo_does_not_hang_collect_and_is_unreadable(homes, tmp_path):
    labs = home(homes, "alice").parent
    (labs / LAB).unlink()
    os.mkfifo(labs / LAB)

    def hung(*_):
        raise TimeoutError("collect blocked on a FIFO")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        run(homes, tmp_path / "out")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    row = record(tmp_path / "out")["alice"]
    assert (row["status"], row["note"]) == ("unreadable", f"~/gan-lab/labs/{LAB} is not a regular file")


def test_an_oversized_notebook_is_too_large_and_not_copied(homes, tmp_path, monkeypatch):
    monkeypatch.setattr(collect, "MAX_BYTES", 10)
    home(homes, "alice", b"x" * 11)
    home(homes, "bob", b"x" * 10)
    run(homes, tmp_path / "out")
    rows = record(tmp_path / "out")
    assert rows["alice"]["status"] == "too_large" and rows["bob"]["status"] == "collected"
    assert not (tmp_path / "out" / "alice" / LAB).exists()


def test_odd_names_and_files_in_homes_are_not_collected(homes, tmp_path, capsys):
    home(homes, "alice")
    home(homes, "-rf")
    (homes / "README").write_text("not a home")
    (homes / "lost+found").mkdir()
    run(homes, tmp_path / "out")
    rows = record(tmp_path / "out")
    assert sorted(rows) == ["'-rf", "alice"] and rows["'-rf"]["status"] == "unreadable"
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["alice", "collected.csv"]
    assert "skipped" in capsys.readouterr().out


def test_several_homes_folders_and_another_path_are_collected(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    for folder in (first, second):
        folder.mkdir()
        (folder / "alice" / "course").mkdir(parents=True)
        (folder / "alice" / "course" / LAB).write_text(folder.name)
    collect_lab([first, second], "lab01", out=tmp_path / "out", solutions=SOLUTIONS, path="course")
    assert (tmp_path / "out" / "alice" / LAB).read_text() == "a"
    assert (tmp_path / "out" / "alice-2" / LAB).read_text() == "b"
    assert str(second / "alice") in record(tmp_path / "out")["alice-2"]["note"]


def test_a_second_collect_keeps_the_first_collection_aside(homes, tmp_path, capsys):
    original = home(homes, "alice", b"first")
    out = tmp_path / "out"
    run(homes, out)
    os.chmod(original, 0o644)
    original.write_bytes(b"second")
    run(homes, out)
    kept = [path for path in tmp_path.iterdir() if path.name.startswith("out.previous-")]
    assert len(kept) == 1 and (kept[0] / "alice" / LAB).read_bytes() == b"first"
    assert (kept[0] / "collected.csv").is_file()
    assert (out / "alice" / LAB).read_bytes() == b"second"
    assert f"kept the earlier collection as {kept[0]}" in capsys.readouterr().out


def test_an_out_holding_other_files_is_refused_and_left_alone(homes, tmp_path):
    home(homes, "alice")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    with pytest.raises(CollectError, match="no earlier collection"):
        run(homes, tmp_path / "out")
    assert [path.name for path in (tmp_path / "out").iterdir()] == ["notes.txt"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["home", "out"]


def test_an_interrupted_collect_leaves_no_half_collection(homes, tmp_path, monkeypatch):
    home(homes, "alice")

    def interrupted(*_):
        raise KeyboardInterrupt

    monkeypatch.setattr(collect, "_write_copy", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(homes, tmp_path / "out")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["home"]


def test_the_collected_folder_grades_with_gan_lab_grade(homes, tmp_path):
    home(homes, "alice", nbformat.writes(submission()).encode())
    (homes / "bob").mkdir()
    run(homes, tmp_path / "out")
    results = grade_lab([tmp_path / "out"], "lab01", out=tmp_path / "grades", solutions=SOLUTIONS)
    by_student = {result.student: result for result in results}
    assert sorted(by_student) == ["alice", "bob"]
    assert by_student["alice"].status == "graded" and by_student["alice"].total() == 2
    assert by_student["bob"].status == "no_notebook"


@pytest.mark.parametrize("arguments, message", [
    (["{tmp}/nowhere"], "no folder at"),
    (["{tmp}/home", "--lab", "lab99"], "--lab lab99 matches none"),
    (["{tmp}/home", "--out", "{tmp}/file.txt/out"], "cannot write to"),
    (["{tmp}/home", "--out", "{tmp}/home/alice/out"], "overlap"),
    (["{tmp}/home", "--due", "1 December"], "--due '1 December' is not an ISO date"),
    (["{tmp}/home", "--path", "../etc"], "--path '../etc' must be a plain relative folder"),
])
def test_bad_input_is_a_one_line_cli_error(homes, tmp_path, arguments, message):
    home(homes, "alice")
    (tmp_path / "file.txt").write_text("")
    defaults = ["--lab", "lab01", "--out", str(tmp_path / "out"), "--solutions", str(SOLUTIONS)]
    with pytest.raises(SystemExit) as stop:  # argparse keeps the last of a repeated option
        main(["collect", *defaults, *[argument.format(tmp=tmp_path) for argument in arguments]])
    text = str(stop.value)
    assert text.startswith("gan-lab collect: ") and message in text and "\n" not in text
    assert not (tmp_path / "out").exists()
