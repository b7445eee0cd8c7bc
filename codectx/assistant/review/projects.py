"""A language's own checker on the whole project, for a review: cargo check, go vet, tsc.

These need the project, not one file, so they run in the checks' private copy of the
repository (`checks/scratch.py`, the user's tree untouched) with the change's files laid
over it, once as the change leaves them and once as they were; a diagnostic counts when
the change adds it, on or next to a changed line (as ruff's do, `analysis.py`).

- `cargo check --offline`: build scripts and procedural macros are the repository's
  code, and a `.cargo/config.toml` can name any program as the compiler, so it runs
  only in a repository the user trusts;
- `go vet` with no network and no toolchain download; held back as well where go.mod
  replaces a module with a directory outside the repository (vet would read it);
- `tsc --noEmit`, the TypeScript compiler on the PATH (never the repository's own
  `node_modules/.bin`), where tsconfig.json is at the top and reaches nothing outside.

A checker that is not installed is not mentioned; one held back, failing to start or
timing out is named in one line, and the review goes on without it. The repository's
configuration never chooses which runs or with what arguments.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from codectx.assistant.checks.detect import GO_OFFLINE, Check, go_replaces_outside, which
from codectx.assistant.checks.run import run_check
from codectx.assistant.checks.scratch import scratch_copy
from codectx.assistant.review.analysis import near_change
from codectx.assistant.review.change import ChangedFile
from codectx.assistant.review.findings import Finding, Severity
from codectx.files import resolves_inside

TIMEOUT_S = 120.0
"""Seconds one checker may take, on one version of the files."""
CARGO_OFFLINE = (("CARGO_NET_OFFLINE", "true"), ("RUSTUP_AUTO_INSTALL", "0"))
"""cargo without the network, and rustup installing no toolchain a repository names."""
RUST, GO, TYPESCRIPT = (".rs",), (".go",), (".ts", ".tsx")
SUFFIXES = RUST + GO + TYPESCRIPT
"""The files some checker here is about."""


@dataclass(frozen=True)
class Diagnostic:
    path: str
    line: int
    severity: Severity
    message: str
    rule: str


@dataclass(frozen=True)
class Checker:
    name: str
    suffixes: tuple[str, ...]
    """The changed files it is about."""
    check: Check
    read: Callable[[str], list[Diagnostic]]
    """Its diagnostics from its output."""


def _cargo(output: str) -> list[Diagnostic]:
    found = []
    for line in output.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        message = item.get("message") if isinstance(item, dict) else None
        if item.get("reason") != "compiler-message" or not isinstance(message, dict):
            continue
        level = message.get("level")
        if level not in ("error", "warning"):
            continue
        code = (message.get("code") or {}).get("code") or level
        for span in message.get("spans") or []:
            if span.get("is_primary") and isinstance(span.get("line_start"), int):
                found.append(Diagnostic(str(span.get("file_name")), span["line_start"],
                                        level, str(message.get("message")), str(code)))
    return found


_GO = re.compile(r"^(?:vet: )?(?P<path>[^\s:][^:]*\.go):(?P<line>\d+)(?::\d+)?: (?P<message>.+)$")
_TSC = re.compile(r"^(?P<path>[^(]+\.tsx?)\((?P<line>\d+),\d+\): (?P<level>error|warning) "
                  r"(?P<code>TS\d+): (?P<message>.+)$")


def _go(output: str) -> list[Diagnostic]:
    found = []
    for line in output.splitlines():
        match = _GO.match(line.strip())
        if match:
            found.append(Diagnostic(match["path"].removeprefix("./"), int(match["line"]),
                                    "warning", match["message"], "vet"))
    return found


def _tsc(output: str) -> list[Diagnostic]:
    found = []
    for line in output.splitlines():
        match = _TSC.match(line.strip())
        if match:
            level: Severity = "error" if match["level"] == "error" else "warning"
            found.append(Diagnostic(match["path"], int(match["line"]), level,
                                    match["message"], match["code"]))
    return found


def _tsconfig_reaches_outside(root: Path) -> bool:
    """Whether tsconfig.json names a path outside the repository (`extends`, `paths`,
    `typeRoots` and the like), which tsc would read."""
    try:
        text = (root / "tsconfig.json").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return True
    for value in re.findall(r'"((?:[^"\\]|\\.)*)"', text):
        absolute = value.startswith(("/", "~", "\\"))
        if absolute or (".." in value.split("/") and not resolves_inside(root, value)):
            return True
    return False


def checkers(root: Path, changed: Sequence[str]) -> list[Checker]:
    """The checkers installed here for this change's files (whether trusted or not)."""
    found: list[Checker] = []
    cargo = which("cargo")
    if cargo and (root / "Cargo.toml").is_file() and any(p.endswith(RUST) for p in changed):
        found.append(Checker("cargo check", RUST, Check(
            "cargo check", (cargo, "check", "--offline", "--message-format=json"), True,
            CARGO_OFFLINE), _cargo))
    go = which("go")
    if go and (root / "go.mod").is_file() and any(p.endswith(GO) for p in changed):
        found.append(Checker("go vet", GO, Check(
            "go vet", (go, "vet", "./..."), go_replaces_outside(root), GO_OFFLINE), _go))
    tsc = which("tsc")
    if tsc and (root / "tsconfig.json").is_file() and any(
            p.endswith(TYPESCRIPT) for p in changed):
        found.append(Checker("tsc", TYPESCRIPT, Check(
            "tsc", (tsc, "--noEmit", "--pretty", "false", "-p", "tsconfig.json"),
            _tsconfig_reaches_outside(root)), _tsc))
    return found


