"""Seeded edit tasks that need the module they change, for bench_edit_history.

`real_edits` asks for self-contained code (reverse a string, the larger of two numbers):
its tasks measure the edit format, not whether the model works with the module. These
tasks are made from the module's own definitions (read with ast, then probed by importing
the module in a fresh interpreter), so each needs what the module defines:

- helper: add a function that calls an existing module-level helper on each item of a
  list (the check replaces the helper with a spy: it must be called, and the results
  must be the helper's);
- subclass: add an exception class (else a class) deriving from one the module defines,
  with a class attribute (and, for an exception that takes a message, still taking it);
- behaviour: change an existing function's behaviour: the default value of a parameter
  (checked with inspect.signature) or the separator a `"...".join` call uses (checked on
  the function's source as the interpreter has it);
- method: add a method to a class that calls another method of that class (checked on a
  stand-in self whose method is a stub, so no instance need be made);
- no-file: a helper or a default task whose instruction names the function but no file,
  and is run without `--files` (the names it uses are defined in one module only).

Every task carries a right edit as one SEARCH/REPLACE block (`Task.reference`) and is kept
only when its check fails on the module as it is and passes with that edit (the same
standard as the history tasks, and the reply a scripted run gives), and when the project's
own tests that import the module, where they pass as it is, still pass with it: else
codectx's checks would refuse even the right edit (changing how click's completion joins
its lines breaks click's completion tests). They run under bench_history's interpreter
(see `history_tasks.test_python`). Deterministic by seed.
"""

from __future__ import annotations

import ast
import json
import random
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from history_tasks import test_python
from real_edits import Task, module_name, passes

KINDS = ("helper", "subclass", "behaviour", "method", "no-file")
PROBE = r'''
import importlib, json, os, signal, sys
PLAIN = (str, int, float, bool, bytes, tuple, list, dict, frozenset)
SAMPLES = ["abc", "Hello World", 3, 2.5, [1, 2], ("a", "b"), {"a": 1}, b"abc"]


def late(*_):
    raise TimeoutError


signal.signal(signal.SIGALRM, late)
spec = json.loads(os.environ["PROBE_SPEC"])
m = importlib.import_module(spec["module"])
out = {"names": sorted(dir(m)), "helpers": {}, "exceptions": {}, "members": {}}
for name in spec["functions"]:
    f = getattr(m, name, None)
    found = []
    for sample in SAMPLES if callable(f) else ():
        signal.alarm(2)
        try:
            first, second = f(sample), f(sample)
        except BaseException:
            continue
        finally:
            signal.alarm(0)
        if first is not None and type(first) in PLAIN and first == second:
            found.append(repr(sample))
        if len(found) == 2:
            break
    if found:
        out["helpers"][name] = found
for name in spec["classes"]:
    c = getattr(m, name, None)
    if not isinstance(c, type):
        continue
    out["members"][name] = sorted(dir(c))
    if issubclass(c, BaseException):
        try:
            says = "boom" in str(c("boom"))
        except BaseException:
            says = False
        out["exceptions"][name] = says
print("\n@@PROBE@@" + json.dumps(out))
'''
SEPARATORS = ("; ", " | ", ", ", " / ")
RISKY = ("subprocess", "system", "popen", "open(", "input(", "stdin", "stdout", "stderr",
         "getpass", "webbrowser", "exec", "remove", "unlink", "rmtree", "write", "sleep",
         "socket", "edit", "launch", "pager", "echo", "print(", "tty", "environ", "exit",
         "signal", "thread", "kill", "chdir", "mkdir")
"""What a function's text must not mention for the probe to call it: it would act on the
world (a file, a terminal, a process) rather than compute a value."""
PREFIXES = ("Strict", "Custom", "Local", "Extra")


