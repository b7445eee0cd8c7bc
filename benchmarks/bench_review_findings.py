"""Whether a review finds a planted bug, and stays quiet on a harmless change, per model.

    python benchmarks/bench_review_findings.py attrs==25.3.0 [--model NAME|GGUF ...]
        [--bugs 14] [--clean 6] [--seed 1] [--json OUT]

The project is taken as its source distribution from PyPI (as bench_real.py does,
unpacked under build/bench_real/). Seeded one-line changes are made to its
package's modules, one at a time, staged, and reviewed (`reviewing.review`, what
`codectx review --staged` runs) with each model named, in a fresh cache:

- bugs: a `return` dropped (the function returns None), a comparison or an
  `is None` test inverted, an `if not` turned into `if`, `len(x)` made `len(x) - 1`;
  and two a reader cannot miss: a call's closing parenthesis dropped (the module
  no longer parses), an attribute's name misspelled (`.name` made `.nmae`);
  found when the review reports anything on the changed line, by the model or by
  the review's parse check (which needs no model, and is counted apart);
- harmless changes: a comment added above a `return`, or `return X` written as
  `result = X` then `return result`; any finding on one is a false finding.

Target: every model offered for review finds at least half the bugs with at most
one false finding in six harmless changes. Prints each review and a summary per model.
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_real import fetch, fresh_cache

from codectx import config
from codectx.assistant import reviewing
from codectx.assistant.results import Review
from codectx.assistant.review.change import staged
from codectx.assistant.session import Session
from codectx.assistant.streams import last
from codectx.errors import CodectxError

Mutation = Callable[[str], str | None]


def _replace_once(old: str, new: str) -> Mutation:
    return lambda line: line.replace(old, new, 1) if old in line else None


def _drop_return(line: str) -> str | None:
    body = line.lstrip()
    indent = line[: len(line) - len(body)]
    return indent + body[len("return "):] if body.startswith("return ") else None


def _len_minus_one(line: str) -> str | None:
    start = line.find("len(")
    if start < 0:
        return None
    depth, i = 0, start + 3
    for i in range(start + 3, len(line)):
        depth += {"(": 1, ")": -1}.get(line[i], 0)
        if depth == 0:
            break
    return line[: i + 1] + " - 1" + line[i + 1:] if depth == 0 else None


def _paren_dropped(line: str) -> str | None:
    body = line.rstrip()
    return body[:-1] if body.endswith(")") and body.count("(") == body.count(")") else None


def _attribute_misspelled(line: str) -> str | None:
    """`.name` made `.nmae`: the first attribute's second and third letters swapped."""
    match = re.search(r"\.([a-z]{4,})\b", line)
    if match is None or match[1][1] == match[1][2]:
        return None
    name = match[1]
    return line[:match.start(1)] + name[0] + name[2] + name[1] + name[3:] + line[match.end(1):]


def _comment_above(line: str) -> str | None:
    body = line.lstrip()
    indent = line[: len(line) - len(body)]
    return f"{indent}# The value computed above.\n{line}" if body.startswith("return ") \
        else None


def _named_result(line: str) -> str | None:
    body = line.lstrip()
    indent = line[: len(line) - len(body)]
    if not body.startswith("return ") or body.rstrip().endswith(("(", "[", "{", ",", "\\")):
        return None
    return f"{indent}result = {body[len('return '):]}\n{indent}return result"


BUGS: dict[str, Mutation] = {
    "dropped return": _drop_return,
    "== made !=": _replace_once(" == ", " != "),
    "is None made is not None": _replace_once(" is None", " is not None"),
    "if not made if": _replace_once("if not ", "if "),
    "len(x) made len(x) - 1": _len_minus_one,
    "closing ) dropped": _paren_dropped,
    "attribute misspelled": _attribute_misspelled,
}
HARMLESS: dict[str, Mutation] = {"comment added": _comment_above,
                                 "result named": _named_result}


@dataclass
class Case:
    kind: str
    path: str
    line: int
    before: str
    after: str
    findings: list[str] = field(default_factory=list)
    found_by: list[str] = field(default_factory=list)
    """What reported each finding on the changed lines: "model", or what found it without
    the model ("parser", "ruff F821", "attributes")."""
    reply: str = ""
    seconds: float = 0.0
    unread: bool = False
    """The reply could not be read as findings (neither findings nor "no findings")."""

    @property
    def bug(self) -> bool:
        return self.kind in BUGS


def single_line_statements(source: str) -> set[int]:
    """Line numbers (1-based) of statements that fit on one line, inside functions."""
    lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.stmt) and not isinstance(
                        inner, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) \
                        and inner.lineno == inner.end_lineno:
                    lines.add(inner.lineno)
                elif isinstance(inner, ast.If | ast.While):
                    lines.add(inner.lineno)  # the condition's line
    return lines


