"""Static scan of answer cells for code that could tamper with the checks or escape (`gan-lab grade`).

The checks share the interpreter with the student's code, so in-process tricks can only be detected:
`scan_source` parses a cell (IPython magics included) with `ast` and reports what no exercise needs
(introspection, import hooks, processes, signals, sockets, IPython internals, writes into gan_lab).
A finding sends the submission to review. Code that does not parse is scanned as text instead.
"""

import ast
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One suspicious construct in an answer: where it is and what it is."""

    line: int  # 1-based line in the cell source
    what: str  # short description, e.g. "sys._getframe (frame access)"


def _table(**groups):
    """{category_words: "name name"} -> {name: "category words"}."""
    return {name: category.replace("_", " ") for category, names in groups.items() for name in names.split()}


_MODULES = _table(  # importing these or their submodules is a finding
    native_code="ctypes cffi mmap", new_processes="subprocess _posixsubprocess multiprocessing pty",
    process_control="signal _thread faulthandler atexit resource fcntl", network_access="socket _socket zmq",
    code_loading="importlib imp runpy code codeop pickle marshal dill", file_tree_changes="shutil",
    interpreter_internals="inspect gc builtins __builtin__",
    IPython_internals="IPython ipykernel traitlets jupyter_client",
    grader_internals="nbformat nbval pytest gan_lab.grading")
_SYS = _table(frame_access="_getframe _current_frames settrace setprofile",
              import_machinery="meta_path path_hooks path_importer_cache modules",
              interpreter_hooks="addaudithook excepthook displayhook unraisablehook breakpointhook")
_OS = (("low-level file access", r"open|fdopen|write|dup2|fchdir"),
       ("new processes", r"fork|forkpty|system|popen|(exec|spawn|posix_spawn)\w*"),
       ("signals", r"kill|killpg|pidfd_open"), ("privilege changes", r"set\w*id|chroot"),
       ("environment changes", r"putenv|unsetenv"))  # os._exit only ends the kernel: kernel_died says so
_CODE_TYPES = {"FunctionType", "LambdaType", "CodeType", "ModuleType", "FrameType"}
_STREAMS = {f"sys.{name}" for name in ("stdout", "stderr", "__stdout__", "__stderr__", "stdin")}
_INTROSPECTION = _table(  # attributes reported wherever they are used
    frame_access="f_back f_globals f_locals f_builtins f_code tb_frame tb_next gi_frame cr_frame ag_frame",
    code_access="__code__ co_code co_consts __globals__ __closure__ __builtins__",
    object_internals="__subclasses__ __dict__ __getattribute__ __loader__ __spec__",
    IPython_hooks="set_custom_exc input_transformers_post input_transformers_cleanup ast_transformers "
                  "register_magic_function")
_STORE_ONLY = {"__bases__", "__class__", "__defaults__", "__kwdefaults__", "__del__"}  # reading them is fine
_IPY_SHELL = {"input_transformer_manager", "custom_exceptions", "events", "run_cell", "user_ns", "kernel", "shell"}
_IPY_HISTORY = {"In", "Out", "_ih", "_oh", "_i", "_ii", "_iii", "_exit_code"}
_NAMES = _table(dynamic_import="__import__", dynamic_code="exec eval compile", debugger="breakpoint",
                namespace_access="vars", IPython_internals="get_ipython", builtins_access="__builtins__")
_WRITABLE = {"globals()": "namespace tampering", "locals()": "namespace tampering",
             "os.environ": "environment changes"}
_MUTATORS = {"update", "pop", "popitem", "clear", "setdefault", "__setitem__", "__delitem__"}
_IMPORT_HOOKS = {"find_spec", "find_module", "exec_module", "load_module", "create_module"}
_ATTRIBUTE_FUNCTIONS = {"getattr": ast.Load(), "hasattr": ast.Load(), "setattr": ast.Store(), "delattr": ast.Del()}
_STRINGS = {**{name: what for name, what in _SYS.items() if name != "modules"}, **_INTROSPECTION, **_table(
    IPython_hooks="input_transformers", descriptor_relative_file_access="dir_fd", process_control="pidfd /proc/",
    new_processes="_posixsubprocess fork_exec subprocess", import_machinery="sys.modules", native_code="ctypes",
    dynamic_import="__import__", solution_access="solutions/ .ipynb", grader_internals="gan_lab.grading")}
_MAGICS = _table(  # %name or %%name; other magics are harmless (%matplotlib, %%capture, %autoreload)
    shell_commands="bash sh script system sx python python2 python3 pypy perl ruby",
    writes_a_file="writefile save", runs_other_code="run load pycat rerun macro", environment_changes="env",
    shell_alias="alias", loads_an_extension="load_ext", namespace_tampering="reset xdel",
    IPython_configuration="config")
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp, ast.SetComp,
           ast.DictComp, ast.GeneratorExp)


def _words(table, strict):
    """A regex for the table's words; `strict` asks for whole identifiers (for short names like eval)."""
    def pattern(word):
        before = r"(?<![\w.])" if strict else r"(?<![A-Za-z0-9])" if word[0].isalpha() else ""
        return before + re.escape(word) + (r"(?!\w)" if strict else "")
    return re.compile("|".join(map(pattern, table)))


