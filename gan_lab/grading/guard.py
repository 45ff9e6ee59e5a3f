"""`gan-lab grade --no-sandbox` only: confine the student's code from inside its own kernel.

`install` runs first in the kernel and adds an audit hook (PEP 578: once added it cannot be
removed) that refuses reads of private paths (the solutions, the submissions, the grader's own
files), writes, deletions and renames outside the kernel's work folder, new processes, signals to
other processes and sockets. This stops accidents and casual tampering, nothing more: descriptor-
relative calls, native code and other tricks get past it. The sandbox (gan_lab.grading.sandbox)
is the real boundary; this guard is what is left where bubblewrap cannot run.
"""

import os
import sys
import tempfile
import threading

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
# Audit events whose path arguments (by position) are changed by the operation.
_CHANGING = {
    "os.remove": (0,), "os.rmdir": (0,), "os.mkdir": (0,), "os.rename": (0, 1), "os.link": (0, 1),
    "os.symlink": (1,), "os.truncate": (0,), "os.chmod": (0,), "os.chown": (0,), "os.utime": (0,),
    "os.chflags": (0,), "os.setxattr": (0,), "os.removexattr": (0,), "shutil.rmtree": (0,),
}
_LISTING = ("os.listdir", "os.scandir")
_PROCESSES = ("os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
              "subprocess.Popen", "pty.spawn", "ctypes.dlopen", "ctypes.dlsym", "socket.connect",
              "socket.bind")
_SIGNALS = ("os.kill", "os.killpg", "signal.pthread_kill")


class _Guard:
    """The audit hook's state: where reads are private and where writes may go."""

    def __init__(self, workdir, private):
        self.workdir = os.path.realpath(workdir)
        self.private = [os.path.realpath(path) for path in private]
        self.busy = threading.local()  # the hook's own calls must not re-enter it

    @staticmethod
    def _inside(path, root):
        return path == root or path.startswith(root.rstrip(os.sep) + os.sep)

    def _resolve(self, path):
        if isinstance(path, int) or path is None:
            return None  # a file descriptor: opened (and checked) before
        return os.path.realpath(os.fsdecode(os.fspath(path)))

    def _refuse(self, what, path):
        raise PermissionError(f"gan-lab grade: {what} {path} is not allowed while grading")

    def check_read(self, path):
        path = self._resolve(path)
        if path and any(self._inside(path, root) for root in self.private):
            self._refuse("reading", path)

    def check_write(self, path):
        path = self._resolve(path)
        if path and path != os.devnull and not self._inside(path, self.workdir):
            self._refuse("changing", path)

    def __call__(self, event, args):
        if getattr(self.busy, "active", False):
            return
        self.busy.active = True
        try:
            self._audit(event, args)
        finally:
            self.busy.active = False

    def _audit(self, event, args):
        if event == "open":
            path, mode, flags = args
            self.check_read(path)
            writes = any(letter in (mode or "") for letter in "wax+") or (flags or 0) & _WRITE_FLAGS
            if writes:
                self.check_write(path)
        elif event in _CHANGING:
            for position in _CHANGING[event]:
                self.check_write(args[position])
        elif event in _LISTING:
            self.check_read(args[0] if args else None)
        elif event in _PROCESSES:
            raise PermissionError(f"gan-lab grade: {event} is not allowed while grading")
        elif event in _SIGNALS and args and args[0] not in (os.getpid(), threading.get_ident()):
            raise PermissionError(f"gan-lab grade: {event} is not allowed while grading")


def _load_libraries():
    # Import what the labs use now, while caches (matplotlib fonts, Keras config) may be written.
    import gan_lab  # noqa: F401  (selects the TensorFlow backend)
    import keras  # noqa: F401
    import matplotlib.pyplot  # noqa: F401
    import tensorflow  # noqa: F401


def install(workdir, private):
    """Move into `workdir` (temporary files too), load the lab libraries, then confine the kernel."""
    os.makedirs(workdir, exist_ok=True)
    os.chdir(workdir)
    os.environ["TMPDIR"] = tempfile.tempdir = str(workdir)
    _load_libraries()
    sys.addaudithook(_Guard(workdir, private))
