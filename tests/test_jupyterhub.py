"""The JupyterHub recipe (deploy/): its hand-out copy on its own, then a real hub with real Unix users.

The hub tests start JupyterHub with deploy/jupyterhub_config.py (a test override adds a shared-password
login, an admin service token, free ports and a non-editable copy of the kit), create two students,
and drive everything through the hub's REST API, the servers' contents API and kernel websockets.
They need root, configurable-http-proxy and a Python that other users can run; without them they
skip, or fail when GAN_LAB_REQUIRE_HUB=1 (as in CI).
"""

import csv
import importlib.util
import json
import os
import re
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from gan_lab.notebook_io import is_answer, is_check, nbgrader
from hub_helpers import Hub, create_user, free_port, remove_user, runs_for_others

REPO = Path(__file__).resolve().parent.parent
RECIPE = REPO / "deploy" / "jupyterhub_config.py"
SYNC = REPO / "deploy" / "handout_sync.py"
LAB = "lab01_generator.ipynb"
LAB_PATH = f"gan-lab/labs/{LAB}"
MARKERS = {"### BEGIN SOLUTION", "### END SOLUTION"}


def load_sync():
    """deploy/handout_sync.py as a module (deploy/ is not a package)."""
    spec = importlib.util.spec_from_file_location("handout_sync", SYNC)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def world_readable_folder(prefix):
    """A new folder under the system's temporary folder that every user can enter (mkdtemp makes 700)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    return folder


def tree(folder):
    """{relative path: bytes} of every regular file below `folder`."""
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(Path(folder).rglob("*")) if path.is_file() and not path.is_symlink()}


# --- the hand-out copy on its own (no root needed) ---------------------------------------------

def test_handout_sync_adds_missing_files_only_and_never_changes_the_students(tmp_path):
    sync = load_sync()
    handout, home = tmp_path / "handout", tmp_path / "home"
    (handout / "labs").mkdir(parents=True)
    (handout / "README.md").write_text("hand-out")
    (handout / "labs" / LAB).write_text("lab 1")
    (handout / "labs" / ".ipynb_checkpoints").mkdir()
    (handout / ".previous").mkdir()
    (handout / ".previous" / "README-20261130-101500.md").write_text("older hand-out")
    (home / "gan-lab").mkdir(parents=True)
    home.chmod(0o755)
    (home / "gan-lab" / "README.md").write_text("my notes")

    assert sync.sync(handout, home) == ["added ~/gan-lab/labs/", f"added ~/gan-lab/labs/{LAB}"]
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    (handout / "labs" / LAB).write_text("lab 1, corrected")
    (handout / "labs" / "lab02.ipynb").write_text("lab 2")

    assert sync.sync(handout, home) == ["added ~/gan-lab/labs/lab02.ipynb"]
    assert tree(home) == {"gan-lab/README.md": b"my notes", f"gan-lab/labs/{LAB}": b"lab 1",
                          "gan-lab/labs/lab02.ipynb": b"lab 2"}
    (home / "gan-lab" / "labs" / LAB).unlink()
    assert sync.sync(handout, home) == [f"added ~/gan-lab/labs/{LAB}"]
    assert (home / "gan-lab" / "labs" / LAB).read_text() == "lab 1, corrected"


def test_handout_sync_writes_nothing_through_a_link_in_the_home(tmp_path):
    sync = load_sync()
    handout, home, outside = tmp_path / "handout", tmp_path / "home", tmp_path / "outside"
    (handout / "labs").mkdir(parents=True)
    (handout / "README.md").write_text("hand-out")
    (handout / "labs" / LAB).write_text("lab 1")
    (home / "gan-lab").mkdir(parents=True)
    outside.mkdir()
    (home / "gan-lab" / "labs").symlink_to(outside)
    (home / "gan-lab" / "README.md").symlink_to(outside / "README.md")  # dangling: O_CREAT would follow it

    report = sync.sync(handout, home)

    assert report == ["skipped ~/gan-lab/labs/: not a folder (a link or a file); nothing was added there"]
    assert list(outside.iterdir()) == []


def test_recipe_refuses_to_start_when_others_could_read_the_solutions():
    course = world_readable_folder("gan-lab-recipe-")
    try:
        (course / "handout").mkdir(mode=0o755)
        (course / "solutions").mkdir(mode=0o755)
        load = ("from traitlets.config.loader import PyFileConfigLoader; "
                f"PyFileConfigLoader({str(RECIPE)!r}).load_config()")
        env = {**os.environ, "GAN_LAB_VENV": sys.prefix, "GAN_LAB_HANDOUT": str(course / "handout"),
               "GAN_LAB_SOLUTIONS": str(course / "solutions"), "GAN_LAB_HUB_STATE": str(course / "hub")}
        result = subprocess.run([sys.executable, "-c", load], env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode != 0
        assert f"students could read the solutions in {course / 'solutions'}" in result.stderr
    finally:
        shutil.rmtree(course)


# --- a real hub --------------------------------------------------------------------------------

def missing_prerequisite():
    """Why the hub tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "the JupyterHub test needs root (it creates Unix users and the hub runs servers as them)"
    if shutil.which("configurable-http-proxy") is None:
        return "configurable-http-proxy is missing: npm install -g configurable-http-proxy@5.3.0"
    if importlib.util.find_spec("jupyterhub") is None:
        return "jupyterhub is not installed: pip install -r requirements.txt"
    if not runs_for_others(sys.executable):
        return (f"other users cannot run this venv's Python ({os.path.realpath(sys.executable)}): build the "
                "venv from a Python they can read, e.g. /usr/bin/python3 -m venv (.ci/run does)")
    return None


