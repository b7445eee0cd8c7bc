"""Which checks run on a change here: the user's `check` setting, else what is detected.

Detection uses only tools installed on this machine, found on absolute PATH entries
(never a program the repository ships, nor a version manager's shim, which reads the
repository's `.python-version` to choose what runs):
- Python: `python -m py_compile` on the changed files (isolated, so no module of the
  repository's can stand in for the standard library's); `ruff check` when the project
  configures ruff (with ruff's defaults instead when a ruff configuration on the way
  reaches outside the repository: `extend`, `output-file` or `cache-dir` there would
  read or write the user's other files); pytest on the tests that import a changed
  module (through the index's dependency graph) when the interpreter has pytest.
- JavaScript: `node --check` on each changed script; the package's `test` script.
- Go: `go vet` and `go test` on the changed packages, offline (no toolchain or module
  download, no go.work from elsewhere; vet waits for trust where go.mod replaces a
  module with a directory outside the repository). Rust: `cargo check`.

Changed paths reach a program as `./path`, so that none is read as an option.

Some of these run the project's own code (its tests and `conftest.py`, a package's
test script, `go test`, a crate's build script and macros). A repository the user has
not trusted must not run code on their machine by being opened, so there those are
held back, and said to be; the rest only read the files.
"""

from __future__ import annotations

import functools
import json
import os
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from codectx.files import resolves_inside
from codectx.indexer.languages import language_of
from codectx.indexer.result import IndexedFile

MAX_TESTS = 20
"""Test files run for one change, at most (the closest importers first)."""
NPM_DEFAULT_TEST = "no test specified"


@dataclass(frozen=True)
class Check:
    name: str
    """What it is, short: "py_compile", "pytest", "check (user config ...)"."""
    argv: tuple[str, ...]
    runs_project_code: bool
    """Whether it executes the repository's code (held back where that is not trusted)."""
    env: tuple[tuple[str, str], ...] = ()
    """Variables the check runs with, over the user's environment."""

    @property
    def command(self) -> str:
        if self.argv[:2] == ("/bin/sh", "-c"):
            return self.argv[2]
        return shlex.join(self.argv)


@dataclass(frozen=True)
class CheckSet:
    """The checks for one change: those that run, and those held back."""

    checks: tuple[Check, ...] = ()
    held_back: tuple[Check, ...] = ()

    def notice(self, root: Path) -> str | None:
        """One line saying what was held back and how to run it, or None."""
        if not self.held_back:
            return None
        names = ", ".join(c.name for c in self.held_back)
        return (f"not run: {names} (they run the repository's own code, and you have not "
                f"trusted it; `codectx trust {root}` allows them)")


def which(name: str) -> str | None:
    """A program on the PATH's absolute entries: a relative entry would be the repository's."""
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if os.path.isabs(p))
    return shutil.which(name, path=path)


def _is_script(path: str) -> bool:
    try:
        with open(os.path.realpath(path), "rb") as fh:
            return fh.read(2) == b"#!"
    except OSError:
        return True


def python() -> str:
    """The Python the user runs (an activated virtual environment's), unless it is a
    script: pyenv's, asdf's and mise's shims are, and they pick the interpreter from the
    repository's files. Then the one codectx runs under."""
    found = which("python3") or which("python")
    return found if found and not _is_script(found) else sys.executable


GO_OFFLINE = (("GOTOOLCHAIN", "local"), ("GOPROXY", "off"), ("GOFLAGS", "-mod=mod"),
              ("GOWORK", "off"), ("GOTELEMETRY", "off"))
"""Go without the network: no toolchain a go.mod names, no module download, no
workspace file naming directories outside the repository."""
RUFF_REACHING = ("extend", "output-file", "cache-dir")
"""Ruff settings that name a file to read or write."""


def _arg(path: str) -> str:
    """A repository path as a program's argument that no program reads as an option."""
    return path if path.startswith("./") else f"./{path}"


