"""Make a student's home private and add the hand-out files it does not have yet.

    python -I handout_sync.py HANDOUT HOME

JupyterHub's spawn hook (jupyterhub_config.py) runs this before every start of a student's server,
as that student and never as root, so it cannot write anything the student could not. It sets the
home's mode to 700, then copies HANDOUT into HOME/gan-lab, adding only what is missing: a file that
exists is never opened for writing, whatever it holds, so the student's work stays as it is, and a
lab or closed module released later arrives on the next start. It follows no link either: each
folder is opened relative to its parent with O_NOFOLLOW, and a link (or a file) where a folder
should be is skipped and reported. A new file appears complete or not at all (written under a
temporary name, then linked in place without replacing anything). Links and special files in the
hand-out itself are not copied, nor are hidden entries (.ipynb_checkpoints, and .previous/ where
`gan-lab release` keeps the older versions of files it replaced). Standard library only: the hook passes this
file's text to the shared venv's Python.
"""

import errno
import os
import sys

FOLDER = "gan-lab"
OPEN_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
CREATE_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
PARTIAL = ".{}.gan-lab-partial"


def open_home(home):
    """Open the home folder (not through a link), check it is the caller's and set its mode to 700."""
    descriptor = os.open(home, OPEN_FOLDER)
    if os.fstat(descriptor).st_uid != os.getuid():
        raise SystemExit(f"{home} does not belong to uid {os.getuid()}: fix the home folder's owner")
    os.fchmod(descriptor, 0o700)
    return descriptor


def open_subfolder(parent, name):
    """Create folder `name` in the open folder `parent` if missing; return (descriptor, created)."""
    created = True
    try:
        os.mkdir(name, 0o755, dir_fd=parent)
    except FileExistsError:
        created = False
    return os.open(name, OPEN_FOLDER, dir_fd=parent), created


def add_file(source, parent, name):
    """Copy file `source` to `name` in the open folder `parent` unless `name` exists; True if added."""
    try:
        os.stat(name, dir_fd=parent, follow_symlinks=False)
        return False
    except FileNotFoundError:
        pass
    partial = PARTIAL.format(name)
    try:
        os.unlink(partial, dir_fd=parent)  # left by an interrupted earlier run
    except FileNotFoundError:
        pass
    target = os.open(partial, CREATE_FILE, 0o644, dir_fd=parent)
    try:
        with open(source, "rb") as reader, open(target, "wb", closefd=False) as writer:
            while chunk := reader.read(1 << 20):
                writer.write(chunk)
        os.link(partial, name, src_dir_fd=parent, dst_dir_fd=parent, follow_symlinks=False)
        return True
    except FileExistsError:  # the student made it meanwhile: theirs stays
        return False
    finally:
        os.close(target)
        os.unlink(partial, dir_fd=parent)


def skipped(name):
    """True for what is never handed out: hidden entries (among them the copies in .previous/)."""
    return name.startswith(".")


def add_missing(source, target, where, report):
    """Add to the open folder `target` what folder `source` has and it lacks, recursively."""
    with os.scandir(source) as scan:
        entries = sorted(scan, key=lambda entry: entry.name)
    for entry in entries:
        if skipped(entry.name):
            continue
        path = f"{where}/{entry.name}"
        try:
            if entry.is_dir(follow_symlinks=False):
                add_folder(entry.path, target, entry.name, path, report)
            elif entry.is_file(follow_symlinks=False) and add_file(entry.path, target, entry.name):
                report.append(f"added {path}")
        except OSError as error:
            report.append(f"skipped {path}: {error.strerror or error}")


def add_folder(source, parent, name, where, report):
    """Open (or create) folder `name` in `parent`, refusing links, and fill it from `source`."""
    try:
        folder, created = open_subfolder(parent, name)
    except OSError as error:
        if error.errno not in (errno.ELOOP, errno.ENOTDIR):  # ELOOP: a link, ENOTDIR: a file
            raise
        report.append(f"skipped {where}/: not a folder (a link or a file); nothing was added there")
        return
    try:
        if created:
            report.append(f"added {where}/")
        add_missing(source, folder, where, report)
    finally:
        os.close(folder)


def sync(handout, home):
    """Make `home` private and add the hand-out's missing files to home/gan-lab; return the report lines."""
    if not os.path.isdir(handout):
        raise SystemExit(f"no hand-out folder at {handout} (or it is not readable by this user)")
    home_folder = open_home(home)
    report = []
    try:
        add_folder(handout, home_folder, FOLDER, f"~/{FOLDER}", report)
    finally:
        os.close(home_folder)
    return report


def main(argv):
    """Command line: HANDOUT HOME; prints one line per file added or skipped."""
    if len(argv) != 2:
        raise SystemExit("usage: python -I handout_sync.py HANDOUT HOME")
    for line in sync(*argv):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
