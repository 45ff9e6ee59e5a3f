"""The static scan of answer cells: clean lab code passes, tampering and escapes are reported with their line."""

import dataclasses
from pathlib import Path

import nbformat
import pytest

from gan_lab.grading.scan import Finding, review_notes, scan_source

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def _reference_answers():
    """(notebook/grade_id, answer source) for every answer cell of the reference solutions."""
    answers = []
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("solution"):
                source = "\n".join(line for line in cell.source.split("\n") if line.strip() not in MARKERS)
                answers.append(pytest.param(source, id=f"{path.stem}/{meta['grade_id']}"))
    return answers


REFERENCE_ANSWERS = _reference_answers()

CLEAN = {
    # ending the kernel is recorded as kernel_died; no trick
    "os._exit": "import os\nos._exit(1)\n",
    # the grader records a timeout whatever the code does with its interrupt, so catching one is no trick
    "interrupt handlers": """
import contextlib
try:
    train()
except KeyboardInterrupt:
    pass
try:
    train()
except:
    pass
with contextlib.suppress(KeyboardInterrupt):
    train()
""",
    "sequential model": """
def build_generator(latent_dim=100):
    return keras.Sequential([keras.Input(shape=(latent_dim,)), layers.Dense(256, activation="relu"),
                             layers.Dense(28 * 28, activation="tanh"), layers.Reshape((28, 28, 1))])
""",
    "functional model": """
import keras
from keras import layers, ops

def build_discriminator(image_shape=(28, 28, 1)):
    inputs = keras.Input(shape=image_shape)
    x = layers.Flatten()(inputs)
    x = layers.Dense(128)(x)
    x = layers.LeakyReLU(negative_slope=0.2)(x)
    return keras.Model(inputs, layers.Dense(1)(x), name="discriminator")
""",
    "subclassed model with super().__init__ and a property": """
class Critic(keras.Model):
    \"\"\"A small critic; call() returns logits.\"\"\"

    def __init__(self, units=64, **kwargs):
        super().__init__(**kwargs)
        self.hidden = layers.Dense(units)
        self.out = layers.Dense(1)

    @property
    def metrics(self):
        return []

    def call(self, inputs, training=False):
        return self.out(keras.ops.relu(self.hidden(inputs)))

    def describe(self):
        return f"{type(self).__name__} with {len(self.layers)} layers"
""",
    "GradientTape train step under tf.function": """
import tensorflow as tf

@tf.function
def train_step(real, generator, discriminator, optimizer, latent_dim=100):
    noise = tf.random.normal((tf.shape(real)[0], latent_dim))
    with tf.GradientTape(persistent=True) as tape:
        fake_logits = discriminator(generator(noise, training=True), training=True)
        loss = keras.ops.mean(keras.ops.softplus(-fake_logits))
    grads = tape.gradient(loss, generator.trainable_variables)
    optimizer.apply(grads, generator.trainable_variables)
    return {"g_loss": loss}
""",
    "getattr and hasattr with ordinary constant names": """
activations = [getattr(layer, "activation", None) for layer in model.layers]
has_kernels = [hasattr(layer, "kernel") for layer in model.layers]
field = hasattr(layer, name)
""",
    "print with f-strings": 'loss = 0.5\nprint(f"loss = {loss:.3f}", end="\\n")\nprint("%d steps" % 3)\n',
    "sys.stdout.write and flush, print to stderr": """
import sys
sys.stdout.write("x")
sys.stdout.flush()
print("warning", file=sys.stderr)
""",
    "os.path.join and makedirs": """
import os
import os.path
folder = os.path.join("runs", "lab01")
os.makedirs(folder, exist_ok=True)
print(os.path.exists(folder), os.getcwd())
""",
    "numpy random generator and math": """
import math
import numpy as np
rng = np.random.default_rng(0)
noise = rng.normal(size=(4, 2)).astype("float32")
angle = math.pi * np.arange(8) / 4
""",
    "try/except ValueError and Exception": """
try:
    value = float(text)
except ValueError:
    value = 0.0
except (TypeError, Exception) as error:
    print(error)
finally:
    print("done")
""",
    "comprehensions, lambdas, loops and the seed generator": """
seed = keras.random.SeedGenerator(42)
squares = {i: i * i for i in range(10) if i % 2}
pairs = [(a, b) for a in range(3) for b in range(a)]
key = sorted(pairs, key=lambda pair: pair[1])
while key:
    key.pop()
""",
    "model.compile and fit": 'model.compile(optimizer="adam", loss="mse")\nmodel.fit(x, y, epochs=1, verbose=0)\n',
    "harmless imports": "import threading, pathlib, tempfile, concurrent.futures\nimport types\nfrom functools import partial\n",
    "reading a file with open": 'with open("notes.txt") as handle:\n    text = handle.read()\n',
    "calling a check imported again from gan_lab.checks": """
from gan_lab.checks import check_sample_noise
check_sample_noise(sample_noise)
""",
    "own loop variable named like IPython history": "for _i in range(3):\n    print(_i)\n",
    "percent and bang that continue an expression": "ratio = (total\n         % 7)\nsame = (a\n        != b)\n",
    "harmless magics": "%matplotlib inline\n%autoreload 2\nimport numpy as np\nx = np.zeros(3)\n",
    "harmless cell magic with a Python body": "%%time\nx = keras.ops.ones((2, 2))\n",
    "capture cell magic": "%%capture output\nprint(1)\n",
    "docstring mentioning the lab": 'def f():\n    """Return D(G(z)) for the GradientTape step of lab03."""\n    return 1\n',
    "empty cell": "",
}


