"""Each grading kernel in a bubblewrap (`bwrap`) sandbox of its own, talking to nbval over Unix sockets.

Inside the sandbox the kernel has an unprivileged uid of its own (a different one per student, so
one student's processes never count against another's limit), new pid, network, ipc, uts and
cgroup namespaces, and sees only read-only binds of the system libraries, the Python environment
and the kit's package, plus a size-capped private home and /tmp. The solutions, the submissions,
--out, the host's home and /tmp are simply not there. Its network is its own empty loopback, so
the kernel's connection folder (Unix sockets) is the one writable host folder it shares.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import zmq
from jupyter_client.manager import KernelManager
from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager

import gan_lab

HOME = "/home/student"
SEED = "/opt/gan-lab/home-seed"  # copied into the home by the launcher (matplotlib's font cache)
MAX_MESSAGE_BYTES = 32 * 2**20  # bigger messages from a kernel are refused (its connection drops)
UID_BASE = 1_900_000_000  # far above any account's uid; student n runs as UID_BASE + n
FIX = "install bubblewrap (apt-get install bubblewrap) or pass --no-sandbox to grade without one"
_ETC = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/fonts", "/etc/localtime")
_PASSED_ENV = ("GAN_LAB_", "KERAS_", "TF_CPP_", "TF_ENABLE_", "TF_NUM_", "TF_XLA_", "OMP_", "MKL_", "OPENBLAS_",
               "PYTHONHASHSEED", "MPLBACKEND",
               "LANG", "LC_")


class SandboxError(RuntimeError):
    """The sandbox cannot be used here; the message is one line naming the fix."""


@dataclass
class Limits:
    """What one grading kernel may use: address space, processes, CPU and file sizes (bytes, seconds)."""

    memory: int = 4 * 2**30
    processes: int = 256
    cpu: int = 3600
    file_size: int = 64 * 2**20
    scratch: int = 256 * 2**20


@dataclass
class Sandbox:
    """One student's sandbox: its connection folder (host side), uid, limits and home seed folder."""

    folder: str
    uid: int
    limits: Limits = field(default_factory=Limits)
    seed: str = ""

    def to_json(self):
        """The sandbox as JSON text (handed to the grading pytest process)."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text):
        """The sandbox described by to_json's text."""
        data = json.loads(text)
        return cls(**{**data, "limits": Limits(**data["limits"])})

    def command(self, argv):
        """The bwrap command line that runs `argv` (a Python program) as this sandbox's kernel."""
        limits = self.limits
        unprivileged = os.geteuid() != 0
        namespaces = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                      "--hostname", "grading"]
        if unprivileged:  # bwrap maps us to an unprivileged uid in a user namespace of its own
            namespaces += ["--unshare-user", "--uid", "65534", "--gid", "65534"]
        else:  # the launcher drops to the student's uid; it needs these capabilities for that only
            namespaces += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
                       "--cap-add", "CAP_CHOWN"]
        mounts = [*_system_mounts(), "--proc", "/proc", "--dev", "/dev",
                  "--perms", "1777", "--size", str(limits.scratch), "--tmpfs", "/tmp",
                  "--size", str(limits.scratch), "--tmpfs", HOME]
        for path in python_roots():
            mounts += [*_open_parents(path), "--ro-bind", path, path]
        if self.seed:
            mounts += ["--ro-bind", self.seed, SEED]
        mounts += [*_open_parents(self.folder), "--bind", self.folder, self.folder]
        environment = []
        for name, value in sandbox_environment().items():
            environment += ["--setenv", name, value]
        launcher = [sys.executable, "-m", "gan_lab.grading.launch", "--uid", str(self.uid),
                    "--memory", str(limits.memory), "--processes", str(limits.processes), "--cpu", str(limits.cpu),
                    "--file-size", str(limits.file_size), "--"]
        return ["bwrap", *namespaces, "--die-with-parent", "--new-session", "--clearenv", *environment,
                *mounts, "--chdir", HOME, *launcher, *argv]

    def prepare(self):
        """Create the connection folder, readable and writable by the kernel's uid only (and the grader)."""
        os.makedirs(self.folder, mode=0o700, exist_ok=True)
        self.hand_over(self.folder)

    def hand_over(self, path):
        """Give a file of the connection folder to the kernel's uid (when the grader runs as root)."""
        if os.geteuid() == 0:
            os.chown(path, self.uid, self.uid)

    def lock(self):
        """Once the kernel's sockets exist, take the connection folder back: the one host folder the
        kernel can write to must not become a way to fill the host's disk (as root; a user namespace
        leaves the kernel our own uid, which could undo it)."""
        if os.geteuid() == 0:
            os.chown(self.folder, 0, 0)
            os.chmod(self.folder, 0o711)


