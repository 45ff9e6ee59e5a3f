"""Test-suite settings shared by the unit tests and the notebook (nbval) tests."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
STUDENT_FOLDERS = ("labs", "solutions", "notebooks")
_BEFORE = pytest.StashKey()  # the students' files when the session started

# Anything that trains shrinks its work under the test suite, notebook kernels included.
os.environ.setdefault("GAN_LAB_FAST", "1")

collect_ignore_glob = ["**/.ipynb_checkpoints/*", "labs/*"]

# A notebook writes its runs/ beside itself, and nbval starts each kernel in the notebook's folder.
# Under the tests, a kernel that starts inside the kit moves into a scratch folder of its own
# holding a link to every entry of that folder (so earlier labs are still found) except runs/:
# what the notebook writes lands in the scratch folder, never among the students' files.
KERNEL_SCRATCH = Path(tempfile.mkdtemp(prefix="gan-lab-test-kernels-"))
_STARTUP = '''\
def _gan_lab_tests_scratch(root, scratch):
    import os
    import tempfile

    start = os.path.realpath(os.getcwd())
    if os.path.commonpath([start, root]) != root:
        return
    mirror = tempfile.mkdtemp(prefix=os.path.basename(start) + "-", dir=scratch)
    for name in os.listdir(start):
        if name != "runs":
            os.symlink(os.path.join(start, name), os.path.join(mirror, name))
    os.chdir(mirror)


_gan_lab_tests_scratch({root!r}, {scratch!r})
del _gan_lab_tests_scratch
'''
_startup_folder = KERNEL_SCRATCH / "ipython" / "profile_default" / "startup"
_startup_folder.mkdir(parents=True)
(_startup_folder / "00-gan-lab-tests.py").write_text(
    _STARTUP.format(root=str(ROOT), scratch=str(KERNEL_SCRATCH)))
os.environ["IPYTHONDIR"] = str(KERNEL_SCRATCH / "ipython")  # kernels inherit it; sandboxed ones do not


def _student_files():
    return {path for folder in STUDENT_FOLDERS for path in (ROOT / folder).rglob("*")}


def pytest_sessionstart(session):
    """Note every file in labs/, solutions/ and notebooks/ before the tests run."""
    session.config.stash[_BEFORE] = _student_files()


def pytest_sessionfinish(session):
    """Fail the session if the tests left a new file among the students' folders."""
    before = session.config.stash.get(_BEFORE, None)
    new = sorted(_student_files() - before) if before is not None else []
    if new:
        shown = ", ".join(str(path.relative_to(ROOT)) for path in new[:5]) + (" ..." if len(new) > 5 else "")
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"the tests left {len(new)} new path(s) in labs/, solutions/ or notebooks/: "
                                f"{shown}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config):
    """Remove the kernels' scratch folders."""
    shutil.rmtree(KERNEL_SCRATCH, ignore_errors=True)

