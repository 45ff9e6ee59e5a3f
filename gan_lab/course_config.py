"""Where an instructor's course lives: the solutions folder, from a flag, the environment or gan-lab.toml.

Instructor commands (make-labs, release, validate, train, grade, collect) look for the solution
notebooks in this order:

1. the command's `--solutions DIR`;
2. the environment variable `GAN_LAB_SOLUTIONS`;
3. `solutions = "DIR"` in a `gan-lab.toml` in the current folder or any folder above it
   (a relative DIR is relative to that file);
4. `./solutions`, then the kit checkout's own `solutions/` (an editable install).

Students never need any of this: nothing they run reads the solutions.
"""

import os
from pathlib import Path

ENVIRONMENT = "GAN_LAB_SOLUTIONS"
CONFIG_FILE = "gan-lab.toml"
KIT_SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"
HOW_TO_SET = (f"pass --solutions DIR, set {ENVIRONMENT}=DIR, or write solutions = \"DIR\" in a {CONFIG_FILE} "
              "in the course folder")


class CourseConfigError(ValueError):
    """The solutions folder cannot be found or the course file cannot be read; the message is one line."""


def _read_toml(path):
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as file:
            return tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise CourseConfigError(f"cannot read {path} ({error}): fix it or {HOW_TO_SET}") from None


def course_file(start=None):
    """The nearest gan-lab.toml in `start` (default: the current folder) or above it, or None."""
    folder = Path(start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / CONFIG_FILE).is_file():
            return candidate / CONFIG_FILE
    return None


def _configured(explicit):
    """(folder, where it was set) from the flag, the environment or the course file, or (None, None)."""
    if explicit:
        return Path(explicit), "--solutions"
    if os.environ.get(ENVIRONMENT):
        return Path(os.environ[ENVIRONMENT]), ENVIRONMENT
    path = course_file()
    if path is not None:
        value = _read_toml(path).get("solutions")
        if not isinstance(value, str) or not value:
            raise CourseConfigError(f"{path} has no solutions = \"DIR\" line: add one or {HOW_TO_SET}")
        return path.parent / value, str(path)
    return None, None


def find_solutions(explicit=None):
    """Return the solutions folder (see the module docstring for the order), or fail in one line."""
    folder, source = _configured(explicit)
    if folder is not None:
        if not folder.is_dir():
            raise CourseConfigError(f"no solutions folder at {folder} (set by {source}): fix the path")
        return folder
    for folder in (Path("solutions"), KIT_SOLUTIONS):
        if folder.is_dir():
            return folder
    raise CourseConfigError(f"no solutions folder found: {HOW_TO_SET}")