@dataclass
class Course:
    """A running hub with two logged-in students (`good` and `bad`) and the course folders around it."""

    hub: Hub
    root: Path
    homes: Path
    handout: Path
    solutions: Path
    tokens: dict
    good: str
    bad: str

    def home(self, student):
        """The student's home folder."""
        return self.homes / student


def gan_lab(*args):
    """Run the `gan-lab` command as root (the instructor); fail with its output unless it succeeds."""
    result = subprocess.run([sys.executable, "-m", "gan_lab", *map(str, args)], capture_output=True, text=True,
                            timeout=300)
    if result.returncode != 0:
        raise AssertionError(f"gan-lab {' '.join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}")


def release_handout(out, solutions, closed=()):
    """Write the students' hand-out with `gan-lab release`."""
    closing = ["--closed", *closed] if closed else []
    gan_lab("release", out, "--solutions", solutions, "--notebooks", REPO / "notebooks", *closing)


def start_kit_install(target, source):
    """Start installing the kit non-editably into `target`, from a copy of its sources in `source`.

    Students' servers import this copy, as they would the kit installed in a shared venv, and never
    the clone (whose solutions/ they must not see). Returns the running pip process.
    """
    shutil.copytree(REPO / "gan_lab", source / "gan_lab", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    return subprocess.Popen([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                             str(source)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(process, what, timeout=300):
    """Wait for a process started in the background; fail with its output unless it succeeded."""
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, f"{what} failed:\n{output}"


def hub_override(path, token, password, students, kit):
    """Write the test's config: the recipe, then a shared-password login, an admin service and the kit copy."""
    path.write_text(f"""load_subconfig({str(RECIPE)!r})
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = {password!r}
c.Authenticator.allowed_users = {set(students)!r}
c.JupyterHub.services = [{{"name": "gan-lab-test", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{"name": "admin", "services": ["gan-lab-test"]}}]
c.Spawner.environment.update({{"PYTHONPATH": {str(kit)!r}, "GAN_LAB_FAST": "1"}})
""")


@pytest.fixture(scope="module")
def course():
    """Users, hand-out, kit copy and a running hub with both students' servers up; all removed afterwards."""
    reason = missing_prerequisite()
    if reason:
        (pytest.fail if os.environ.get("GAN_LAB_REQUIRE_HUB") == "1" else pytest.skip)(reason)
    root = world_readable_folder("gan-lab-hub-")
    tag = secrets.token_hex(3)
    good, bad = f"glstu{tag}a", f"glstu{tag}b"
    hub = pip = None
    try:
        homes, handout, kit, state, private = (root / name for name in ("homes", "handout", "kit", "hub", "private"))
        homes.mkdir(mode=0o755)
        state.mkdir(mode=0o700)
        private.mkdir(mode=0o700)
        shutil.copytree(REPO / "solutions", private / "solutions")
        pip = start_kit_install(kit, private / "kit-source")  # runs while the hub starts
        release_handout(handout, private / "solutions")
        for student in (good, bad):
            create_user(student, homes / student)
        token = secrets.token_hex(32)
        hub_override(state / "test_config.py", token, secrets.token_hex(16), (good, bad), kit)
        port = free_port()
        env = {**os.environ, "GAN_LAB_VENV": sys.prefix, "GAN_LAB_HANDOUT": str(handout),
               "GAN_LAB_SOLUTIONS": str(private / "solutions"), "GAN_LAB_HUB_STATE": str(state),
               "GAN_LAB_HUB_URL": f"http://127.0.0.1:{port}",
               "GAN_LAB_HUB_API_URL": f"http://127.0.0.1:{free_port()}",
               "GAN_LAB_PROXY_API_URL": f"http://127.0.0.1:{free_port()}", "GAN_LAB_TEST_HUB_TOKEN": token}
        hub = Hub(Path(sys.prefix) / "bin" / "jupyterhub", state / "test_config.py", state,
                  f"http://127.0.0.1:{port}", env)
        hub.start()
        tokens = {student: hub.log_in(student) for student in (good, bad)}
        finish(pip, "installing the kit")
        hub.start_servers(tokens)
        yield Course(hub, root, homes, handout, private / "solutions", tokens, good, bad)
    finally:
        if hub is not None:
            hub.stop()
        if pip is not None and pip.poll() is None:
            pip.kill()
        for student in (good, bad):
            remove_user(student)
        shutil.rmtree(root, ignore_errors=True)


def test_first_spawn_gives_each_student_a_private_home_holding_the_handout(course):
    handout = tree(course.handout)
    assert f"labs/{LAB}" in handout and "README.md" in handout
    for student in (course.good, course.bad):
        home = course.home(student)
        assert stat.S_IMODE(home.stat().st_mode) == 0o700, f"{student}'s home is not private"
        assert tree(home / "gan-lab") == handout
        owners = {path.stat().st_uid for path in (home / "gan-lab").rglob("*")}
        assert owners == {home.stat().st_uid}, "the hand-out was not copied as the student"


def test_a_students_kernel_cannot_read_the_solutions_or_another_students_home(course):
    solution = course.solutions / LAB
    assert solution.is_file()
    for student, other in ((course.good, course.bad), (course.bad, course.good)):
        kernel = course.hub.kernel(student, course.tokens[student])
        probe = kernel.run(f"""
import os, importlib.util
def attempt(action, path):
    try:
        action(path)
        return "allowed"
    except OSError as error:
        return type(error).__name__
print(os.getuid(), os.getcwd(), importlib.util.find_spec("gan_lab").origin)
print(attempt(lambda p: open(p).read(), {str(solution)!r}),
      attempt(os.listdir, {str(course.home(other))!r}),
      attempt(lambda p: open(p).read(), {str(course.home(other) / LAB_PATH)!r}))
""")
        assert probe.error is None, probe.error
        identity, attempts = probe.text.splitlines()
        uid, cwd, module = identity.split()
        assert (int(uid), cwd) == (course.home(student).stat().st_uid, str(course.home(student)))
        assert module.startswith(str(course.root / "kit")), f"the kernel imported the kit from {module}"
        assert attempts.split() == ["PermissionError"] * 3, f"{student}: {attempts}"


def answered_lab(handout_lab, solution_lab, edit=lambda grade_id, source: source):
    """The hand-out lab with each answer cell filled from the solution (markers dropped), after `edit`."""
    notebook = nbformat.read(handout_lab, as_version=4)
    solution = nbformat.read(solution_lab, as_version=4)
    answers = {nbgrader(cell)["grade_id"]: cell.source for cell in solution.cells if is_answer(cell)}
    for cell in notebook.cells:
        if is_answer(cell):
            grade_id = nbgrader(cell)["grade_id"]
            lines = [line for line in answers[grade_id].splitlines() if line.strip() not in MARKERS]
            cell.source = edit(grade_id, "\n".join(lines))
    return notebook


def work_through(kernel, notebook):
    """Run the notebook's code cells up to its last check cell; return {check grade_id: Outcome}."""
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    last = max(index for index, cell in enumerate(code) if is_check(cell))
    checks = {}
    for cell in code[:last + 1]:
        outcome = kernel.run(cell.source)
        if is_check(cell):
            checks[nbgrader(cell)["grade_id"]] = outcome
        else:
            assert outcome.error is None, f"cell failed: {outcome.error}\n{cell.source}"
    return checks


def sigmoid_generator(grade_id, source):
    """The wrong answer: a generator ending in sigmoid (outputs in [0, 1], not [-1, 1])."""
    return source.replace('"tanh"', '"sigmoid"') if grade_id == "build_generator" else source


def test_lab01_done_in_the_students_kernels_is_collected_and_graded(course):
    lab, solution = course.handout / "labs" / LAB, course.solutions / LAB
    work = {course.good: answered_lab(lab, solution), course.bad: answered_lab(lab, solution, sigmoid_generator)}
    assert work[course.bad] != work[course.good]
    with ThreadPoolExecutor(len(work)) as pool:  # both students at once, as in a lab room
        done = {student: pool.submit(work_through, course.hub.kernel(student, course.tokens[student]), notebook)
                for student, notebook in work.items()}
    for student, notebook in work.items():
        checks = done[student].result()
        if student == course.good:
            for grade_id, outcome in checks.items():
                assert outcome.error is None and re.search(r"all \d+ checks passed", outcome.text), (grade_id, outcome)
        else:
            assert checks["check_sample_noise"].error is None
            assert (checks["check_build_generator"].error or "").startswith("CheckFailed:"), checks
        course.hub.save_notebook(student, course.tokens[student], LAB_PATH, json.loads(nbformat.writes(notebook)))
        saved = course.home(student) / LAB_PATH
        assert saved.stat().st_uid == course.home(student).stat().st_uid
        assert [cell.source for cell in nbformat.read(saved, as_version=4).cells] == [
            cell.source for cell in notebook.cells]

    collected, grades = course.root / "private" / "collected", course.root / "private" / "grades"
    gan_lab("collect", course.homes, "--lab", "lab01", "--out", collected, "--solutions", course.solutions)
    with open(collected / "collected.csv", newline="") as file:
        assert {row["student"]: row["status"] for row in csv.DictReader(file)} == dict.fromkeys(work, "collected")
    gan_lab("grade", collected, "--lab", "lab01", "--out", grades, "--solutions", course.solutions)

    with open(grades / "gradebook.csv", newline="") as file:
        rows = {row["student"]: row for row in csv.DictReader(file)}
    full = sum(nbgrader(cell)["points"] for cell in nbformat.read(solution, as_version=4).cells if is_check(cell))
    assert set(rows) == {course.good, course.bad}
    assert (rows[course.good]["status"], float(rows[course.good]["total"])) == ("graded", full)
    assert rows[course.bad]["status"] == "graded"
    assert (float(rows[course.bad]["check_build_generator"]), float(rows[course.bad]["total"])) == (0, full - 1)


def test_a_later_spawn_adds_new_handout_files_and_never_changes_the_students(course):
    student, hub, token = course.good, course.hub, course.tokens[course.good]
    mine, handout = course.home(student) / "gan-lab", course.handout
    trap = course.root / "trap"  # only root may write here: nothing may arrive through the student's link
    trap.mkdir(mode=0o755)
    hub.server("PUT", student, "/contents/gan-lab/README.md", token,
               json={"type": "file", "format": "text", "content": "my own notes"})
    planted = hub.kernel(student, token).run(
        "import os; os.chdir(os.path.expanduser('~/gan-lab')); "
        f"os.rename('notebooks', 'notebooks-mine'); os.symlink({str(trap)!r}, 'notebooks')")
    assert planted.error is None, planted.error
    lab02 = mine / "labs" / "lab02_discriminator.ipynb"
    students_lab02 = lab02.read_bytes()

    release_handout(handout, course.solutions, closed=["lab01"])
    closed = handout / "labs" / "closed" / "lab01_generator.py"
    assert closed.is_file()
    corrected = handout / "labs" / lab02.name
    corrected.write_bytes(corrected.read_bytes().replace(b"Lab 02", b"Lab 02 (corrected)", 1))
    assert corrected.read_bytes() != students_lab02
    hub.stop_servers([student])
    hub.start_servers({student: token})

    assert (mine / "labs" / "closed" / closed.name).read_bytes() == closed.read_bytes()
    assert (mine / "labs" / "closed" / closed.name).stat().st_uid == course.home(student).stat().st_uid
    assert (mine / "README.md").read_text() == "my own notes"
    assert lab02.read_bytes() == students_lab02
    assert (mine / "notebooks").is_symlink() and list(trap.iterdir()) == []
