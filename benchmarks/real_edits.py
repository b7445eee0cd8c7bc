"""Seeded edits on a real project for bench_real: what to ask, and how to check it.

Three kinds, on Python modules of the project's own package that import before the
edit (with the packages installed here):
- add a function (a small, fully specified one), checked by calling it;
- add a method to a public top-level class, checked by calling it on a stand-in self;
- change the value of a module-level integer constant, checked by reading it.
Each check imports the edited module in a fresh interpreter, so the edited file must
also parse and import. "Outside the task" is any other path that git sees changed.
"""

from __future__ import annotations

import ast
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

FUNCTIONS = [
    ("add a function `{name}(text)` that returns text reversed",
     "m.{name}('abc') == 'cba'"),
    ("add a function `{name}(a, b)` that returns the larger of a and b",
     "m.{name}(2, 5) == 5 and m.{name}(7, 3) == 7"),
    ("add a function `{name}(values)` that returns the sum of the squares of values",
     "m.{name}([1, 2, 3]) == 14"),
]
WORDS = ["alpha", "beta", "gamma", "delta", "omega", "sigma"]


@dataclass(frozen=True)
class Task:
    kind: str
    path: str
    instruction: str
    module: str
    import_root: Path
    check: str
    """A Python expression over the imported module `m` that is true when the edit is right,
    or statements over `m` that raise when it is wrong."""
    named: bool = True
    """Whether the file is given (`--files`); when not, the instruction names no file."""
    reference: tuple[str, str] | None = None
    """A right edit, as the SEARCH and REPLACE text of one block on `path`, where known."""


def module_name(root: Path, path: str) -> tuple[Path, str] | None:
    """The import root and dotted name of a module inside a package, else None."""
    file = root / path
    parts = [file.stem]
    folder = file.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    if len(parts) < 2:
        return None
    if parts[-1] == "__init__":
        parts.pop()
    return folder, ".".join(parts)


def is_expression(check: str) -> bool:
    try:
        ast.parse(check, mode="eval")
    except SyntaxError:
        return False
    return True


def passes(root: Path, module: str, check: str, import_root: Path) -> tuple[bool, str]:
    """Import `module` from `import_root` in a fresh interpreter and evaluate `check` (an
    expression that must be true, or statements that must not raise)."""
    code = ("import importlib, inspect, textwrap, types\n"
            f"m = importlib.import_module({module!r})\n"
            + (f"assert {check}, 'the check is false'\n" if is_expression(check)
               else check + "\n"))
    try:
        proc = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                              text=True, timeout=120,
                              env={"PYTHONPATH": str(import_root.resolve()),
                                   "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"})
    except subprocess.TimeoutExpired:
        return False, "the check timed out"
    tail = (proc.stderr.strip().splitlines() or [""])[-1]
    return proc.returncode == 0, tail


def tasks(root: Path, paths: list[str], n: int, seed: int) -> list[Task]:
    """`n` seeded tasks, the kinds in turn (a kind with nothing to do gives way)."""
    rng = random.Random(seed)
    pool = sorted(paths)
    rng.shuffle(pool)
    functions: list[Task] = []
    methods: list[Task] = []
    values: list[Task] = []
    for path in pool:
        if len(functions) >= n and len(methods) >= n and len(values) >= n:
            break
        found = module_name(root, path)
        if found is None:
            continue
        import_root, module = found
        if not passes(root, module, "True", import_root)[0]:
            continue  # does not import here (a dependency, settings)
        tree = ast.parse((root / path).read_bytes())
        where = f"In {path}, "
        word = WORDS[len(functions) % len(WORDS)]
        said, check = FUNCTIONS[len(functions) % len(FUNCTIONS)]
        name = f"bench_{word}"
        functions.append(Task("function", path, where + said.format(name=name) + ".", module,
                              import_root, check.format(name=name)))
        classes = [c.name for c in tree.body if isinstance(c, ast.ClassDef)
                   and not c.name.startswith("_")]
        if classes:
            cls = rng.choice(sorted(classes))
            methods.append(Task(
                "method", path, f"{where}add a method `bench_answer(self)` to the class "
                f"`{cls}` that returns the integer 42.", module, import_root,
                f"m.{cls}.__dict__['bench_answer'](types.SimpleNamespace()) == 42"))
        ints = [node.targets[0].id for node in tree.body
                if isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Constant) and type(node.value.value) is int]
        if ints:
            const = rng.choice(sorted(ints))
            values.append(Task("value", path, f"{where}change the value of the constant "
                                              f"`{const}` to 987654.", module, import_root,
                               f"m.{const} == 987654"))
    chosen: list[Task] = []
    kinds = [functions, methods, values]
    while len(chosen) < n and any(kinds):
        for kind in kinds:
            if kind and len(chosen) < n:
                chosen.append(kind.pop(0))
    return chosen


def changed_paths(root: Path) -> list[str]:
    out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=root,
                         capture_output=True, text=True, check=True).stdout
    return sorted(line[3:] for line in out.splitlines() if line.strip())


def reset(root: Path) -> None:
    subprocess.run(["git", "checkout", "-q", "--", "."], cwd=root, check=True)
    subprocess.run(["git", "clean", "-qfd"], cwd=root, check=True)
