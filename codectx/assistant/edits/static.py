"""A candidate change checked without running any of the repository's code.

What a small model gets wrong in a change that parses is mostly a name: it imports a
module that is not there or a name its module does not define, calls a helper by a
name nothing defines, or imports what it then never uses. All of it shows without
running the code, so it is safe on an untrusted repository and cheap enough to try
every candidate an edit generates:

- every import a Python file's change adds resolves: to the standard library, to a
  module of the repository (and a name taken from such a module is one its text has),
  or to a package some file of the repository already imports;
- ruff's undefined-name (F821) and unused-import (F401) rules, run on the file's text
  before and after with no configuration read (`--isolated`), find nothing the change
  added; where ruff is not installed this part is skipped.

The result is a `CheckResult` named `static`, so that it is shown, sent back to the
model and held against the change as every other check is.
"""

from __future__ import annotations

import json
import posixpath
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codectx.assistant.checks.detect import which
from codectx.assistant.checks.run import CheckResult
from codectx.assistant.edits.plan import EditPlan
from codectx.assistant.edits.selfimport import Statement, added_imports, is_python
from codectx.files import resolves_inside
from codectx.indexer.imports.python import module_index

NAME = "static"
COMMAND = "codectx static check (imports resolve; ruff F821, F401)"
RUFF_RULES = "F821,F401"
RUFF_TIMEOUT_S = 20.0
MAX_LINES = 10
"""Problems reported of one candidate, at most: with the line saying how many more, all
of it within what a front end shows of a check's output (`CheckResult.output_tail`)."""


@dataclass
class Known:
    """What the repository holds, as an import is resolved against it."""

    root: Path
    paths: frozenset[str]
    """The repository's files (those a change creates included)."""
    external: frozenset[str]
    """The top-level packages the repository's files import from outside it."""
    texts: dict[str, str] = field(default_factory=dict)
    """Files as the change leaves them, by path (read from disk when not here)."""
    _modules: dict[str, str] | None = None

    @property
    def modules(self) -> dict[str, str]:
        """Every dotted name a Python file of the repository is imported by -> the file."""
        if self._modules is None:
            self._modules = module_index(self.paths)
        return self._modules

    def file(self, base: str) -> str | None:
        for candidate in (f"{base}.py", f"{base}/__init__.py", f"{base}.pyi"):
            if candidate in self.paths:
                return candidate
        return None

    def text(self, path: str) -> str:
        if path not in self.texts:
            target = self.root / path
            ok = target.is_file() and resolves_inside(self.root, target)
            self.texts[path] = (target.read_text(encoding="utf-8", errors="replace")
                                if ok else "")
        return self.texts[path]

    def has(self, module: str, name: str) -> bool:
        """Whether the repository's `module` file may provide `name` (`provides`)."""
        return provides(self.text(module), name)


def provides(text: str, name: str) -> bool:
    """Whether a module's text may provide `name`: a word of it, or anything at all where
    it imports `*` or defines a module `__getattr__`."""
    if re.search(r"^\s*from\s+\S+\s+import\s+\*|^def __getattr__\b", text, re.MULTILINE):
        return True
    return re.search(rf"\b{re.escape(name)}\b", text) is not None


def _outside(top: str, known: Known) -> bool:
    """Whether a top-level module is one from outside the repository that may be there."""
    return (top in sys.stdlib_module_names or top == "__future__"
            or top in known.external)


def _names_from(module: str, dotted: str, statement: Statement, known: Known) -> list[str]:
    """Names a `from` import takes from the repository's `module` (spelled `dotted`) that
    it does not have and that are not its submodules."""
    package = posixpath.dirname(module) if module.endswith("/__init__.py") else None
    missing = []
    for imported in statement.names:
        if package is not None and known.file(posixpath.join(package, imported.name)):
            continue  # a package's submodule
        if not known.has(module, imported.name):
            missing.append(f"`{imported.name}` is not defined in {dotted} ({module})")
    return missing


def unresolved(path: str, statement: Statement, known: Known) -> list[str]:
    """Why `statement`, in the Python file at `path`, does not resolve (empty: it does)."""
    if statement.level:
        base = posixpath.normpath(posixpath.join(
            posixpath.dirname(path), *([".."] * (statement.level - 1))))
        spec = statement.source.lstrip(".")
        where = posixpath.join(base, *spec.split(".")) if spec else base
        module = known.file(where)
        if spec and module is None:
            return [f"no module {statement.source} next to {path}"]
        if module is None or statement.star:
            return []
        return _names_from(module, statement.source, statement, known)
    dotted = [statement.source] if statement.source else [n.name for n in statement.names]
    problems = []
    for name in dotted:
        top = name.split(".", 1)[0]
        module = known.modules.get(name)
        if module is None:  # a script's neighbour
            module = known.file(posixpath.join(posixpath.dirname(path), *name.split(".")))
        if module is not None:
            if statement.source and not statement.star:
                problems += _names_from(module, name, statement, known)
        elif top in known.modules:
            problems.append(f"no module {name} in the repository (its package {top} is)")
        elif not _outside(top, known):
            problems.append(f"no module {top}: not in the standard library, the repository, "
                            "or what its files import")
    return problems