def plan(root: Path, bugs: int, clean: int, seed: int) -> list[Case]:
    modules = sorted(p for p in root.glob("src/**/*.py") if "test" not in p.name)
    if not modules:
        modules = sorted(p for p in root.glob("*/**/*.py") if "test" not in str(p))
    spots: list[tuple[str, int, str]] = []
    for module in modules:
        source = module.read_text(encoding="utf-8")
        text = source.splitlines()
        try:
            numbers = single_line_statements(source)
        except SyntaxError:
            continue
        spots += [(module.relative_to(root).as_posix(), n, text[n - 1]) for n in numbers]
    rng = random.Random(seed)
    rng.shuffle(spots)
    cases: list[Case] = []
    for wanted, kinds in ((bugs, BUGS), (clean, HARMLESS)):
        names = list(kinds)
        for i in range(wanted):
            kind = names[i % len(names)]
            for path, number, line in spots:
                after = kinds[kind](line)
                if after is not None and not any(c.path == path and c.line == number
                                                  for c in cases):
                    cases.append(Case(kind, path, number, line, after))
                    break
    return cases


def review(session: Session, root: Path, case: Case) -> None:
    target = root / case.path
    original = target.read_text(encoding="utf-8")
    lines = original.splitlines(keepends=True)
    lines[case.line - 1] = case.after + "\n"
    target.write_text("".join(lines), encoding="utf-8")
    subprocess.run(["git", "add", case.path], cwd=root, check=True)
    started = time.perf_counter()
    try:
        change = staged(root)
        result = last(reviewing.review(session, change), Review)
    finally:
        subprocess.run(["git", "reset", "-q", "--hard"], cwd=root, check=True)
    case.seconds = time.perf_counter() - started
    case.reply = result.answer.text if result.answer else ""
    changed = range(case.line, case.line + case.after.count("\n") + 1)
    on_change = [f for f in result.findings if f.path == case.path and f.line in changed]
    case.findings = [f"{f.path}:{f.line}: {f.severity}: {f.message}" for f in on_change]
    case.found_by = [f.found_by for f in on_change]
    case.unread = any(f.path is None for f in result.findings)


def run(root: Path, model: str | None, cases: list[Case], measured: Path) -> list[Case]:
    done = []
    with fresh_cache(measured) as cache:
        flags: dict[str, object] = {"cache_dir": str(cache)}
        if model:
            flags["model"] = model
        session = Session(root, config.load(root, flags))
        for template in cases:
            case = replace(template, findings=[], found_by=[])
            review(session, root, case)
            verdict = ("FOUND" if case.findings else "missed") if case.bug else \
                ("FALSE FINDING" if case.findings else "quiet")
            verdict += (f" ({', '.join(sorted(set(case.found_by)))})"
                        if case.found_by and "model" not in case.found_by else "")
            verdict += " (unread)" if case.unread else ""
            print(f"  {case.seconds:6.1f} s {verdict:13} {case.kind}: {case.path}:{case.line}"
                  f"  {case.after.strip()[:60]!r} -> {' '.join(case.reply.split())[:90]!r}",
                  flush=True)
            done.append(case)
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("project")
    parser.add_argument("--model", action="append", default=[],
                        help="a model to review with (repeatable; default: the embedded one)")
    parser.add_argument("--bugs", type=int, default=14)
    parser.add_argument("--clean", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    root = fetch(args.project)
    cases = plan(root, args.bugs, args.clean, args.seed)
    measured = config.load(None).cache_path() / "tuning.json"  # this machine's speed
    summary = {}
    for model in args.model or [None]:
        name = model or "embedded"
        print(f"{args.project} with {name}: {len(cases)} changes", flush=True)
        try:
            done = run(root, model, cases, measured)
        except CodectxError as exc:
            print(f"  error: {exc.message}")
            continue
        bugs = [c for c in done if c.bug]
        clean = [c for c in done if not c.bug]
        found = sum(bool(c.findings) for c in bugs)
        by_model = sum("model" in c.found_by for c in bugs)
        false = sum(bool(c.findings) for c in clean)
        unread = sum(c.unread for c in done)
        met = found * 2 >= len(bugs) and false <= 1
        print(f"  {name}: found {found}/{len(bugs)} bugs ({by_model} by the model, "
              f"{found - by_model} without it), false findings on {false}/"
              f"{len(clean)} harmless changes; {unread} replies not read; median review "
              f"{sorted(c.seconds for c in done)[len(done) // 2]:.1f} s; target "
              f"{'met' if met else 'NOT met'}", flush=True)
        summary[name] = [asdict(c) for c in done]
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