@pytest.mark.parametrize("source", REFERENCE_ANSWERS)
def test_reference_answers_have_no_findings(source):
    assert scan_source(source) == []


def test_every_reference_notebook_contributes_answers():
    notebooks = {param.id.split("/")[0] for param in REFERENCE_ANSWERS}
    assert notebooks == {path.stem for path in SOLUTIONS.glob("*.ipynb")}
    assert len(REFERENCE_ANSWERS) >= 10


@pytest.mark.parametrize("source", list(CLEAN.values()), ids=list(CLEAN))
def test_ordinary_lab_code_has_no_findings(source):
    assert scan_source(source) == []


HOSTILE = [  # (id, source, line, fragment of `what` expected at that line)
    # imports, in every form
    ("import ctypes", "import ctypes", 1, "import ctypes (native code)"),
    ("import as alias", "import numpy as np\nimport ctypes as c", 2, "import ctypes (native code)"),
    ("from ctypes import", "from ctypes import CDLL", 1, "import ctypes (native code)"),
    ("submodule", "import multiprocessing.pool", 1, "import multiprocessing.pool (new processes)"),
    ("import multiprocessing", "import multiprocessing", 1, "import multiprocessing (new processes)"),
    ("_posixsubprocess", "import _posixsubprocess", 1, "import _posixsubprocess (new processes)"),
    ("subprocess in a list", "import json, subprocess", 1, "import subprocess (new processes)"),
    ("signal", "import signal", 1, "import signal (process control)"),
    ("socket", "import socket", 1, "import socket (network access)"),
    ("importlib.util", "import importlib.util", 1, "import importlib.util (code loading)"),
    ("inspect", "import inspect", 1, "import inspect (interpreter internals)"),
    ("gc", "import gc", 1, "import gc (interpreter internals)"),
    ("builtins", "from builtins import eval as e", 1, "import builtins (interpreter internals)"),
    ("pickle", "import pickle", 1, "import pickle (code loading)"),
    ("marshal", "import marshal", 1, "import marshal (code loading)"),
    ("IPython submodule", "from IPython.core import interactiveshell", 1, "import IPython.core (IPython internals)"),
    ("ipykernel", "import ipykernel", 1, "import ipykernel (IPython internals)"),
    ("nbformat", "import nbformat", 1, "import nbformat (grader internals)"),
    ("pytest", "import pytest", 1, "import pytest (grader internals)"),
    ("gan_lab.grading module", "from gan_lab.grading import guard", 1, "import gan_lab.grading (grader internals)"),
    ("gan_lab.grading as a name", "from gan_lab import grading", 1, "import gan_lab.grading (grader internals)"),
    ("private checks module", "import gan_lab.checks._harness as h", 1, "import gan_lab.checks._harness (grader"),
    ("private checks name", "from gan_lab.checks import _harness", 1, "import gan_lab.checks._harness (grader"),
    ("shutil", "import shutil", 1, "import shutil (file tree changes)"),
    ("atexit", "import atexit", 1, "import atexit (process control)"),
    ("faulthandler", "import faulthandler", 1, "import faulthandler (process control)"),
    ("from sys import _getframe", "from sys import _getframe", 1, "from sys import _getframe (frame access)"),
    ("from os import open as", "from os import open as o", 1, "from os import open (low-level file access)"),
    ("from os import system", "from os import system", 1, "from os import system (new processes)"),
    ("types.FunctionType", "import types\nf = types.FunctionType(code, {})", 2, "types.FunctionType (code construction)"),
    ("from types import CodeType", "from types import CodeType", 1, "from types import CodeType (code construction)"),
    # dynamic code, namespaces and attribute functions
    ("__import__", "m = __import__('ctypes')", 1, "__import__() (dynamic import)"),
    ("__import__ of a constant", "m = __import__('ctypes')", 1, "import ctypes (native code)"),
    ("import_module", "import importlib\nm = importlib.import_module('ctypes')", 2, "import ctypes (native code)"),
    ("exec", "exec('x = 1')", 1, "exec() (dynamic code)"),
    ("eval", "y = eval('1 + 1')", 1, "eval() (dynamic code)"),
    ("eval aliased", "run = eval\nrun('1')", 1, "eval (dynamic code)"),
    ("compile", "c = compile('1', 'x', 'eval')", 1, "compile() (dynamic code)"),
    ("breakpoint", "breakpoint()", 1, "breakpoint() (debugger)"),
    ("vars(sys)", "import sys\nnames = vars(sys)", 2, "vars() (namespace access)"),
    ("globals item", "globals()['check_sample_noise'] = f", 1, "item assignment in globals() (namespace tampering)"),
    ("globals update", "globals().update(check_x=f)", 1, "globals().update (namespace tampering)"),
    ("globals aliased", "g = globals()\ng['x'] = 1", 2, "item assignment in globals() (namespace tampering)"),
    ("locals item", "locals()['x'] = 1", 1, "item assignment in locals() (namespace tampering)"),
    ("getattr computed", "import sys\nf = getattr(sys, name)", 2, "getattr with a computed name"),
    ("setattr computed", "setattr(checks, name, f)", 1, "setattr with a computed name"),
    ("delattr computed", "delattr(obj, name)", 1, "delattr with a computed name"),
    ("getattr _getframe", "import sys\nf = getattr(sys, '_getframe')", 2, "sys._getframe (frame access)"),
    ("getattr folded", "f = getattr(sys, '_get' + 'frame')(0)", 1, "sys._getframe (frame access)"),
    ("getattr _getframe on any object", "f = getattr(mystery, '_getframe')", 1, "mystery._getframe (frame access)"),
    ("getattr sys name on any object", "m = getattr(mystery, 'modules')", 1, "getattr(..., 'modules') (import"),
    ("getattr os name on any object", "getattr(mod, 'sys' + 'tem')('ls')", 1, "getattr(..., 'system') (new processes)"),
    ("getattr os system folded", "getattr(os, 'sys' + 'tem')('ls')", 1, "os.system (new processes)"),
    ("hasattr f_back", "hasattr(frame, 'f_back')", 1, "frame.f_back (frame access)"),
    ("setattr on the checks", "setattr(gan_lab.checks, 'check_sample_noise', f)", 1,
     "assignment to gan_lab.checks.check_sample_noise (patching the checks)"),
    # sys
    ("sys._getframe", "import sys\nframe = sys._getframe(1)", 2, "sys._getframe (frame access)"),
    ("sys alias", "import sys as s\nframe = s._getframe(1)", 2, "sys._getframe (frame access)"),
    ("sys assigned alias", "s = sys\nframe = s._getframe(1)", 2, "sys._getframe (frame access)"),
    ("_getframe on any object", "def get():\n    import sys\n    return sys\nx = get()\nx._getframe(0)", 5,
     "get()._getframe (frame access)"),
    ("meta_path", "sys.meta_path.insert(0, Finder())", 1, "sys.meta_path (import machinery)"),
    ("path_hooks", "sys.path_hooks.append(hook)", 1, "sys.path_hooks (import machinery)"),
    ("sys.modules", "sys.modules['gan_lab.checks'] = fake", 1, "sys.modules (import machinery)"),
    ("settrace", "sys.settrace(tracer)", 1, "sys.settrace (frame access)"),
    ("addaudithook", "sys.addaudithook(hook)", 1, "sys.addaudithook (interpreter hooks)"),
    ("excepthook", "sys.excepthook = handler", 1, "sys.excepthook (interpreter hooks)"),
    ("stdout private stream", "sys.stdout._stream.write('x' * 10**7)", 1, "sys.stdout._stream (stream tampering)"),
    ("stdout replaced", "sys.stdout = open('log.txt', 'w')", 1, "assignment to sys.stdout (stream tampering)"),
    ("stderr buffer", "sys.stderr.buffer.write(b'x')", 1, "sys.stderr.buffer (stream tampering)"),
    ("stdout aliased", "out = sys.stdout\nout.reconfigure(write_through=True)", 2, "sys.stdout.reconfigure (stream"),
    ("stdout from import", "from sys import stdout\nstdout._stream = None", 2, "sys.stdout._stream (stream"),
    # os
    ("os.kill", "os.kill(1, 9)", 1, "os.kill (signals)"),
    ("os.system", "os.system('ls /')", 1, "os.system (new processes)"),
    ("os.popen", "os.popen('ls')", 1, "os.popen (new processes)"),
    ("os.execv", "os.execv('/bin/sh', ['sh'])", 1, "os.execv (new processes)"),
    ("os.posix_spawn", "os.posix_spawn('/bin/sh', [], {})", 1, "os.posix_spawn (new processes)"),
    ("os.fork", "pid = os.fork()", 1, "os.fork (new processes)"),
    ("os.setuid", "os.setuid(0)", 1, "os.setuid (privilege changes)"),
    ("os.dup2", "os.dup2(3, 1)", 1, "os.dup2 (low-level file access)"),
    ("os.write", "os.write(1, b'x')", 1, "os.write (low-level file access)"),
    ("os alias", "import os as o\no.system('ls')", 2, "os.system (new processes)"),
    ("os.open after os.path", "import os.path\nfd = os.open('x', os.O_RDONLY)", 2, "os.open (low-level file access)"),
    ("environ item", "os.environ['CUDA_VISIBLE_DEVICES'] = ''", 1, "item assignment in os.environ (environment"),
    ("environ update", "os.environ.update(HOME='/')", 1, "os.environ.update (environment changes)"),
    ("environ pop", "os.environ.pop('HOME')", 1, "os.environ.pop (environment changes)"),
    ("environ imported", "from os import environ\nenviron['A'] = '1'", 2, "item assignment in os.environ"),
    ("putenv", "os.putenv('A', 'b')", 1, "os.putenv (environment changes)"),
    ("unsetenv", "os.unsetenv('A')", 1, "os.unsetenv (environment changes)"),
    ("os.open dir_fd", "fd = os.open('x', os.O_RDONLY, dir_fd=fd)", 1,
     "os.open with dir_fd (descriptor-relative file access)"),
    ("open dir_fd", "open('answers.txt', dir_fd=3)", 1, "open with dir_fd (descriptor-relative file access)"),
    ("signal without import", "signal.pidfd_send_signal(fd, 9)", 1, "module signal (process control)"),
    ("socket without import", "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)", 1, "module socket (network"),
    # frame and code introspection
    ("f_back and f_globals", "frame.f_back.f_globals['x'] = 1", 1, "frame.f_back.f_globals (frame access)"),
    ("tb_frame", "frame = error.__traceback__.tb_frame", 1, "tb_frame (frame access)"),
    ("gi_frame", "frame = gen.gi_frame", 1, "gen.gi_frame (frame access)"),
    ("__code__ swap", "def f():\n    pass\nf.__code__ = g.__code__", 3, "f.__code__ (code access)"),
    ("__globals__", "f.__globals__['check_x'] = g", 1, "f.__globals__ (code access)"),
    ("__closure__", "f.__closure__[0].cell_contents = 1", 1, "f.__closure__ (code access)"),
    ("co_consts", "values = fn.__code__.co_consts", 1, "fn.__code__.co_consts (code access)"),
    ("__builtins__", "e = __builtins__['eval']", 1, "__builtins__ (builtins access)"),
    ("__subclasses__", "found = object.__subclasses__()", 1, "object.__subclasses__ (object internals)"),
    ("__subclasses__ via a subscript", "().__class__.__bases__[0].__subclasses__()", 1, "__subclasses__ (object"),
    ("__dict__", "names = checks.__dict__", 1, "checks.__dict__ (object internals)"),
    ("__getattribute__", "object.__getattribute__(x, 'y')", 1, "object.__getattribute__ (object internals)"),
    ("__loader__", "source = mod.__loader__.get_source(name)", 1, "mod.__loader__ (object internals)"),
    ("__bases__ assignment", "A.__bases__ = (B,)", 1, "assignment to A.__bases__ (object internals)"),
    ("__class__ assignment", "obj.__class__ = Fake", 1, "assignment to obj.__class__ (object internals)"),
    ("__defaults__ assignment", "f.__defaults__ = (1,)", 1, "assignment to f.__defaults__ (object internals)"),
    ("__kwdefaults__ assignment", "f.__kwdefaults__ = {}", 1, "assignment to f.__kwdefaults__ (object internals)"),
    # IPython internals
    ("get_ipython", "shell = get_ipython()", 1, "get_ipython() (IPython internals)"),
    ("input_transformers_post", "get_ipython().input_transformers_post.append(f)", 1,
     "get_ipython().input_transformers_post (IPython hooks)"),
    ("set_custom_exc via alias", "ip = get_ipython()\nip.set_custom_exc((Exception,), h)", 2,
     "get_ipython().set_custom_exc (IPython hooks)"),
    ("input_transformers_cleanup anywhere", "shell.input_transformers_cleanup.append(f)", 1,
     "shell.input_transformers_cleanup (IPython hooks)"),
    ("ast_transformers anywhere", "shell.ast_transformers.append(t)", 1, "shell.ast_transformers (IPython hooks)"),
    ("register_magic_function", "shell.register_magic_function(f)", 1, "register_magic_function (IPython hooks)"),
    ("events via alias", "ip = get_ipython()\nip.events.register('pre_run_cell', f)", 2,
     "get_ipython().events (IPython internals)"),
    ("run_cell", "get_ipython().run_cell('x = 1')", 1, "get_ipython().run_cell (IPython internals)"),
    ("user_ns", "get_ipython().user_ns['check_x'] = f", 1, "get_ipython().user_ns (IPython internals)"),
    ("In", "last = In[-1]", 1, "In (IPython history)"),
    ("_ih", "print(_ih)", 1, "_ih (IPython history)"),
    ("Out", "value = Out[3]", 1, "Out (IPython history)"),
    # writes into gan_lab and redefined checks
    ("checks module attribute", "from gan_lab import checks\nchecks.check_sample_noise = f", 2,
     "assignment to gan_lab.checks.check_sample_noise (patching the checks)"),
    ("dotted checks attribute", "import gan_lab\ngan_lab.checks.check_sample_noise = f", 2,
     "assignment to gan_lab.checks.check_sample_noise (patching the checks)"),
    ("private harness", "import gan_lab.checks._harness as h\nh.Checklist.require = lambda *a: None", 2,
     "assignment to gan_lab.checks._harness.Checklist.require (patching the checks)"),
    ("imported class", "from gan_lab.checks import Checklist\nChecklist.require = lambda *a: None", 2,
     "assignment to gan_lab.checks.Checklist.require (patching the checks)"),
    ("augmented assignment", "import gan_lab.checks.lab01 as lab\nlab._IMAGE += (1,)", 2,
     "assignment to gan_lab.checks.lab01._IMAGE (patching the checks)"),
    ("del", "del gan_lab.checks.check_sample_noise", 1, "del gan_lab.checks.check_sample_noise (patching the"),
    ("item in a checks array", "from gan_lab.checks import lab01\nlab01._GAUSS_CDF_AT[:] = 0", 2,
     "item assignment in gan_lab.checks.lab01._GAUSS_CDF_AT (patching the checks)"),
    ("attribute of an imported check", "check_sample_noise.__wrapped__ = f", 1,
     "assignment to gan_lab.checks.check_sample_noise.__wrapped__ (patching the checks)"),
    ("check reassigned", "check_sample_noise = lambda fn: None", 1,
     "assignment to check_sample_noise (redefining a check)"),
    ("check redefined by def", "def check_sample_noise(fn):\n    pass", 1, "def check_sample_noise (redefining a check)"),
    ("CheckFailed redefined by class", "class CheckFailed(Exception):\n    pass", 1, "class CheckFailed (redefining"),
    ("CheckFailed reassigned", "CheckFailed = AssertionError", 1, "assignment to CheckFailed (redefining a check)"),
    ("global check", "def f():\n    global check_train_step\n    check_train_step = print", 2,
     "global check_train_step (redefining a check)"),
    ("import as a check name", "from functools import partial as check_sample_noise", 1,
     "import as check_sample_noise (redefining a check)"),
    ("for target", "for check_sample_noise in [print]:\n    pass", 1, "assignment to check_sample_noise (redefining"),
    # strings
    ("folded string", "name = '_get' + 'frame'", 1, "string '_getframe' mentions _getframe (hidden frame access)"),
    ("f-string of constants", "name = f\"{'_get'}frame\"", 1, "string '_getframe' mentions _getframe"),
    ("implicit concatenation", "key = 'dir' '_fd'", 1, "string 'dir_fd' mentions dir_fd"),
    ("proc path", "path = '/proc/self/fd'", 1, "string '/proc/self/fd' mentions /proc/ (hidden process control)"),
    ("solution notebook path", "p = 'solutions/lab01_generator.ipynb'", 1, "mentions solutions/, .ipynb (hidden"),
    ("f-string part", "p = f'{root}/solutions/'", 1, "string '/solutions/' mentions solutions/"),
    ("bytes", "key = b'ctypes'", 1, "string 'ctypes' mentions ctypes (hidden native code)"),
    ("grader module name", "m = 'gan_lab.' + 'grading'", 1, "mentions gan_lab.grading (hidden grader internals)"),
    ("frame attribute name", "attr = 'f_' + 'back'", 1, "string 'f_back' mentions f_back (hidden frame access)"),
    ("sys.modules text", "s = 'sys.modules'", 1, "string 'sys.modules' mentions sys.modules"),
    ("hook name", "h = 'set_custom' + '_exc'", 1, "mentions set_custom_exc (hidden IPython hooks)"),
    ("input_transformers", "t = 'input_transformers_post'", 1, "mentions input_transformers_post (hidden IPython"),
    # import hooks and finalizers
    ("find_spec", "class Finder:\n    def find_spec(self, name, path, target=None):\n        return None", 2,
     "find_spec method (import hook)"),
    ("exec_module", "class Loader:\n    def exec_module(self, module):\n        pass", 2,
     "exec_module method (import hook)"),
    ("__del__", "class A:\n    def __del__(self):\n        print('bye')", 2,
     "__del__ method (runs at garbage collection)"),
    # IPython syntax
    ("shell escape", "!ls /", 1, "shell escape !ls / (new processes)"),
    ("captured shell escape", "x = 1\nfiles = !ls /", 2, "shell escape files = !ls /"),
    ("double bang", "!!cat /etc/passwd", 1, "shell escape !!cat /etc/passwd"),
    ("%%bash", "%%bash\nls /", 1, "%%bash (shell commands)"),
    ("%%script after a blank line", "\n%%script sh\nls", 2, "%%script (shell commands)"),
    ("%%sh", "%%sh\nls", 1, "%%sh (shell commands)"),
    ("%%system", "%%system\nls", 1, "%%system (shell commands)"),
    ("%%!", "%%!\nls /", 1, "shell escape %%! (new processes)"),
    ("%%writefile", "%%writefile evil.py\nimport os", 1, "%%writefile (writes a file)"),
    ("%system", "%system ls", 1, "%system (shell commands)"),
    ("%sx", "%sx ls", 1, "%sx (shell commands)"),
    ("%run", "%run evil.py", 1, "%run (runs other code)"),
    ("%load", "%load evil.py", 1, "%load (runs other code)"),
    ("%env", "%env A=1", 1, "%env (environment changes)"),
    ("%alias", "%alias x ls", 1, "%alias (shell alias)"),
    ("%load_ext", "%load_ext evil", 1, "%load_ext (loads an extension)"),
    ("indented magic", "def f():\n    %run evil.py\n    return 1", 2, "%run (runs other code)"),
    ("python after a harmless line magic", "x = 1\n%time import ctypes", 2, "import ctypes (native code)"),
    ("python under %%capture", "%%capture\nimport ctypes", 2, "import ctypes (native code)"),
    ("magic next to a syntax error", "%run evil.py\nx = (", 1, "%run (runs other code)"),
    ("automagic run", "run evil.py", 1, "automagic run (runs other code)"),
    # code that does not parse
    ("syntax error mentioning _getframe", "def f(:\n    return sys._getframe(1)", 2,
     "_getframe in unparsed code (frame access)"),
    ("syntax error with an import", "x = (\nimport os, ctypes", 2, "import ctypes (native code)"),
    ("syntax error with exec", "def f(\n    exec(code)", 2, "exec in unparsed code (dynamic code)"),
    ("syntax error under a cell magic", "%%time\nx = (\nf.__globals__", 3, "__globals__ in unparsed code (code access)"),
]