_STRING_RE = _words(_STRINGS, strict=False)
_TEXT_RE = re.compile(f"{_STRING_RE.pattern}|{_words(_NAMES, strict=True).pattern}")
_IMPORT_RE = re.compile(r"\b(?:import|from)\s+([\w.]+(?:\s*,\s*[\w.]+)*)")
_AUTOMAGIC_RE = re.compile(rf"\s*({'|'.join(_MAGICS)})\s+[^\s=(\[.,:;]")  # `run x.py` with automagic on
_MAGIC_RE = re.compile(r"(\s*)(?:[\w.]+\s*=\s*)?(!|%%?!?)(\w*)(.*)")  # indent, [x =], sigil, name, rest


def _module_category(name):
    if name.startswith("gan_lab.checks._"):
        return "grader internals"
    parts = name.split(".")
    return next((_MODULES[p] for p in (".".join(parts[:n]) for n in range(len(parts), 0, -1)) if p in _MODULES), None)


def _module_attribute(module, name):
    """The category of `module.name` when that attribute of sys, os or types is suspicious."""
    if module == "sys":
        return _SYS.get(name)
    if module == "os":
        return next((category for category, pattern in _OS if re.fullmatch(pattern, name)), None)
    return "code construction" if module == "types" and name in _CODE_TYPES else None