def ruff_program() -> str | None:
    """ruff beside codectx's own Python, else on the PATH's absolute entries."""
    beside = Path(sys.executable).parent / "ruff"
    return str(beside) if beside.is_file() else which("ruff")


def ruff_json(ruff: str, path: str, text: str, rules: str) -> list[dict[str, Any]] | None:
    """What ruff's `rules` find in `text` as the file at `path`, as ruff's JSON (each with
    its "code", "message" and "location"), with no configuration read and no file
    touched; None when ruff could not say."""
    try:
        done = subprocess.run(
            [ruff, "check", "--isolated", "--no-cache", "--select", rules,
             "--output-format", "json", "--stdin-filename", path, "-"],
            input=text.encode("utf-8", "replace"), capture_output=True,
            timeout=RUFF_TIMEOUT_S, cwd="/", check=False)
        found = json.loads(done.stdout or b"[]")
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None
    if done.returncode not in (0, 1) or not isinstance(found, list):
        return None
    return [f for f in found if isinstance(f, dict)]


def ruff_findings(ruff: str, path: str, text: str) -> Counter[tuple[str, str]] | None:
    """ruff's F821 and F401 findings in `text` as the file at `path`, by (rule, message);
    None when ruff could not say."""
    found = ruff_json(ruff, path, text, RUFF_RULES)
    if found is None:
        return None
    return Counter((str(f.get("code")), str(f.get("message"))) for f in found)


def _ruff_added(ruff: str, path: str, before: str | None, after: str,
                imported: set[str]) -> list[str]:
    """ruff's findings the change adds; of the unused imports, only those of the imports
    it adds (`imported`: what they bind), since one it leaves unused is harmless."""
    now = ruff_findings(ruff, path, after)
    if not now:
        return []
    had = ruff_findings(ruff, path, before) if before is not None else Counter()
    added = now - (had or Counter())
    return [f"{path}: {code} {message}" for (code, message) in sorted(added)
            if code != "F401" or _quoted_name(message) in imported]


def _quoted_name(message: str) -> str:
    found = re.search(r"`([^`]+)`", message)
    return found.group(1) if found else ""


def problems(plan: EditPlan, known: Known, ruff: str | None) -> list[str]:
    """What is wrong with the Python files of a planned change, without running them."""
    found: list[str] = []
    for change in plan.changes:
        if change.after is None or not is_python(change.path):
            continue
        added = added_imports(change.before, change.after)
        for statement in added:
            found += [f"{change.path}: {p}" for p in unresolved(change.path, statement, known)]
        if ruff is not None:
            imported = {name for s in added for n in s.names
                        for name in (n.name, n.bound, f"{s.source}.{n.name}")}
            found += _ruff_added(ruff, change.path, change.before, change.after, imported)
    # What breaks the module first (an import that fails, a name nothing defines), then
    # the imports left unused.
    return sorted(dict.fromkeys(found), key=lambda p: ": F401 " in p)


def known_for(plan: EditPlan, root: Path, paths: Iterable[str],
              external: Iterable[str]) -> Known:
    """The repository as a planned change leaves it: `paths` its files, `external` the
    modules its files import from outside (dotted or relative, as the index keeps them)."""
    files = set(paths)
    texts = {}
    for change in plan.changes:
        if change.after is None:
            files.discard(change.path)
        else:
            files.add(change.path)
            texts[change.path] = change.after
    tops = {spec.split(".", 1)[0] for spec in external if spec and not spec.startswith(".")}
    return Known(root, frozenset(files), frozenset(tops), texts)


def static_check(plan: EditPlan, known: Known, attempt: int,
                 ruff: str | None) -> CheckResult | None:
    """The static check of a planned change (None: it holds no Python file)."""
    if not any(c.after is not None and is_python(c.path) for c in plan.changes):
        return None
    started = time.perf_counter()
    found = problems(plan, known, ruff)
    shown: Sequence[str] = found[:MAX_LINES]
    more = len(found) - len(shown)
    output = "\n".join([*shown, *([f"... and {more} more"] if more > 0 else [])])
    return CheckResult(NAME, COMMAND, "failed" if found else "passed",
                       time.perf_counter() - started, output, attempt)