@functools.lru_cache(maxsize=8)
def _has_module(interpreter: str, module: str) -> bool:
    """Whether the interpreter can import `module`, asked from outside any repository."""
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    try:
        done = subprocess.run([interpreter, "-c", probe], cwd="/", capture_output=True,
                              timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _ruff_table(root: Path, rel: str) -> dict[str, object] | None:
    """The ruff settings of the config file at `rel`, or None when it is not one (or
    leads out of the repository, which is not read)."""
    path = root / rel
    if not resolves_inside(root, rel) or not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if path.name != "pyproject.toml":
        return data
    tool = data.get("tool")
    ruff = tool.get("ruff") if isinstance(tool, dict) else None
    return ruff if isinstance(ruff, dict) else None


def _configures_ruff(root: Path) -> bool:
    return any(_ruff_table(root, name) is not None
               for name in (".ruff.toml", "ruff.toml", "pyproject.toml"))


def _reaches_outside(root: Path, rel: str, value: object) -> bool:
    if not isinstance(value, str):
        return False
    target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), value))
    return (os.path.isabs(os.path.expanduser(value)) or target == ".."
            or target.startswith("../") or not resolves_inside(root, target))


def ruff_reaches_outside(root: Path, paths: Sequence[str]) -> bool:
    """Whether a ruff configuration that ruff would read for these files (every config
    from each file's directory up to the root, and what they `extend` inside) names a
    file outside the repository, or is itself a link out."""
    seen: set[str] = set()
    todo: list[str] = []
    for path in paths:
        parent = posixpath.dirname(path)
        while True:
            todo += [posixpath.join(parent, n) if parent else n
                     for n in (".ruff.toml", "ruff.toml", "pyproject.toml")]
            if not parent:
                break
            parent = posixpath.dirname(parent)
    while todo:
        rel = posixpath.normpath(todo.pop())
        if rel in seen:
            continue
        seen.add(rel)
        if os.path.lexists(root / rel) and not resolves_inside(root, rel):
            return True
        table = _ruff_table(root, rel)
        if table is None:
            continue
        if any(_reaches_outside(root, rel, table.get(key)) for key in RUFF_REACHING):
            return True
        if isinstance(table.get("extend"), str):
            todo.append(posixpath.join(posixpath.dirname(rel), str(table["extend"])))
    return False


def importing_tests(paths: Sequence[str], files: Sequence[IndexedFile]) -> list[str]:
    """The test files that import a changed module, and changed files that are tests."""
    changed = set(paths)
    tests = [f.path for f in files if f.kind == "test" and f.language == "python"
             and (f.path in changed or changed.intersection(f.imports))]
    return sorted(tests)[:MAX_TESTS]


def _python_checks(root: Path, paths: list[str], tests: list[str]) -> list[Check]:
    interpreter = python()
    args = [_arg(p) for p in paths]
    # -I: the repository's directory is not on the path, so `py_compile` is the standard one.
    found = [Check("py_compile", (interpreter, "-I", "-m", "py_compile", *args), False)]
    ruff = which("ruff")
    if ruff and _configures_ruff(root):
        if ruff_reaches_outside(root, paths):
            found.append(Check("ruff (its defaults: the project's ruff config names a file "
                               "outside the repository)",
                               (ruff, "check", "--isolated", "--no-cache", "--quiet", *args),
                               False))
        else:
            found.append(Check("ruff", (ruff, "check", "--no-cache", "--quiet", *args), False))
    if tests and _has_module(interpreter, "pytest"):
        found.append(Check("pytest", (interpreter, "-m", "pytest", "-q", "-x",
                                      "-p", "no:cacheprovider", *map(_arg, tests)), True))
    return found


