"""Runs inside a grading kernel, before the student's code: confine that code (`gan-lab grade`).

`install` adds an audit hook (PEP 578: once added it cannot be removed) that refuses reads of
private paths (the solutions, the submissions, the grader's own files), writes, deletions and
renames outside the kernel's work folder, new processes, signals to other processes and sockets;
it also caps what each cell may print. This stops accidents and casual tampering. It is not a
security boundary against native code: grade untrusted work in a container or as another user.
"""

import os
import sys
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


class _CappedStream:
    """A text stream that passes on at most `limit` characters per cell, then one notice line."""

    def __init__(self, stream, limit):
        self._stream, self._limit, self.written = stream, limit, 0

    def write(self, text):
        room = self._limit - self.written
        self.written += len(text)
        if room > 0:
            self._stream.write(text[:room])
            if len(text) > room:
                self._stream.write(f"\n[output cut by the grader after {self._limit} characters]\n")
        return len(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _load_libraries():
    # Import what the labs use now, while caches (matplotlib fonts, Keras config) may be written.
    import gan_lab  # noqa: F401  (selects the TensorFlow backend)
    import keras  # noqa: F401
    import matplotlib.pyplot  # noqa: F401
    import tensorflow  # noqa: F401


def install(workdir, private, output_limit=100_000):
    """Move into `workdir`, load the lab libraries, then confine the kernel and cap cell output."""
    os.makedirs(workdir, exist_ok=True)
    os.chdir(workdir)
    _load_libraries()
    streams = [_CappedStream(sys.stdout, output_limit), _CappedStream(sys.stderr, output_limit)]
    sys.stdout, sys.stderr = streams

    def reset_counts(*_):
        for stream in streams:
            stream.written = 0

    try:
        get_ipython().events.register("pre_run_cell", reset_counts)  # noqa: F821 (IPython builtin)
    except NameError:
        pass  # outside IPython (tests): one budget for the whole run
    sys.addaudithook(_Guard(workdir, private))
