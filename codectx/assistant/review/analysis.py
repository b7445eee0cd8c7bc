"""What a change breaks that analysis finds without the model, on the change only.

A reviewer bot runs the analyzers a project would run on the files as they were and as
the change leaves them, and reports only what the change adds, on its lines. Here, for
Python:

- ruff's correctness rules (pyflakes, bugbear, pylint's errors), run with no
  configuration read (`--isolated`, the text through stdin), so a repository chooses
  neither what runs nor what is read; a finding counts when the file as changed has
  more of it than the file had, and it lands on or next to a changed line;
- attributes that do not exist: on a changed line, `module.name` where `module` is
  imported from the standard library (its source is read, never imported) or is a
  module of the repository, and `name` appears nowhere in that module's text; and a
  string literal's method that `str` does not have (`", ".jion(items)`).

Each finding says what found it (`found_by`: "ruff F821", "attributes"). An analyzer
that is missing or fails is named in one line, and the review goes on without it.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import sysconfig
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from codectx.assistant.edits.selfimport import is_python, top_imports
from codectx.assistant.edits.static import provides, ruff_json, ruff_program
from codectx.assistant.review.change import Change, ChangedFile
from codectx.assistant.review.findings import Finding, Severity
from codectx.assistant.review.syntax import Versions, code_versions, syntax_findings
from codectx.indexer.imports.python import module_index

RUFF_RULES = "F,B,PLE"
QUIET = frozenset({"B008", "B028", "B904", "B905"})
"""Rules left out: matters of style a harmless change trips as often as a buggy one."""
ERRORS = ("F821", "F822", "F823", "F632", "F811", "PLE")
"""Rules (or their prefixes) whose findings are errors; the others are warnings."""
RULE_CODE = re.compile(r"^[A-Z]+[0-9]+$")
NEAR = 1
"""Lines either side of a changed line a finding may land on."""


def near_change(line: int, changed: set[int]) -> bool:
    """Whether a finding at `line` lands on or next to a changed line (within NEAR)."""
    return any(abs(line - n) <= NEAR for n in changed)


def _severity(code: str) -> Severity:
    return "error" if code.startswith(ERRORS) else "warning"


def ruff_added(ruff: str, changed: ChangedFile, before: str | None,
               after: str) -> list[Finding] | None:
    """ruff's findings the change adds to one file, on its lines (None: ruff failed)."""
    now = ruff_json(ruff, changed.path, after, RUFF_RULES)
    had = ruff_json(ruff, changed.path, before, RUFF_RULES) if before is not None else []
    if now is None or had is None:
        return None
    if any(not RULE_CODE.match(str(f.get("code"))) for f in now):
        return []  # it does not parse: the parse check says where, and the rest is noise
    extra = Counter(_key(f) for f in now) - Counter(_key(f) for f in had)
    lines = changed.changed
    found = []
    for finding in sorted(now, key=_row):
        key = _key(finding)
        code = key[0]
        if code in QUIET or extra[key] <= 0 or not near_change(_row(finding), lines):
            continue
        extra[key] -= 1
        found.append(Finding(changed.path, _row(finding), _severity(code),
                             f"{key[1]} ({code})", found_by=f"ruff {code}"))
    return found


def _key(finding: dict[str, object]) -> tuple[str, str]:
    return str(finding.get("code")), str(finding.get("message"))


def _row(finding: dict[str, object]) -> int:
    location = finding.get("location")
    row = location.get("row") if isinstance(location, dict) else None
    return row if isinstance(row, int) else 0


# -- attributes that do not exist -----------------------------------------------------

@cache
def _stdlib_dirs() -> tuple[Path, ...]:
    paths = sysconfig.get_paths()
    return tuple(Path(paths[k]).resolve() for k in ("stdlib", "platstdlib") if k in paths)


@dataclass(frozen=True)
class Module:
    """A module an attribute is looked up on."""

    where: str
    text: str
    children: frozenset[str] = frozenset()
    """Its submodules, where it is a package (an attribute once they are imported)."""


@cache
def stdlib_module(name: str) -> Module | None:
    """The standard library's top-level module `name`, its source read without importing
    it; None where it is not pure Python in the standard library's directories (a module
    the repository or an installed package shadows it with is never read)."""
    if name not in sys.stdlib_module_names:
        return None
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    origin = Path(spec.origin).resolve()
    if not any(origin.is_relative_to(d) for d in _stdlib_dirs()):
        return None
    try:
        text = origin.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    children: frozenset[str] = frozenset()
    if origin.name == "__init__.py":
        children = frozenset(p.stem for p in origin.parent.iterdir()
                             if p.suffix == ".py" or (p / "__init__.py").is_file())
    return Module(f"the standard library's {name}", text, children)


STR_METHODS = frozenset(dir(str))