@dataclass
class Module:
    """One importable module of the project: its text, its tree, what a probe found."""

    root: Path
    path: str
    import_root: Path
    name: str
    text: str
    tree: ast.Module
    names: set[str]
    helpers: dict[str, list[str]]
    """Function name -> up to two sample arguments (as literals) it returns a value for."""
    exceptions: dict[str, bool]
    """Exception class name -> whether it takes a message (str shows it)."""
    members: dict[str, set[str]]
    """Class name -> its attributes, inherited ones included."""

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines(keepends=True)

    def block(self, node: ast.stmt) -> tuple[str, str] | None:
        """The definition's whole text (decorators included) and its indentation, when
        that text is unique in the file."""
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        text = "".join(self.lines[start - 1:node.end_lineno])
        if not text.endswith("\n"):
            text += "\n"
        if self.text.count(text) != 1:
            return None
        return text, " " * node.col_offset

    def after(self, node: ast.stmt, addition: str, gap: str) -> tuple[str, str] | None:
        """A SEARCH/REPLACE pair that adds `addition` after the definition `node`: SEARCH is
        the fewest last lines of the definition (two at least) that are unique in the
        file, as a person would quote them."""
        if self.block(node) is None:
            return None
        assert node.end_lineno is not None
        lines = self.lines
        for first in range(node.end_lineno - 2, node.lineno - 2, -1):
            text = "".join(lines[max(first, 0):node.end_lineno])
            if not text.endswith("\n"):
                text += "\n"
            if text.strip() and self.text.count(text) == 1:
                return text, text + gap + addition
        return None

    def around(self, line: int, start: int, end: int, new: str) -> tuple[str, str] | None:
        """A SEARCH/REPLACE pair that puts `new` in place of bytes start:end of line `line`
        (1-based, as ast counts), with as many lines around it as make SEARCH unique."""
        lines = self.lines
        for reach in range(0, 6):
            first, last = max(line - 1 - reach, 0), min(line + reach, len(lines))
            search = "".join(lines[first:last])
            if self.text.count(search) == 1:
                target = lines[line - 1].encode()
                changed = target[:start] + new.encode() + target[end:]
                return search, ("".join(lines[first:line - 1]) + changed.decode()
                                + "".join(lines[line:last]))
        return None


def probe(root: Path, path: str) -> Module | None:
    """The module at `path` if it imports here, with what its functions and classes do."""
    found = module_name(root, path)
    if found is None:
        return None
    import_root, name = found
    text = (root / path).read_text(encoding="utf-8")
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    functions = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)
                 and not n.name.startswith("__") and not n.decorator_list
                 and not any(word in (ast.get_source_segment(text, n) or "").lower()
                             for word in RISKY)]
    classes = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
    spec = json.dumps({"module": name, "functions": functions, "classes": classes})
    with tempfile.TemporaryDirectory() as scratch:  # what a probed helper writes goes here
        try:
            done = subprocess.run([sys.executable, "-c", PROBE], cwd=scratch,
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  timeout=60,
                                  env={"PYTHONPATH": str(import_root.resolve()),
                                       "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1",
                                       "HOME": scratch, "PROBE_SPEC": spec, "TERM": "dumb"})
        except subprocess.TimeoutExpired:
            return None
    if done.returncode != 0 or "@@PROBE@@" not in done.stdout:
        return None
    data = json.loads(done.stdout.rpartition("@@PROBE@@")[2])
    return Module(root, path, import_root, name, text, tree, set(data["names"]),
                  data["helpers"], data["exceptions"],
                  {k: set(v) for k, v in data["members"].items()})


def defined_once(modules: list[Module]) -> set[str]:
    """Top-level function and class names (and methods, as Class.method) that exactly one
    module of the project defines."""
    seen: dict[str, int] = {}
    for module in modules:
        names = set()
        for node in module.tree.body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                names.add(node.name)
            if isinstance(node, ast.ClassDef):
                names |= {f"{node.name}.{n.name}" for n in node.body
                          if isinstance(n, ast.FunctionDef)}
        for name in names:
            seen[name] = seen.get(name, 0) + 1
    return {name for name, count in seen.items() if count == 1}


def free(module: Module, name: str) -> bool:
    return name not in module.names and name not in module.text


# -- the kinds ----------------------------------------------------------------------------

def helper_tasks(module: Module, named: bool, unique: set[str]) -> Iterator[Task]:
    for node in module.tree.body:
        if not isinstance(node, ast.FunctionDef) or node.name not in module.helpers \
                or not (named or node.name in unique):
            continue
        samples = module.helpers[node.name]
        new = f"{node.name.lstrip('_')}_each"
        if not free(module, new):
            continue
        code = (f"def {new}(items):\n    return [{node.name}(item) for item in items]\n")
        reference = module.after(node, code, "\n\n")
        if reference is None:
            continue
        items = ", ".join(samples)
        check = (f"real = m.{node.name}\ncalls = []\n\n\ndef spy(*args, **kwargs):\n"
                 f"    calls.append(args)\n    return real(*args, **kwargs)\n\n\n"
                 f"m.{node.name} = spy\ngot = m.{new}([{items}])\nm.{node.name} = real\n"
                 f"assert got == [{', '.join(f'real({s})' for s in samples)}], got\n"
                 f"assert len(calls) == {len(samples)}, 'the helper was not called'")
        where = f"In {module.path}, add" if named else "Add"
        beside = "" if named else f" next to `{node.name}`"
        said = (f"{where} a function `{new}(items)`{beside} that calls the module's "
                f"`{node.name}` on each of the items and returns the results as a list.")
        yield Task("helper" if named else "no-file", module.path, said, module.name,
                   module.import_root, check, named, reference)