def _test_script(root: Path) -> str | None:
    try:
        data = json.loads((root / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    scripts = data.get("scripts") if isinstance(data, dict) else None
    script = scripts.get("test") if isinstance(scripts, dict) else None
    return script if isinstance(script, str) and NPM_DEFAULT_TEST not in script else None


def _js_checks(root: Path, paths: list[str]) -> list[Check]:
    node, npm = which("node"), which("npm")
    found = [Check(f"node --check {p}", (node, "--check", _arg(p)), False)
             for p in paths if node and PurePosixPath(p).suffix in (".js", ".mjs", ".cjs")]
    if npm and _test_script(root):
        found.append(Check("npm test", (npm, "test", "--silent"), True))
    return found


def go_replaces_outside(root: Path) -> bool:
    """Whether go.mod replaces a module with a directory outside the repository (which
    `go vet` would then read)."""
    try:
        text = (root / "go.mod").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    for target in re.findall(r"=>\s*(\S+)", text):
        local = target.startswith((".", "/")) or os.path.isabs(target)
        if local and (os.path.isabs(target) or not resolves_inside(root, target)):
            return True
    return False


def _go_checks(root: Path, paths: list[str]) -> list[Check]:
    go = which("go")
    if not go or not (root / "go.mod").is_file():
        return []
    packages = sorted({"./" + str(PurePosixPath(p).parent) for p in paths})
    packages = ["." if p == "./." else p for p in packages]
    # A replacement outside is read by vet: that waits for trust, as running code does.
    return [Check("go vet", (go, "vet", *packages), go_replaces_outside(root), GO_OFFLINE),
            Check("go test", (go, "test", *packages), True, GO_OFFLINE)]


def _rust_checks(root: Path) -> list[Check]:
    cargo = which("cargo")
    if not cargo or not (root / "Cargo.toml").is_file():
        return []
    return [Check("cargo check", (cargo, "check", "--quiet"), True)]


def detected(root: Path, paths: Sequence[str], files: Sequence[IndexedFile]) -> list[Check]:
    """What detection finds for these changed paths, every language's checks in turn."""
    by_language = _by_language(paths)
    found: list[Check] = []
    if "python" in by_language:
        changed = by_language["python"]
        found += _python_checks(root, changed, importing_tests(changed, files))
    scripts = by_language.get("javascript", []) + by_language.get("typescript", []) \
        + by_language.get("tsx", [])
    if scripts:
        found += _js_checks(root, scripts)
    if "go" in by_language:
        found += _go_checks(root, by_language["go"])
    if "rust" in by_language:
        found += _rust_checks(root)
    return found


def _by_language(paths: Sequence[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for path in paths:
        grouped.setdefault(language_of(path), []).append(path)
    return grouped


def _configured(command: str, paths: Sequence[str], origin: str) -> Check | None:
    if not command.strip():
        return None
    text = command.replace("{files}", shlex.join(paths))
    return Check(f"check ({origin})", ("/bin/sh", "-c", text), True)


def checks_for(root: Path, paths: Sequence[str], files: Sequence[IndexedFile], *,
               setting: str | Mapping[str, str] | None, origin: str,
               trusted: bool) -> CheckSet:
    """The checks for a change to `paths`. `setting` is the `check` setting as loaded (a
    repository's own is there only once the user trusted it) and `origin` where it came
    from; `trusted`: whether detected checks may run the repository's code."""
    paths = sorted(set(paths))
    if isinstance(setting, str):
        one = _configured(setting, paths, origin)
        return CheckSet((one,) if one else ())
    chosen: list[Check] = []
    left: list[str] = []
    for language, group in _by_language(paths).items():
        if setting is not None and language in setting:
            one = _configured(setting[language], group, origin)
            chosen += [one] if one else []
        else:
            left += group
    found = detected(root, left, files) if left else []
    held = tuple(c for c in found if c.runs_project_code and not trusted)
    return CheckSet((*chosen, *(c for c in found if c not in held)), held)


def overview(root: Path, languages: Sequence[str], *, setting: str | Mapping[str, str] | None,
             origin: str, trusted: bool) -> list[tuple[str, str]]:
    """What a change in each of these languages would get here, as (language, line), with
    FILES for the changed files and TESTS for the tests that import them."""
    rows: list[tuple[str, str]] = []
    for language in languages:
        if isinstance(setting, str) or (setting is not None and language in setting):
            command = setting if isinstance(setting, str) else setting[language]
            rows.append((language, f"{command or '(nothing)'}  [check, from {origin}]"))
            continue
        found: list[Check] = []
        if language == "python":
            found = _python_checks(root, ["FILES"], ["TESTS"])
        elif language in ("javascript", "typescript", "tsx"):
            found = _js_checks(root, ["FILE.js"] if language == "javascript" else [])
        elif language == "go":
            found = _go_checks(root, ["PACKAGE/x.go"])
        elif language == "rust":
            found = _rust_checks(root)
        for check in found:
            held = check.runs_project_code and not trusted
            rows.append((language, check.command + ("  [held back: runs the repository's "
                                                    "code, which you have not trusted]"
                                                    if held else "")))
        if not found:
            rows.append((language, "(nothing detected: set `check` to choose a command)"))
    return rows