@pytest.mark.parametrize("source, line, fragment", [case[1:] for case in HOSTILE], ids=[case[0] for case in HOSTILE])
def test_hostile_code_is_reported_at_its_line(source, line, fragment):
    findings = scan_source(source)
    assert any(finding.line == line and fragment in finding.what for finding in findings), findings


def test_hostile_case_ids_are_unique():
    assert len({case[0] for case in HOSTILE}) == len(HOSTILE)


def test_a_reported_import_is_not_reported_again_at_each_use():
    source = "import socket\nsock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nsock.sendto(b'x', addr)"
    assert scan_source(source) == [Finding(1, "import socket (network access)")]


def test_findings_are_in_line_order_and_unique_per_line_and_what():
    source = "x = eval('1')\nimport ctypes\ny = eval('2'); z = eval('3')"
    assert scan_source(source) == [Finding(1, "eval() (dynamic code)"), Finding(2, "import ctypes (native code)"),
                                   Finding(3, "eval() (dynamic code)")]


def test_a_folded_string_is_reported_once_as_a_whole():
    assert scan_source("name = 'sys._' + 'get' + 'frame'") == [
        Finding(1, "string 'sys._getframe' mentions _getframe (hidden frame access)")]


def test_quoted_strings_are_truncated_to_40_characters():
    text = "a" * 50 + "_getframe"
    assert scan_source(f"x = {text!r}") == [Finding(1, f"string {text[:40]!r} mentions _getframe (hidden frame access)")]