def subclass_tasks(module: Module, rng: random.Random) -> Iterator[Task]:
    classes = [n for n in module.tree.body if isinstance(n, ast.ClassDef)
               and n.name in module.members and not n.keywords]
    exceptions = [n for n in classes if n.name in module.exceptions]
    others = [n for n in classes if n.name not in module.exceptions
              and not n.name.startswith("_")]
    for node in exceptions or others:
        prefix = rng.choice(PREFIXES)
        base = node.name.lstrip("_")
        new = f"{prefix}{base[0].upper()}{base[1:]}"
        if not free(module, new):
            continue
        code = prefix.lower()
        reference = module.after(node, f"class {new}({node.name}):\n    code = {code!r}\n",
                                 "\n\n")
        if reference is None:
            continue
        check = (f"assert m.{new} is not m.{node.name} and issubclass(m.{new}, m.{node.name})"
                 f"\nassert m.{new}.code == {code!r}, m.{new}.code")
        if module.exceptions.get(node.name):
            check += (f"\nerror = m.{new}('boom')\n"
                      f"assert isinstance(error, m.{node.name}) and 'boom' in str(error)")
            said = (f"In {module.path}, add an exception class `{new}` that subclasses "
                    f"`{node.name}`, with a class attribute `code` set to {code!r}.")
        else:
            said = (f"In {module.path}, add a class `{new}` that subclasses `{node.name}`, "
                    f"with a class attribute `code` set to {code!r}.")
        yield Task("subclass", module.path, said, module.name, module.import_root, check,
                   True, reference)


def functions_of(module: Module) -> Iterator[tuple[str, ast.FunctionDef]]:
    """(qualified name, node) of the module's undecorated functions and methods, each
    defined once where it stands."""
    def once(body: list[ast.stmt]) -> list[ast.FunctionDef]:
        defs = [n for n in body if isinstance(n, ast.FunctionDef)]
        names = [n.name for n in defs]
        return [n for n in defs if names.count(n.name) == 1 and not n.decorator_list]

    for node in once(module.tree.body):
        yield node.name, node
    for cls in module.tree.body:
        if isinstance(cls, ast.ClassDef) and cls.name in module.members:
            for node in once(cls.body):
                yield f"{cls.name}.{node.name}", node


def literal(value: object, like: str) -> str:
    """`value` written as Python, a string in the quotes of `like` (the literal it
    replaces) where it can be."""
    text = repr(value)
    if isinstance(value, str) and like.startswith('"') and text.startswith("'") \
            and '"' not in value:
        return '"' + text[1:-1] + '"'
    return text


