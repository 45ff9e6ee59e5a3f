"""`gan-lab collect`: copy each student's notebook of a lab from their home into a class folder to grade.

Root runs it on the lab server, where students control everything in their homes. So nothing below
a home is reached through a symbolic link (each folder is opened relative to the one before it,
with O_NOFOLLOW), only a regular file of at most MAX_BYTES is read, once, and the copy is written
from those very bytes. Students' files are only read. The collection is built in a hidden folder
beside OUT and renamed to OUT at the end, so OUT holds a whole collection or none; an earlier
collection in OUT is first renamed aside to OUT.previous-<time>.
"""

import csv
import errno
import os
import re
import secrets
import shutil
import stat
import sys
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from gan_lab.course_config import CourseConfigError, find_solutions
from gan_lab.grading.grade import GradingError, find_lab
from gan_lab.grading.gradebook import printable, spreadsheet_safe
from gan_lab.notebook_io import keep_previous

LAB_FOLDER = "gan-lab/labs"
MAX_BYTES = 50_000_000
RECORD = "collected.csv"
STATUSES = ("collected", "missing", "late", "link", "unreadable", "too_large")
STUDENT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}")  # a Unix user name; never . or ..
NOT_HOMES = {"lost+found"}
OPEN_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC  # a FIFO cannot block


class CollectError(ValueError):
    """Collecting cannot start (bad HOMES, --lab, --out, --due or --path); the message is one line."""


@dataclass
class Row:
    """One student's line of collected.csv."""

    student: str
    status: str
    note: str = ""
    file: str = ""
    modified: str = ""


class _Refused(Exception):
    def __init__(self, status, note):
        super().__init__(note)
        self.status, self.note = status, note


def parse_due(text):
    """--due as an aware datetime: an ISO date means the end of that day; no offset means local time."""
    if text is None:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), time.max).astimezone()
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise CollectError(f"--due {text!r} is not an ISO date or date-time: write e.g. 2026-12-01 or "
                           "2026-12-01T23:59 (optionally with an offset such as +01:00)") from None
    return when if when.tzinfo else when.astimezone()


def relative_parts(path):
    """The folder names of --path (relative to each home), or a CollectError."""
    parts = str(path).strip("/").split("/") if not str(path).startswith("/") else []
    if not parts or any(part in ("", ".", "..") for part in parts):
        raise CollectError(f"--path {path!r} must be a plain relative folder such as {LAB_FOLDER}")
    return parts


def _open_below(folder_fd, name, flags, shown):
    """Open `name` in the folder `folder_fd` without following a link; refusals say why in words."""
    try:
        return os.open(name, flags, dir_fd=folder_fd)
    except OSError as error:
        try:
            linked = stat.S_ISLNK(os.lstat(name, dir_fd=folder_fd).st_mode)
        except OSError:
            linked = False
        if linked:
            raise _Refused("link", f"{shown} is a symbolic link, which collect never follows") from None
        if error.errno == errno.ENOENT:
            raise _Refused("missing", f"no {shown}") from None
        if error.errno == errno.ENOTDIR:
            raise _Refused("missing", f"{shown} is not a folder") from None
        raise _Refused("unreadable", f"{shown} cannot be opened ({error.strerror})") from None


def _read_notebook(home_fd, parts, name):
    """(bytes, fstat) of home/parts/name, walked one folder at a time; raises _Refused."""
    opened, shown = [home_fd], "~"
    try:
        for part in parts:
            shown += f"/{part}"
            opened.append(_open_below(opened[-1], part, OPEN_FOLDER, shown))
        shown += f"/{name}"
        with os.fdopen(_open_below(opened[-1], name, OPEN_FILE, shown), "rb") as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise _Refused("unreadable", f"{shown} is not a regular file")
            if info.st_nlink > 1 and info.st_uid != os.fstat(home_fd).st_uid:
                raise _Refused("link", f"{shown} is a hard link to a file the student does not own")
            data = b"" if info.st_size > MAX_BYTES else file.read(MAX_BYTES + 1)
        if info.st_size > MAX_BYTES or len(data) > MAX_BYTES:
            raise _Refused("too_large", f"{shown} is over the {MAX_BYTES // 1_000_000} MB a copy may have: "
                           "the student should clear its outputs")
        return data, info
    except OSError as error:
        raise _Refused("unreadable", f"{shown} cannot be read ({error.strerror})") from None
    finally:
        for fd in opened[1:]:
            os.close(fd)


def _write_copy(folder_fd, name, data, info):
    """Write the copy from the bytes read, read-only, with the student's file's times."""
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o444,
                 dir_fd=folder_fd)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
        file.flush()
        os.fchmod(fd, 0o444)
        os.utime(fd, ns=(info.st_atime_ns, info.st_mtime_ns))


