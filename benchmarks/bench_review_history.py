"""Whether a review catches real bugs, reverted from real bug fixes, and stays quiet on
the fixes themselves.

    python benchmarks/bench_review_history.py [--projects jinja,starlette,anyhow]
        [--per-project 8] [--models NAME,...] [--no-model] [--json OUT]

The projects come from the git bundles in ../shared/repos (read at run time only, cloned
under build/bench_review_history/). A bug-fix commit is one that changes exactly one
source file (not a test, not docs) by 1-10 lines, and whose message says it fixes
something ("fix", "bug", "typo", "wrong", "incorrect", "crash", "regression"). Each gives
two cases, made in a clone of the project and staged, as the pre-commit hook sees them:

- the bug: the tree at the fix, with the fixed file put back as it was before the fix
  (the bug as it once was); caught when a finding lands on or next to a changed line;
- the control: the tree before the fix, with the fix staged (a harmless change); any
  finding on it is a false alarm.

Each case is reviewed as `codectx review --staged` reviews it (`reviewing.review`, in a
fresh cache per model), and with `--no-model` as the hook does when no model can run
(`precommit.without_model`: the parse check and the analysis alone). Reported per
model, per project (held out apart: starlette) and per source of the finding
(`found_by`): recall, false alarms, median seconds. Targets (held out, default model):
at least 40% of the bugs caught, at most 10% false alarms on the fixes, median review
at most 30 s.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_real import fresh_cache
from history_tasks import GIT_ENV, NOT_SOURCE, PROJECTS, Project, clone, git, is_test

from codectx import config
from codectx.assistant import reviewing
from codectx.assistant.results import Review
from codectx.assistant.review import change as changes
from codectx.assistant.review.precommit import without_model
from codectx.assistant.session import Session
from codectx.assistant.streams import last
from codectx.errors import CodectxError

WORK = Path(__file__).parents[1] / "build" / "bench_review_history"
MAX_LINES = 10
FIX_WORDS = re.compile(r"(?i)\b(fix(?:es|ed)?|bug|typo|wrong|incorrect|crash(?:es)?|"
                       r"regression)\b")
NOT_BEHAVIOUR = re.compile(r"(?i)typo|\bdocs?\b|documentation|docstring|rustdoc|comment|"
                           r"spelling|readme|changelog|mypy|pre-commit|lint|flake8|format")
"""A fix of words, types or tooling, not of what the code does: not a bug to catch."""
NEAR = 2
"""Lines either side of a changed line a finding may land on and count."""


@dataclass
class Case:
    project: str
    held_out: bool
    commit: str
    subject: str
    source: str
    bug: bool
    """The bug (the fix reverted) or the control (the fix itself)."""
    changed: list[int] = field(default_factory=list)
    flagged: bool = False
    """A finding on or next to a changed line (the bug) or anywhere (the control)."""
    found_by: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""
    reply: str = ""
    """The model's reply (each reviewed definition's under its name)."""


def fixes(repo: Path, project: Project, most: int) -> list[tuple[str, str, str, str]]:
    """Bug-fix commits, newest first: (commit, parent, source file, subject)."""
    # From the project's head (the clone's HEAD moves as the cases are laid).
    log = git(repo, "log", "--no-merges", "--no-renames", "--format=%x00%H %P%x01%s",
              "--numstat", "refs/remotes/origin/HEAD")
    found = []
    for block in log.split("\x00")[1:]:
        first, _, rest = block.partition("\n")
        ids, _, subject = first.partition("\x01")
        fields = ids.split()
        if len(fields) != 2 or not FIX_WORDS.search(subject) or NOT_BEHAVIOUR.search(subject):
            continue
        rows = [line.split("\t") for line in rest.splitlines() if line.count("\t") == 2]
        code = [r for r in rows if r[2].endswith(project.extension)
                and not r[2].startswith(NOT_SOURCE)]
        sources = [r for r in code if not is_test(project, r[2])]
        if len(sources) != 1 or "-" in sources[0][:2]:
            continue
        if not 1 <= int(sources[0][0]) + int(sources[0][1]) <= MAX_LINES:
            continue
        if project.language == "python" and same_code(repo, fields[1], fields[0], sources[0][2]):
            continue  # only docstrings or comments changed
        found.append((fields[0], fields[1], sources[0][2], subject.strip()))
        if len(found) == most:
            break
    return found


def same_code(repo: Path, before: str, after: str, path: str) -> bool:
    """Whether a Python file's two versions differ only in docstrings and comments."""
    def shape(commit: str) -> str | None:
        try:
            tree = ast.parse(git(repo, "show", f"{commit}:{path}"))
        except (SyntaxError, subprocess.CalledProcessError):
            return None
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                    and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                body[0] = ast.Pass()
        return ast.dump(tree)

    old = shape(before)
    return old is not None and old == shape(after)