def attribute_findings(changed: ChangedFile, after: str,
                       module_text: Callable[[str], Module | None],
                       ) -> list[Finding]:
    """`module.name` and `"literal".name` on the changed lines of a Python file where
    `name` does not exist. `module_text(dotted)`: the module imported as `dotted` (None:
    not known here)."""
    from tree_sitter import Parser

    from codectx.indexer.languages import grammar

    modules: dict[str, str] = {}  # the name bound -> the module it is
    for statement in top_imports(after):
        if statement.star or statement.level:
            continue
        for imported in statement.names:
            if statement.source:  # `from pkg import module`: only where it is a module
                modules[imported.bound] = f"{statement.source}.{imported.name}"
            elif imported.bound == imported.name.split(".")[0]:
                modules[imported.bound] = imported.bound
            elif "." not in imported.bound:
                modules[imported.bound] = imported.name
    lines = changed.changed
    found: list[Finding] = []
    tree = Parser(grammar("python")).parse(after.encode("utf-8", "replace"))
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.type != "attribute":
            continue
        target, name = node.child_by_field_name("object"), node.child_by_field_name("attribute")
        line = node.start_point[0] + 1
        if target is None or name is None or line not in lines:
            continue
        attr = (name.text or b"").decode("utf-8", "replace")
        if target.type == "string" and attr not in STR_METHODS:
            found.append(Finding(changed.path, line, "error", f"str has no attribute `{attr}`",
                                 found_by="attributes"))
        elif target.type == "identifier":
            module = modules.get((target.text or b"").decode("utf-8", "replace"))
            source = module_text(module) if module else None
            if (source is not None and attr not in source.children
                    and not provides(source.text, attr)):
                found.append(Finding(changed.path, line, "error",
                                     f"module {module} ({source.where}) has no attribute "
                                     f"`{attr}`", found_by="attributes"))
    return sorted(found, key=lambda f: f.line or 0)


def modules_of(root: Path, paths: Iterable[str],
               read: Callable[[str], str | None]) -> Callable[[str], Module | None]:
    """A dotted module: the repository's (`paths`, read with `read`), else the standard
    library's."""
    index = module_index(frozenset(p for p in paths if p.endswith((".py", ".pyi"))))

    def module(dotted: str) -> Module | None:
        path = index.get(dotted)
        if path is not None:
            found = read(path)
            children = frozenset(n[len(dotted) + 1:] for n in index
                                 if n.startswith(f"{dotted}.") and "." not in n[len(dotted) + 1:])
            return Module(path, found, children) if found is not None else None
        return stdlib_module(dotted) if "." not in dotted else None

    return module


def analysis_findings(root: Path, change: Change, paths: Iterable[str],
                      read: Callable[[str], str | None], code: Versions | None = None,
                      ) -> tuple[list[Finding], list[str]]:
    """What analysis finds the change adds, and a line for each analyzer that could not
    run. `paths`: the repository's files in the change's version; `read`: their text;
    `code`: the change's `code_versions`, when already read."""
    if code is None:
        code = code_versions(root, change)
    files = [v for v in code if is_python(v[0].path)]
    if not files:
        return [], []
    notes: list[str] = []
    found: list[Finding] = []
    ruff = ruff_program()
    if ruff is None:
        notes.append("ruff is not installed: its rules were not run on the change")
    modules = modules_of(root, paths, read)
    for changed, before, after in files:
        if ruff is not None:
            added = ruff_added(ruff, changed, before, after)
            if added is None:
                notes.append(f"ruff could not check {changed.path}")
            else:
                found += added
        found += attribute_findings(changed, after, modules)
    return found, list(dict.fromkeys(notes))


def repository_files(root: Path, change: Change) -> tuple[list[str], Callable[[str], str | None]]:
    """The repository's files in the change's version (git's tree for a staged change or
    a range, else what git lists in the work tree), and a reader of their text that
    reads nothing outside the repository, through no link."""
    from codectx.assistant.edits.paths import ReadRefused, readable_path
    from codectx.gitsafe import run_git
    from codectx.indexer.gittree import list_tree

    if change.tree is not None:
        paths = [e.path for e in list_tree(root, change.tree)]
    else:
        listed = run_git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard",
                         check=False).stdout
        paths = [p for p in listed.decode("utf-8", "replace").split("\0") if p]

    def read(path: str) -> str | None:
        try:
            safe = root / readable_path(root, path, path)
        except ReadRefused:
            return None
        if safe.is_symlink() or not safe.is_file():
            return None
        return safe.read_text(encoding="utf-8", errors="replace")

    return paths, read


def analysed(root: Path, change: Change, paths: Iterable[str],
             read: Callable[[str], str | None], *, trusted: bool = False,
             builds: Path | None = None, code: Versions | None = None,
             ) -> tuple[list[Finding], list[str]]:
    """Everything found without the model: files the change leaves unparseable, then
    what the analyzers find it adds (the project's checkers, `projects.py`, where
    installed: `trusted` for those that run what the repository chooses, `builds` for
    their kept copy); and a line for each analyzer that could not run. `code`: the
    change's `code_versions`, when already read (else read here, once)."""
    from codectx.assistant.review.projects import SUFFIXES, project_findings

    if code is None:
        code = code_versions(root, change)
    found, notes = analysis_findings(root, change, paths, read, code)
    projects = [v for v in code if v[0].path.endswith(SUFFIXES)]
    if projects:
        more, also = project_findings(root, projects, trusted, builds)
        found, notes = [*found, *more], [*notes, *also]
    return [*syntax_findings(root, change, code), *found], notes