def _collect_one(homes_fd, home, student, parts, name, out_fd, due):
    """Copy one home's notebook into OUT/<student>/ and return its Row."""
    os.mkdir(student, dir_fd=out_fd)  # every student gets a folder, so the gradebook lists them all
    folder_fd = os.open(student, OPEN_FOLDER, dir_fd=out_fd)
    try:
        home_fd = _open_below(homes_fd, home, OPEN_FOLDER, f"the home {home}")
        try:
            data, info = _read_notebook(home_fd, parts, name)
        finally:
            os.close(home_fd)
        _write_copy(folder_fd, name, data, info)
    except _Refused as refused:
        return Row(student, refused.status, refused.note)
    finally:
        os.close(folder_fd)
    modified = datetime.fromtimestamp(info.st_mtime_ns / 1e9).astimezone()
    late = due is not None and modified > due
    note = f"modified after the due time {due.isoformat(timespec='seconds')}" if late else ""
    return Row(student, "late" if late else "collected", note, f"{student}/{name}",
               modified.isoformat(timespec="seconds"))


def _homes_in(homes):
    """(HOMES folder, name) of every home (links included, to be refused) and the other entries' paths."""
    found, skipped = [], []
    for folder in homes:
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as error:
            raise CollectError(f"cannot list the homes in {folder} ({error.strerror})") from None
        for entry in entries:
            if entry.name.startswith(".") or entry.name in NOT_HOMES:
                continue
            if entry.is_symlink() or entry.is_dir(follow_symlinks=False):
                found.append((folder, entry.name))
            else:
                skipped.append(entry.path)
    return found, skipped


def _check_paths(homes, out):
    """Refuse a missing HOMES, an --out inside a home (or holding one), or an --out with other files."""
    out = Path(out)
    for folder in homes:
        if not folder.is_dir():
            raise CollectError(f"no folder at {folder}: HOMES must be a folder of students' homes, e.g. /home")
        inside = (folder.resolve(), out.resolve())
        if inside[0] == inside[1] or inside[0] in inside[1].parents or inside[1] in inside[0].parents:
            raise CollectError(f"--out {out} and HOMES {folder} overlap: pick an --out outside the homes")
    if out.exists() and not out.is_dir():
        raise CollectError(f"--out {out} is a file: pick a new or empty folder")
    if out.is_dir() and not (out / RECORD).is_file() and any(out.iterdir()):
        raise CollectError(f"--out {out} holds files but no earlier collection ({RECORD}): pick a new or "
                           "empty folder (nothing in it was changed)")


def _write_record(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["student", "file", "modified", "status", "note"])
        for row in rows:
            writer.writerow([spreadsheet_safe(value) for value in
                             (row.student, row.file, row.modified, row.status, row.note)])


def _gather(found, parts, name, staging, due):
    """Collect every home into the staging folder and return the rows."""
    rows, taken = [], set()
    out_fd = os.open(staging, OPEN_FOLDER)
    try:
        for folder, home in found:
            if not STUDENT_NAME.fullmatch(home):
                rows.append(Row(home, "unreadable", f"the home {folder / home} is not named like a user: "
                                "collect it by hand"))
                continue
            student, count = home, 1
            while student in taken:  # the same user name in two HOMES: alice, alice-2
                student, count = f"{home}-{count + 1}", count + 1
            taken.add(student)
            homes_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                row = _collect_one(homes_fd, home, student, parts, name, out_fd, due)
            finally:
                os.close(homes_fd)
            if student != home:
                row.note = "; ".join(filter(None, [f"from {folder / home}", row.note]))
            rows.append(row)
    finally:
        os.close(out_fd)
    return rows


def collect_lab(homes, lab, out="submissions", due=None, solutions=None, path=LAB_FOLDER, stdout=None):
    """Copy each home's notebook of `lab` into OUT/<student>/, write OUT/collected.csv; return the Rows."""
    stdout = stdout or sys.stdout
    homes, due, parts = [Path(folder) for folder in homes], parse_due(due), relative_parts(path)
    try:
        name = find_lab(find_solutions(solutions), lab).name
    except (CourseConfigError, GradingError) as error:
        raise CollectError(str(error)) from None
    _check_paths(homes, out)
    found, skipped = _homes_in(homes)
    if not found:
        raise CollectError(f"no home folders in {', '.join(map(str, homes))}")
    final = Path(out).resolve()
    staging = final.parent / f".{final.name}.collecting-{secrets.token_hex(4)}"
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        os.mkdir(staging)
    except OSError as error:
        raise CollectError(f"cannot write to {out} ({error.strerror}): pick another --out") from None
    try:
        rows = _gather(found, parts, name, staging, due)
        _write_record(staging / RECORD, rows)
        earlier = keep_previous(final) if (final / RECORD).is_file() else None
        os.replace(staging, final)  # an empty OUT is replaced; a non-empty one was refused or kept aside
    except OSError as error:
        raise CollectError(f"cannot write the collection to {out} ({error.strerror})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for entry in skipped:
        print(f"skipped {printable(entry)}: not a folder", file=stdout)
    if earlier:
        print(f"kept the earlier collection as {earlier}", file=stdout)
    counts = {status: sum(row.status == status for row in rows) for status in STATUSES}
    shown = ", ".join(f"{count} {status.replace('_', ' ')}" for status, count in counts.items()
                      if count and status != "collected")
    print(f"collected {counts['collected'] + counts['late']} of {len(rows)} students into "
          f"{str(out).rstrip('/')}/" + (f" ({shown})" if shown else ""), file=stdout)
    return rows