def new_default(value: object) -> object | None:
    """What a default changes to: a flag flipped, a number raised, a separator swapped
    (other strings, such as an encoding, are not asked about)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1 if value < 100 else value * 2
    if isinstance(value, str) and 1 <= len(value) <= 3 and not value.strip(" ,;|/-:\n\t"):
        return next(s for s in SEPARATORS if s != value)
    return None


def default_tasks(module: Module, named: bool, unique: set[str]) -> Iterator[Task]:
    for qual, node in functions_of(module):
        if not named and qual not in unique:
            continue
        args = node.args
        pairs = list(zip(args.args[len(args.args) - len(args.defaults):], args.defaults,
                         strict=True))
        pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
                  if d is not None]
        for arg, default in pairs:
            if not isinstance(default, ast.Constant) or default.end_col_offset is None \
                    or default.lineno != default.end_lineno:
                continue
            new = new_default(default.value)
            if new is None:
                continue
            old = module.lines[default.lineno - 1].encode()[
                default.col_offset:default.end_col_offset].decode()
            reference = module.around(default.lineno, default.col_offset,
                                      default.end_col_offset, literal(new, old))
            if reference is None:
                continue
            where = f"In {module.path}, change" if named else "Change"
            said = (f"{where} the default value of the parameter `{arg.arg}` of `{qual}` "
                    f"from {default.value!r} to {new!r}.")
            check = (f"assert inspect.signature(m.{qual}).parameters[{arg.arg!r}].default "
                     f"== {new!r}")
            yield Task("behaviour" if named else "no-file", module.path, said, module.name,
                       module.import_root, check, named, reference)
            break


def join_tasks(module: Module) -> Iterator[Task]:
    for qual, node in functions_of(module):
        joins = [n for n in ast.walk(node) if isinstance(n, ast.Call)
                 and isinstance(n.func, ast.Attribute) and n.func.attr == "join"
                 and isinstance(n.func.value, ast.Constant)
                 and isinstance(n.func.value.value, str)]
        olds = {n.func.value.value for n in joins}  # type: ignore[attr-defined]
        if len(olds) != 1 or len(joins) != 1:
            continue
        (call,) = joins
        old = olds.pop()
        new = next(s for s in SEPARATORS if s != old)
        value = call.func.value  # type: ignore[attr-defined]
        if value.lineno != value.end_lineno:
            continue
        written = module.lines[value.lineno - 1].encode()[
            value.col_offset:value.end_col_offset].decode()
        reference = module.around(value.lineno, value.col_offset, value.end_col_offset,
                                  literal(new, written))
        if reference is None:
            continue
        said = (f"In {module.path}, make `{qual}` join with {new!r} instead of {old!r}.")
        check = ("tree = ast.parse(textwrap.dedent(inspect.getsource(m."
                 f"{qual})))\nseparators = [n.func.value.value for n in ast.walk(tree) if "
                 "isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and "
                 "n.func.attr == 'join' and isinstance(n.func.value, ast.Constant)]\n"
                 f"assert separators == [{new!r}], separators")
        yield Task("behaviour", module.path, said, module.name, module.import_root,
                   "import ast\n" + check, True, reference)


def method_tasks(module: Module) -> Iterator[Task]:
    for cls in module.tree.body:
        if not isinstance(cls, ast.ClassDef) or cls.name not in module.members \
                or cls.name.startswith("_"):
            continue
        for node in cls.body:
            if not isinstance(node, ast.FunctionDef) or node.decorator_list \
                    or node.name.startswith("_") or not node.args.args \
                    or node.args.args[0].arg != "self":
                continue
            required = len(node.args.args) - 1 - len(node.args.defaults)
            if required not in (0, 1) or node.args.vararg is not None:
                continue
            meth = node.name
            new = f"{meth}_each" if required else f"{meth}_or_none"
            if new in module.members[cls.name] or not free(module, new):
                continue
            found = module.block(node)
            if found is None:
                continue
            _, pad = found
            if required:
                code = (f"def {new}(self, items):\n"
                        f"    return [self.{meth}(item) for item in items]\n")
                said = (f"In {module.path}, add a method `{new}(self, items)` to the class "
                        f"`{cls.name}` that calls `self.{meth}` on each of the items and "
                        "returns the results as a list.")
                check = (f"calls = []\nself = types.SimpleNamespace({meth}=lambda item: "
                         f"calls.append(item) or ('r', item))\n"
                         f"got = m.{cls.name}.__dict__[{new!r}](self, [1, 2])\n"
                         "assert got == [('r', 1), ('r', 2)], got\nassert calls == [1, 2]")
            else:
                code = (f"def {new}(self):\n    try:\n        return self.{meth}()\n"
                        "    except ValueError:\n        return None\n")
                said = (f"In {module.path}, add a method `{new}(self)` to the class "
                        f"`{cls.name}` that returns what `self.{meth}()` returns, or None "
                        "when it raises ValueError.")
                check = (f"method = m.{cls.name}.__dict__[{new!r}]\n"
                         f"assert method(types.SimpleNamespace({meth}=lambda: 'value')) "
                         "== 'value'\n\n\ndef fails():\n    raise ValueError('no')\n\n\n"
                         f"assert method(types.SimpleNamespace({meth}=fails)) is None")
            indented = "".join(pad + line if line.strip() else line
                               for line in code.splitlines(keepends=True))
            reference = module.after(node, indented, "\n")
            if reference is not None:
                yield Task("method", module.path, said, module.name, module.import_root,
                           check, True, reference)
                break


# -- choosing and validating --------------------------------------------------------------

class OwnTests:
    """The project's own tests that a change to a module gets from codectx's checks (the
    test files that import it), run as those checks run them."""

    def __init__(self, root: Path) -> None:
        from codectx import config
        from codectx.assistant.session import Session
        sys.path.insert(0, str(Path(__file__).parents[1]))  # the test suite's model
        from tests.support.fake import FakeBackend, ScriptedProvider

        self.root = root
        with tempfile.TemporaryDirectory() as cache:
            session = Session(root, config.load(root, {"cache_dir": cache}),
                              ScriptedProvider(FakeBackend(context_window=1 << 24)))
            self.files = session.index().files
        self.before: dict[str, bool] = {}

    def tests(self, path: str) -> list[str]:
        from codectx.assistant.checks.detect import importing_tests

        return importing_tests([path], self.files)

    def run(self, path: str) -> bool:
        """Whether the tests of `path` pass on the tree as it is now."""
        tests = self.tests(path)
        if not tests:
            return True
        paths = [str(self.root)] + ([str(self.root / "src")] if (self.root / "src").is_dir()
                                    else [])
        try:
            done = subprocess.run(
                [str(test_python()), "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                 *(f"./{t}" for t in tests)], cwd=self.root, capture_output=True,
                timeout=300, stdin=subprocess.DEVNULL,
                env={"PATH": f"{test_python().parent}:/usr/bin:/bin",
                     "PYTHONPATH": ":".join(paths), "PYTHONDONTWRITEBYTECODE": "1",
                     "HOME": str(self.root)})
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0

    def passed_before(self, path: str) -> bool:
        if path not in self.before:
            self.before[path] = self.run(path)
        return self.before[path]


def valid(root: Path, task: Task, own: OwnTests | None = None) -> tuple[bool, str]:
    """Whether the check fails on the module as it is and passes with the task's right
    edit, and (with `own`) the project's own tests that passed still pass with it, or
    codectx's checks would refuse even the right edit (the file is put back either
    way)."""
    if passes(root, task.module, task.check, task.import_root)[0]:
        return False, "the check passes without the edit"
    assert task.reference is not None
    file = root / task.path
    before = file.read_bytes()
    search, new = task.reference
    text = before.decode()
    if text.count(search) != 1:
        return False, "the right edit's SEARCH is not unique"
    tested = own is not None and own.passed_before(task.path)
    try:
        file.write_text(text.replace(search, new), encoding="utf-8")
        ok, line = passes(root, task.module, task.check, task.import_root)
        if ok and tested and own is not None and not own.run(task.path):
            return False, "the project's own tests fail with the right edit"
    finally:
        file.write_bytes(before)
    return ok, "" if ok else f"the check fails with the right edit: {line}"


def module_tasks(root: Path, paths: list[str], per_kind: int, seed: int,
                 say: Callable[[str], None] | None = None) -> list[Task]:
    """Up to `per_kind` validated tasks of each kind in KINDS, deterministic by seed,
    spread over the modules (a module gives at most one task of a kind)."""
    rng = random.Random(seed)
    own = OwnTests(root)
    modules = [m for m in (probe(root, p) for p in sorted(paths)) if m is not None]
    unique = defined_once(modules)
    order = modules[:]
    rng.shuffle(order)
    pools: dict[str, list[Task]] = {kind: [] for kind in KINDS}
    for i, module in enumerate(order):
        local = random.Random(f"{seed}:{module.path}")
        pools["helper"] += helper_tasks(module, True, unique)
        pools["subclass"] += subclass_tasks(module, local)
        behaviour = [*default_tasks(module, True, unique), *join_tasks(module)]
        turn = i % max(len(behaviour), 1)  # which of them comes first varies by module
        pools["behaviour"] += behaviour[turn:] + behaviour[:turn]
        pools["method"] += method_tasks(module)
        unnamed = [list(helper_tasks(module, False, unique)),
                   list(default_tasks(module, False, unique))]
        pools["no-file"] += unnamed[i % 2] + unnamed[1 - i % 2]
    chosen: list[Task] = []
    checks: set[tuple[str, str]] = set()
    for kind in KINDS:
        used: set[str] = set()  # a module gives one task of a kind
        for task in pools[kind]:
            if len(used) >= per_kind:
                break
            if task.path in used or (task.path, task.check) in checks:
                continue
            ok, why = valid(root, task, own)
            if say is not None:
                say(f"  {kind} {task.path}: {'kept' if ok else 'dropped: ' + why}")
            if ok:
                chosen.append(task)
                used.add(task.path)
                checks.add((task.path, task.check))
    return chosen