def project_findings(root: Path, files: Sequence[tuple[ChangedFile, str | None, str]],
                     trusted: bool, builds: Path | None) -> tuple[list[Finding], list[str]]:
    """What the installed checkers find the change adds to `files` (each with its text
    before and after), and a line for each that was held back or could not run."""
    paths = [changed.path for changed, _, _ in files]
    found: list[Finding] = []
    notes: list[str] = []
    for checker in checkers(root, paths):
        if checker.check.runs_project_code and not trusted:
            notes.append(f"{checker.name} was not run: it would run or read what the "
                         f"repository chooses, and you have not trusted it (`codectx trust "
                         f"{root}` allows it)")
            continue
        mine = [(c, b, a) for c, b, a in files if c.path.endswith(checker.suffixes)]
        added, problem = _added(root, checker, mine, builds)
        found += added
        if problem:
            notes.append(f"{checker.name} could not check the change: {problem}")
    return found, notes


def _added(root: Path, checker: Checker, files: list[tuple[ChangedFile, str | None, str]],
           builds: Path | None) -> tuple[list[Finding], str | None]:
    """The checker's diagnostics on the files as changed, less those it gives on them as
    they were, on or next to a changed line."""
    with scratch_copy(root, builds) as scratch:
        for changed, _, after in files:
            scratch.write(changed.path, after.encode("utf-8"))
        now = run_check(checker.check, scratch.tree, TIMEOUT_S, env=scratch.environment())
        if now.status in ("timed out", "not run"):
            return [], f"{now.status} ({now.output.strip().splitlines()[-1][:200]})" \
                if now.output.strip() else now.status
        if now.status == "failed" and not checker.read(now.output):
            said = now.output.strip().splitlines() or ["no output"]
            first = next((line for line in said if line.startswith("error")), said[-1])
            return [], f"it failed without a diagnostic ({first[:200]})"
        for changed, before, _ in files:
            scratch.write(changed.path, before.encode("utf-8") if before is not None else None)
        was = run_check(checker.check, scratch.tree, TIMEOUT_S, env=scratch.environment())
    had = Counter((d.path, d.rule, d.message) for d in checker.read(was.output))
    lines = {changed.path: changed.changed for changed, _, _ in files}
    found = []
    for diagnostic in checker.read(now.output):
        key = (diagnostic.path, diagnostic.rule, diagnostic.message)
        near = lines.get(diagnostic.path, set())
        if had[key] > 0:
            had[key] -= 1
            continue
        if near_change(diagnostic.line, near):
            found.append(Finding(diagnostic.path, diagnostic.line, diagnostic.severity,
                                 f"{diagnostic.message} ({diagnostic.rule})",
                                 found_by=f"{checker.name} {diagnostic.rule}"))
    return found, None
