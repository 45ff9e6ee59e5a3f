"""Sync labs/ with solutions/: write the student labs, back up student work, list stale labs.

solutions/ is only read. A lab that holds student work is copied to .backup/ in the labs
folder before it is overwritten, and each lab is written atomically.
"""

import json
from pathlib import Path

from gan_lab.notebook_io import notebook_text, read_notebook, stamped_path, write_atomically
from gan_lab.authoring.student_version import LabToolError, cells_digest, student_version


def has_student_work(lab_text):
    """True when lab file text has outputs, execution counts, or cells changed since generation."""
    try:
        lab = json.loads(lab_text)
        ran = any(
            cell.get("outputs") or cell.get("execution_count") is not None for cell in lab["cells"]
        )
        recorded = lab["metadata"].get("gan_lab", {}).get("cells_sha256")
        return ran or recorded != cells_digest(lab["cells"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return True  # unreadable, so nobody can tell: keep a copy rather than guess


def _backup(lab_path):
    backups = lab_path.parent / ".backup"
    backups.mkdir(exist_ok=True)
    target = stamped_path(backups, f"{lab_path.stem}-", ".ipynb")
    target.write_bytes(lab_path.read_bytes())
    return target


def _notebooks_in(folder):
    paths = Path(folder).glob("*.ipynb")  # top level only, so .ipynb_checkpoints/ is skipped
    return sorted(path for path in paths if path.is_file() and not path.name.startswith("."))


def generated_labs(solutions_dir, labs_dir):
    """Return [(source name, lab path, student notebook)], one per solution notebook, in order."""
    solutions_dir, labs_dir = Path(solutions_dir), Path(labs_dir)
    if not solutions_dir.is_dir():
        raise LabToolError(f"{solutions_dir}: no such folder; pass the solution notebooks' folder.")
    solutions, labs = solutions_dir.resolve(), labs_dir.resolve()
    if labs == solutions or solutions in labs.parents:
        raise LabToolError(f"{labs_dir}: is inside {solutions_dir}; pick a labs folder outside it.")
    planned = []
    for path in _notebooks_in(solutions_dir):
        # Folder and file name only, so the notice does not depend on where the command ran.
        source_name = f"{solutions.name}/{path.name}"
        lab = student_version(read_notebook(path), source_name)
        planned.append((source_name, labs_dir / path.name, lab))
    return planned


def make_labs(solutions_dir, labs_dir):
    """Write labs_dir/<name>.ipynb for each solutions_dir/<name>.ipynb; return [(path, action)]."""
    planned = generated_labs(solutions_dir, labs_dir)  # every notebook is checked before any write
    Path(labs_dir).mkdir(parents=True, exist_ok=True)
    report = []
    for _, lab_path, lab in planned:
        text = notebook_text(lab)
        old = lab_path.read_text(encoding="utf-8", errors="replace") if lab_path.exists() else None
        if old == text:
            report.append((lab_path, "unchanged"))
            continue
        action = "written"
        if old is not None and has_student_work(old):
            action = f"written (previous version with student work saved to {_backup(lab_path)})"
        write_atomically(lab_path, text)
        report.append((lab_path, action))
    return report


def stale_labs(solutions_dir, labs_dir):
    """Return [(lab path, reason)] for labs that are missing, out of date or without a solution."""
    planned = generated_labs(solutions_dir, labs_dir)
    stale = []
    for source_name, lab_path, lab in planned:
        if not lab_path.exists():
            stale.append((lab_path, f"missing; {source_name} generates it"))
        elif lab_path.read_text(encoding="utf-8", errors="replace") != notebook_text(lab):
            stale.append((lab_path, f"differs from what {source_name} generates"))
    generated_names = {lab_path.name for _, lab_path, _ in planned}
    for extra in _notebooks_in(labs_dir) if Path(labs_dir).is_dir() else []:
        if extra.name not in generated_names:
            stale.append((extra, f"extra: no {extra.name} in {solutions_dir} generates it"))
    return stale