def short_temporary_folder(prefix):
    """A new private temporary folder whose path leaves room for the kernels' Unix sockets below it.

    A socket's path may not exceed 107 bytes, so a long $TMPDIR gives way to /tmp.
    """
    parent = tempfile.gettempdir()
    return Path(tempfile.mkdtemp(prefix=prefix, dir=parent if len(parent) <= 40 else "/tmp"))


def _system_mounts():
    mounts = []
    for path in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(path):
            mounts += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            mounts += ["--ro-bind", path, path]
    for path in _ETC:
        mounts += ["--ro-bind-try", path, path]
    return mounts


def _open_parents(path):
    """Create the folders above a bind as plain 0755 ones (bwrap would copy a host mode like /root's 0700)."""
    arguments = []
    for parent in map(str, reversed(Path(path).parents)):
        if parent in ("/", "/tmp", HOME) or parent == "/usr" or parent.startswith("/usr/"):
            continue  # the root and the tmpfs mounts exist already; /usr is read-only
        arguments += ["--perms", "0755", "--dir", parent]
    return arguments


def python_roots():
    """The folders the kernel's Python needs: the environment, its base interpreter and the kit's package."""
    roots = {os.path.abspath(path) for path in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    roots.add(str(Path(gan_lab.__file__).resolve().parent))
    return sorted(root for root in roots if not any(root.startswith(other + os.sep) for other in roots))


def sandbox_environment():
    """The kernel's environment: a few settings passed on from the grader, and the sandbox's own paths."""
    passed = {name: value for name, value in os.environ.items() if name.startswith(_PASSED_ENV)}
    return {**passed, "HOME": HOME, "USER": "student", "LOGNAME": "student", "TMPDIR": "/tmp",
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "MPLCONFIGDIR": f"{HOME}/.config/matplotlib", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
            "GAN_LAB_HOME_SEED": SEED}


def exposed(private):
    """The private paths (solutions, submissions, --out) that a python_roots() bind would show the kernel."""
    roots = [Path(root) for root in python_roots()]
    return [path for path in map(Path, private)
            if any(path == root or root in path.parents for root in roots)]


def check_sandbox(folder):
    """Start a throwaway sandbox that imports ipykernel and the kit; raise a one-line SandboxError if it fails."""
    if shutil.which("bwrap") is None:
        raise SandboxError(f"bwrap (bubblewrap) is not installed, so the grading kernels cannot be sandboxed: {FIX}")
    sandbox = Sandbox(str(folder), UID_BASE)
    sandbox.prepare()
    probe = "import ipykernel, gan_lab.checks, os; print(os.getuid())"
    try:
        run = subprocess.run(sandbox.command([sys.executable, "-c", probe]), capture_output=True, text=True,
                             timeout=120, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise SandboxError(f"a test sandbox did not finish in 120 s: {FIX}") from None
    if run.returncode != 0 or not run.stdout.strip().isdigit() or int(run.stdout) == 0:
        lines = (run.stderr or run.stdout).strip().splitlines() or ["no output"]
        raise SandboxError(f"a test sandbox failed ({lines[-1][:160]}): {FIX}")


def start_kernel(sandbox, startup_timeout=60, **kwargs):
    """Start a kernel in `sandbox` and a client for it (nbval's start_new_kernel, sandboxed); return both."""
    sandbox.prepare()
    manager = SandboxKernelManager(sandbox)
    manager.start_kernel(stderr=kwargs.get("stderr"))
    context = zmq.Context()
    context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)  # a kernel cannot make the grader swallow gigabytes
    client = manager.client(context=context)
    client.start_channels()
    try:
        client.wait_for_ready(timeout=startup_timeout)
    except RuntimeError:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
        raise
    sandbox.lock()
    return manager, client


class SandboxKernelManager(KernelManager):
    """A kernel manager whose kernel runs in a Sandbox and listens on Unix sockets in its folder."""

    def __init__(self, sandbox, **kwargs):
        super().__init__(transport="ipc", connection_file=os.path.join(sandbox.folder, "kernel.json"),
                         kernel_name=CURRENT_ENV_KERNEL_NAME, kernel_spec_manager=NbvalKernelspecManager(),
                         **kwargs)
        self.sandbox = sandbox
        # A signal would reach bwrap, not the kernel: interrupt through the control channel instead.
        self.kernel_spec.interrupt_mode = "message"

    def write_connection_file(self, **kwargs):
        """Write the connection file (sockets and key) and let the sandboxed kernel read it."""
        super().write_connection_file(**kwargs)
        self.sandbox.hand_over(self.connection_file)

    def format_kernel_cmd(self, extra_arguments=None):
        """The sandboxed kernel's command line (jupyter_client asks for it when it starts the kernel)."""
        return self.sandbox.command([sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file])