def test_a_risky_cell_magic_body_is_not_parsed_as_python():
    assert scan_source("%%bash\nimport ctypes\npython -c 'x = ('") == [Finding(1, "%%bash (shell commands)")]


def test_a_magic_mid_cell_keeps_the_line_numbers_of_the_python_after_it():
    source = "import numpy as np\n%matplotlib inline\n\nframe = sys._getframe(0)"
    assert scan_source(source) == [Finding(4, "sys._getframe (frame access)")]


@pytest.mark.parametrize("source", ["x = '\\x00'\x00", "def (", "%%", "!", "%", "   \n\t"])
def test_odd_sources_do_not_raise(source):
    assert isinstance(scan_source(source), list)


def test_getattr_with_a_harmless_constant_name_is_not_reported():
    assert scan_source("import sys\nv = getattr(sys, 'version_info')\nw = getattr(layer, 'open', None)") == []


def test_finding_is_a_frozen_dataclass():
    finding = Finding(3, "sys._getframe (frame access)")
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.line = 4
    assert {finding, Finding(3, "sys._getframe (frame access)")} == {finding}


def test_review_notes_name_the_answer_the_line_and_the_finding():
    answers = {"sample_noise": "x = 1\nimport sys\nf = sys._getframe(0)", "build_generator": CLEAN["sequential model"],
               "train_step": "!ls /"}
    assert review_notes(answers) == [
        "answer sample_noise, line 3: sys._getframe (frame access): review this submission by hand",
        "answer train_step, line 1: shell escape !ls / (new processes): review this submission by hand",
    ]


def test_review_notes_are_empty_for_clean_answers():
    assert review_notes({"a": CLEAN["functional model"], "b": CLEAN["GradientTape train step under tf.function"]}) == []