def _fold(node):
    """The value of a str/bytes constant, or of a concatenation or f-string made only of constants."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _fold(node.left), _fold(node.right)
        return left + right if left is not None and type(left) is type(right) else None
    if isinstance(node, ast.JoinedStr):
        parts = [_fold(part.value if isinstance(part, ast.FormattedValue) else part) for part in node.values]
        return "".join(parts) if all(isinstance(part, str) for part in parts) else None
    return None


def _text_scan(text, first_line=1, automagic=True):
    """Conservative findings for text that does not parse: suspicious imports and words, per line."""
    findings = []
    for number, line in enumerate(text.splitlines(), first_line):
        for match in _IMPORT_RE.finditer(line):
            for name in re.split(r"\s*,\s*", match[1]):
                if category := _module_category(name):
                    findings.append(Finding(number, f"import {name} ({category})"))
        if automagic and (match := _AUTOMAGIC_RE.match(line)):
            findings.append(Finding(number, f"automagic {match[1]} ({_MAGICS[match[1]]})"))
        for word in dict.fromkeys(_TEXT_RE.findall(line)):
            findings.append(Finding(number, f"{word} in unparsed code ({_STRINGS.get(word) or _NAMES[word]})"))
    return findings


def _ipython(source):
    """Findings for risky magics and shell escapes, and the Python left to parse (None: none)."""
    try:
        ast.parse(source)
        return [], source  # valid Python: a line starting with % or ! continues an expression
    except (SyntaxError, ValueError):
        pass
    findings, lines = [], source.splitlines()
    for index, line in enumerate(lines):
        if not (match := _MAGIC_RE.fullmatch(line)):
            continue
        indent, sigil, name, rest = match.groups()
        if "!" in sigil:
            findings.append(Finding(index + 1, f"shell escape {line.strip()[:40]} (new processes)"))
        elif name in _MAGICS:
            findings.append(Finding(index + 1, f"{sigil}{name} ({_MAGICS[name]})"))
        else:  # %time, %timeit...: the rest of the line runs as Python
            findings += _text_scan(rest, index + 1, automagic=False)
        risky = "!" in sigil or name in _MAGICS
        if risky and sigil.startswith("%%") and not "".join(lines[:index]).strip():
            return findings, None  # %%bash...: the body is not Python (with %%capture or %%time it is)
        lines[index] = indent + "pass"
    return findings, "\n".join(lines)


class _Scanner(ast.NodeVisitor):
    """Collects the findings of one parsed cell, resolving names through the cell's imports and aliases."""

    def __init__(self, tree):
        self.findings, self.aliases, self.bound = [], {}, set()
        self.parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:  # `import os.path` binds os; `import a.b as c` binds c to a.b
                    self.aliases[alias.asname or alias.name.split(".")[0]] = alias.asname and alias.name
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Assign) and [type(target) for target in node.targets] == [ast.Name]:
                if (value := self.dotted(node.value)) and value != node.targets[0].id:
                    self.aliases[node.targets[0].id] = value  # ip = get_ipython(), s = sys, env = os.environ
            elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                self.bound.add(node.id)
            elif isinstance(node, ast.arg):
                self.bound.add(node.arg)
        self.bound |= set(self.aliases)
        self.aliases = {local: path or local for local, path in self.aliases.items()}

    def dotted(self, node):
        """'sys._getframe' for `s._getframe` after `import sys as s`; 'get_ipython()' for a bare call."""
        if isinstance(node, ast.Name):
            check = node.id.startswith("check_") or node.id == "CheckFailed"  # imported by the lab's setup cell
            return self.aliases.get(node.id) or (f"gan_lab.checks.{node.id}" if check else node.id)
        if isinstance(node, ast.Attribute):
            return (base := self.dotted(node.value)) and f"{base}.{node.attr}"
        if isinstance(node, ast.Call) and not node.args and not node.keywords:
            return (base := self.dotted(node.func)) and f"{base}()"
        return None

    def report(self, node, what):
        self.findings.append(Finding(node.lineno, what))

    def _redefines(self, node, name, how):
        scope = node
        while (scope := self.parents.get(scope)) is not None:
            if isinstance(scope, _SCOPES):
                return
        if name.startswith("check_") or name == "CheckFailed":
            self.report(node, f"{how} {name} (redefining a check)")

    def _attribute(self, owner, name, ctx):
        """Descriptions of what is suspicious about `owner.name` used in context `ctx`."""
        base = self.dotted(owner)
        full, writing = f"{base}.{name}" if base else f".{name}", isinstance(ctx, (ast.Store, ast.Del))
        verb = "del" if isinstance(ctx, ast.Del) else "assignment to"
        if category := _module_attribute(base, name):
            yield f"{full} ({category})"
        elif name in _SYS and name != "modules":  # distinctive enough to report on any object
            yield f"{full} ({_SYS[name]})"
        if isinstance(owner, ast.Name) and owner.id in _MODULES and owner.id not in self.bound:
            yield f"module {owner.id} ({_MODULES[owner.id]})"  # imported outside this cell
        if base in _STREAMS and name not in ("write", "flush") or full in _STREAMS and writing:
            yield f"{verb} {full} (stream tampering)" if writing else f"{full} (stream tampering)"
        if name in _INTROSPECTION:
            yield f"{full} ({_INTROSPECTION[name]})"
        if name in _IPY_SHELL and (base or "").startswith("get_ipython()"):
            yield f"{full} (IPython internals)"
        if base in _WRITABLE and name in _MUTATORS or full in _WRITABLE and writing:
            yield f"{full} ({_WRITABLE.get(base) or _WRITABLE[full]})"
        if writing and name in _STORE_ONLY:
            yield f"{verb} {full} (object internals)"
        if writing and full.startswith("gan_lab."):
            yield f"{verb} {full} (patching the checks)"

    def visit_Attribute(self, node):
        for what in self._attribute(node.value, node.attr, node.ctx):
            self.report(node, what)
        self.generic_visit(node)

    def visit_Subscript(self, node):
        base = self.dotted(node.value) or ""
        if isinstance(node.ctx, (ast.Store, ast.Del)) and (base in _WRITABLE or base.startswith("gan_lab.")):
            self.report(node, f"item assignment in {base} ({_WRITABLE.get(base, 'patching the checks')})")
        self.generic_visit(node)

    def visit_Name(self, node):
        called = isinstance(parent := self.parents.get(node), ast.Call) and parent.func is node
        if not isinstance(node.ctx, ast.Load):
            self._redefines(node, node.id, "del" if isinstance(node.ctx, ast.Del) else "assignment to")
        elif node.id in _NAMES:
            self.report(node, f"{node.id}{'()' if called else ''} ({_NAMES[node.id]})")
        elif node.id in _IPY_HISTORY and node.id not in self.bound:  # `for _i in ...` is the student's own
            self.report(node, f"{node.id} (IPython history)")

    def _import(self, node, module):
        if category := _module_category(module):
            self.report(node, f"import {module} ({category})")
        return category

    def visit_Import(self, node):
        for alias in node.names:
            self._import(node, alias.name)
            self._redefines(node, alias.asname or alias.name, "import as")

    def visit_ImportFrom(self, node):
        if not node.module or node.level or self._import(node, node.module):
            return
        for alias in node.names:
            self._import(node, f"{node.module}.{alias.name}")
            if f"{node.module}.{alias.name}" != f"gan_lab.checks.{alias.asname or alias.name}":
                self._redefines(node, alias.asname or alias.name, "import as")
            if category := _module_attribute(node.module, alias.name):
                self.report(node, f"from {node.module} import {alias.name} ({category})")

    def visit_Call(self, node):
        callee = self.dotted(node.func)
        if callee in _ATTRIBUTE_FUNCTIONS and len(node.args) >= 2:
            if isinstance(name := _fold(node.args[1]), str):
                found = list(self._attribute(node.args[0], name, _ATTRIBUTE_FUNCTIONS[callee]))
                # a sys/os name is suspicious on any object, except the everyday open/write
                if not found and name not in ("open", "fdopen", "write"):
                    if category := _SYS.get(name) or _module_attribute("os", name):
                        found = [f"{callee}(..., {name!r}) ({category})"]
                for what in found:
                    self.report(node, what)
            elif callee != "hasattr":
                self.report(node, f"{callee} with a computed name (dynamic attribute access)")
        if callee in ("__import__", "importlib.import_module") and node.args:
            if isinstance(module := _fold(node.args[0]), str):
                self._import(node, module)
        if any(keyword.arg == "dir_fd" for keyword in node.keywords):
            self.report(node, f"{callee or 'call'} with dir_fd (descriptor-relative file access)")
        self.generic_visit(node)

    def visit_FunctionDef(self, node):
        if node.name in _IMPORT_HOOKS and isinstance(self.parents.get(node), ast.ClassDef):
            self.report(node, f"{node.name} method (import hook)")
        if node.name == "__del__":
            self.report(node, "__del__ method (runs at garbage collection)")
        self._redefines(node, node.name, "def")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        self._redefines(node, node.name, "class")
        self.generic_visit(node)

    def visit_Global(self, node):
        for name in node.names:
            if name.startswith("check_") or name == "CheckFailed":
                self.report(node, f"global {name} (redefining a check)")

    def visit_Constant(self, node):
        value = _fold(node)  # a string, or a concatenation of constants as the running code will see it
        if value is None:
            return self.generic_visit(node)
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        if words := list(dict.fromkeys(_STRING_RE.findall(text))):
            self.report(node, f"string {text[:40]!r} mentions {', '.join(words)} (hidden {_STRINGS[words[0]]})")

    visit_BinOp = visit_JoinedStr = visit_Constant


def scan_source(source: str) -> list[Finding]:
    """Findings in one answer cell's source, in line order (empty when nothing is suspicious)."""
    findings, python = _ipython(source)
    if python is not None:
        try:
            tree = ast.parse(python)
        except (SyntaxError, ValueError):  # ValueError: null bytes in the source
            findings += _text_scan(python)
        else:
            scanner = _Scanner(tree)
            scanner.visit(tree)
            findings += scanner.findings
    return sorted(dict.fromkeys(findings), key=lambda finding: finding.line)


def review_notes(answers: dict[str, str]) -> list[str]:
    """One note per finding over all answers (grade_id -> source), for the instructor."""
    return [f"answer {grade_id}, line {finding.line}: {finding.what}: review this submission by hand"
            for grade_id, source in answers.items() for finding in scan_source(source)]