def lay(repo: Path, tree_at: str, path: str, text_from: str) -> None:
    """The clone checked out at `tree_at`, with `path` as `text_from` has it, staged."""
    git(repo, "checkout", "--quiet", "--force", "--detach", tree_at)
    git(repo, "clean", "--quiet", "-fdx")
    content = subprocess.run(["git", "show", f"{text_from}:{path}"], cwd=repo, check=True,
                             capture_output=True, env=GIT_ENV).stdout
    (repo / path).write_bytes(content)
    git(repo, "add", "--", path)


def review_case(repo: Path, case: Case, session: Session | None) -> None:
    change = changes.staged(repo)
    case.changed = sorted(n for f in change.reviewable for n in f.changed)
    started = time.perf_counter()
    try:
        if session is None:
            review = without_model(repo, change, "not asked for")
            findings = review.findings if review is not None else []
        else:
            review = last(reviewing.review(session, change), Review)
            findings = review.findings
            case.reply = review.answer.text if review.answer is not None else ""
    except CodectxError as exc:
        case.error, findings = exc.message, []
    case.seconds = time.perf_counter() - started
    hits = [f for f in findings if f.path is not None and f.line is not None]
    if case.bug:
        hits = [f for f in hits if any(abs((f.line or 0) - n) <= NEAR for n in case.changed)]
    case.flagged = bool(hits)
    case.found_by = sorted({f.found_by for f in hits})


def run(projects: list[str], per_project: int, model: str | None,
        measured: Path) -> list[Case]:
    cases: list[Case] = []
    with fresh_cache(measured) as cache:
        for name in projects:
            project = PROJECTS[name]
            repo = WORK / "repos" / name
            if not (repo / ".git").is_dir():
                repo.parent.mkdir(parents=True, exist_ok=True)
                subprocess.run(["git", "clone", "--quiet", str(clone(name)), str(repo)],
                               check=True)
            session = None
            if model is not None:
                flags: dict[str, object] = {"cache_dir": str(cache), "model": model}
                session = Session(repo, config.load(repo, flags))
            for commit, parent, source, subject in fixes(repo, project, per_project):
                for bug in (True, False):
                    case = Case(name, project.held_out, commit[:10], subject, source, bug)
                    if bug:
                        lay(repo, commit, source, parent)
                    else:
                        lay(repo, parent, source, commit)
                    review_case(repo, case, session)
                    cases.append(case)
                    what = "caught" if case.flagged else "missed"
                    if not bug:
                        what = "FALSE ALARM" if case.flagged else "quiet"
                    print(f"  [{model or 'no model'}] {name:9} {'bug' if bug else 'fix':3} "
                          f"{case.seconds:6.1f} s {what:11} {','.join(case.found_by):24} "
                          f"{subject[:60]}" + (f" ({case.error})" if case.error else ""),
                          flush=True)
    return cases


def report(label: str, cases: list[Case]) -> None:
    print(f"\n{label}")
    for held, part_name in ((False, "dev"), (True, "HELD-OUT")):
        part = [c for c in cases if c.held_out == held]
        bugs = [c for c in part if c.bug]
        fixes_ = [c for c in part if not c.bug]
        if not bugs:
            continue
        caught = sum(c.flagged for c in bugs)
        alarms = sum(c.flagged for c in fixes_)
        median = statistics.median(c.seconds for c in part)
        sources: dict[str, int] = {}
        for c in bugs:
            for source in c.found_by:
                sources[source] = sources.get(source, 0) + 1
        print(f"  {part_name:8} bugs caught {caught}/{len(bugs)} ({caught / len(bugs):.0%}), "
              f"false alarms {alarms}/{len(fixes_)}, median {median:.1f} s; caught by: "
              + (", ".join(f"{k} {v}" for k, v in sorted(sources.items())) or "nothing"))
        if held:
            print(f"  targets (held out): caught >= 40%: "
                  f"{'met' if caught / len(bugs) >= 0.4 else 'NOT met'}; false alarms <= "
                  f"10%: {'met' if alarms <= 0.1 * len(fixes_) else 'NOT met'}; median <= "
                  f"30 s: {'met' if median <= 30 else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", default="jinja,starlette,anyhow")
    parser.add_argument("--per-project", type=int, default=8)
    parser.add_argument("--models", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--no-model", action="store_true",
                        help="Only the review's analysis, as the hook without a model.")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    projects = args.projects.split(",")
    measured = config.load(None).cache_path() / "tuning.json"
    results: dict[str, list[Case]] = {}
    for model in [None] if args.no_model else args.models.split(","):
        label = model or "no model (analysis only)"
        print(f"{label}:", flush=True)
        results[label] = run(projects, args.per_project, model, measured)
    for label, cases in results.items():
        report(label, cases)
    if args.json:
        args.json.write_text(json.dumps({k: [asdict(c) for c in v] for k, v in results.items()},
                                        indent=1))


if __name__ == "__main__":
    main()
