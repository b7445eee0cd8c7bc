"""Edits a person would ask for, on real projects, checked by running code.

    python benchmarks/bench_edit_history.py --dry-run
    python benchmarks/bench_edit_history.py --scripted
    python benchmarks/bench_edit_history.py
        [--models qwen2.5-coder-0.5b-instruct,qwen2.5-coder-1.5b-instruct]
        [--history 8] [--seeded 3] [--kinds history,helper,...] [--checks on|off]
        [--format FMT] [--limit N] [--refresh] [--json OUT]

Two sets of tasks (see `history_tasks` and `module_tasks` for how each is made and
validated without a model):

- history: commits of jinja, anyhow and starlette (git bundles in ../shared/repos) that
  change one source file by 1-15 lines and add or change tests; the instruction is the
  commit's message, the tree its parent, the check the commit's own tests (kept only when
  they fail on the parent and pass with the commit's change); the most recent `--history`
  valid ones per project. ky (TypeScript) is not used: its tests cannot run offline here.
- seeded: on PyPI source distributions (bench_real's `fetch`), `--seeded` tasks of each
  kind per project that need the module they change: use a helper it defines, subclass
  a class it defines, change an existing function's behaviour, add a method that calls
  another method of its class, and tasks that name no file (run without `--files`).

Development set: jinja, anyhow, attrs. HELD-OUT set (not looked at while developing,
reported apart): starlette, click.

For each model given that is installed here (one that is not is skipped, with a note),
in a fresh cache (this machine's speed model and prefill settings copied in, as
bench_real does), for each task: the task's tree is laid afresh at a fixed path per
project (so a project's tasks share its prompt cache, as a person's edits in one
repository do), trusted (the benchmark chose the project, so its checks run as in a
project the user trusts), warmed, then `editing.edit` is asked as `codectx edit --apply`
would (`--files` the task's file, except for no-file tasks); a proposal is applied when
one is offered and its checks pass; then the task's check runs. Recorded per task:
right or wrong, the edit's time (the warm-up apart), the files written outside the task
(must be 0), and why it failed (no proposal, a refused reply and its reason, the
project's checks refused the change, the check failed). The project's checks run with
build/bench_history/venv first on the PATH, so pytest and what the tests import are
there.

`--dry-run` mines, validates and lists the tasks without any model. `--scripted` runs
everything end to end with a scripted model whose reply is each task's right edit as a
SEARCH/REPLACE block (the commit's own diff for a history task): every task must come out
right, which shows the plumbing and the checks agree.

Targets (issue 41), on the held-out projects, per model: seeded module tasks at least
85% right, history tasks at least 30%, edit median at most 120 s; nothing written outside
the task on any project.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import history_tasks
from bench_real import fetch, fresh_cache
from history_tasks import HistoryTask, check_tree, parent_tree, show
from module_tasks import KINDS, module_tasks
from real_edits import Task, changed_paths, passes, reset

from codectx import config
from codectx.assistant import editing
from codectx.assistant.results import EditProposal
from codectx.assistant.session import Session
from codectx.assistant.streams import last
from codectx.errors import CodectxError

WORK = history_tasks.WORK
MODELS = "qwen2.5-coder-0.5b-instruct,qwen2.5-coder-1.5b-instruct"
DEV_SDISTS = ("attrs==25.3.0",)
HELD_OUT_SDISTS = ("click==8.2.1",)
HISTORY = ("jinja", "anyhow", "starlette", "ky")
ALL_KINDS = ("history", *KINDS)
SEEDED = ("helper", "subclass", "behaviour", "method", "no-file")


@dataclass(frozen=True)
class BenchTask:
    kind: str
    project: str
    held_out: bool
    instruction: str
    path: str
    named: bool
    check: str
    """What decides: the test runner on the commit's tests, or the snippet run."""
    reply: str
    """A right reply, as SEARCH/REPLACE blocks (what a scripted run answers)."""
    history: HistoryTask | None = None
    seeded: Task | None = None

    @property
    def root(self) -> Path:
        return WORK / "work" / self.project


@dataclass
class Outcome:
    model: str
    kind: str
    project: str
    held_out: bool
    instruction: str
    right: bool = False
    edit_s: float = 0.0
    warm_s: float = 0.0
    attempts: int = 0
    candidates: int = 1
    """Replies the last attempt tried (see `editing`)."""
    outside: list[str] = field(default_factory=list)
    failure: str = ""
    """"" when right; else no proposal, refused, checks refused, check failed, outside,
    or error."""
    why: str = ""


# -- the tasks -------------------------------------------------------------------------

def blocks(path: str, old: str, new: str) -> str:
    """The change from `old` to `new` as SEARCH/REPLACE blocks on `path`, each SEARCH
    with enough lines around it to be unique."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for context in (2, 3, 5, 8, 13, 21):
        out = []
        for group in matcher.get_grouped_opcodes(context):
            i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
            search, replace = "".join(a[i1:i2]), "".join(b[j1:j2])
            if not search.strip() or old.count(search) != 1:
                break
            out.append(f"{path}\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n")
        else:
            return "\n".join(out)
    raise ValueError(f"{path}: no unique SEARCH for the change")


def history_set(names: list[str], per_project: int, refresh: bool) -> list[BenchTask]:
    found = []
    for task in history_tasks.mine(names, per_project, refresh):
        repo = history_tasks.clone(task.project)
        old = show(repo, task.parent, task.source).decode()
        new = show(repo, task.commit, task.source).decode()
        found.append(BenchTask("history", task.project,
                               history_tasks.PROJECTS[task.project].held_out,
                               task.instruction, task.source, True, task.check,
                               blocks(task.source, old, new), history=task))
    return found


def seeded_set(spec: str, held_out: bool, per_kind: int, seed: int) -> list[BenchTask]:
    """The seeded tasks of one sdist, on a fresh copy of it under build/bench_history/work
    (its own git repository, so that what an edit writes shows in `git status`)."""
    source = fetch(spec)
    name = spec.replace("==", "-")
    copy = WORK / "work" / name
    if copy.exists():
        shutil.rmtree(copy)
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, copy, symlinks=True)
    reset(copy)
    paths = [p.relative_to(copy).as_posix() for p in copy.rglob("*.py")
             if not {"tests", "test", "docs", "examples", ".git"} & set(
                 p.relative_to(copy).parts)]
    found = []
    made = module_tasks(copy, paths, per_kind, seed)
    reset(copy)  # what the project's own tests left
    for task in made:
        assert task.reference is not None
        search, replace = task.reference
        reply = f"{task.path}\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n"
        found.append(BenchTask(task.kind, name, held_out, task.instruction, task.path,
                               task.named, task.check, reply, seeded=task))
    return found


def all_tasks(args: argparse.Namespace) -> tuple[list[BenchTask], dict[str, float]]:
    """The tasks asked for, and how long each set took to make (s)."""
    kinds = set(args.kinds.split(","))
    tasks: list[BenchTask] = []
    took: dict[str, float] = {}
    if "history" in kinds:
        started = time.perf_counter()
        tasks += history_set(args.projects.split(","), args.history, args.refresh)
        took["history"] = time.perf_counter() - started
    if kinds & set(SEEDED):
        started = time.perf_counter()
        for spec, held_out in [*((s, False) for s in args.dev_sdists.split(",") if s),
                               *((s, True) for s in args.held_out_sdists.split(",") if s)]:
            tasks += [t for t in seeded_set(spec, held_out, args.seeded, args.seed)
                      if t.kind in kinds]
        took["seeded"] = time.perf_counter() - started
    return (tasks[:args.limit] if args.limit else tasks), took


# -- running ---------------------------------------------------------------------------

def installed(name: str) -> str | None:
    """None when the model can be loaded here; else why not."""
    from codectx.models.catalog import catalog
    from codectx.models.catalog.embedded import packaged_for

    if Path(name).expanduser().is_file():
        return None
    entry = catalog().get(name)
    if entry is None:
        return "not a catalog name or a file"
    packaged = packaged_for(entry.package)
    if packaged is not None and packaged.installed():
        return None
    if (config.load(None).models_path() / entry.file).is_file():
        return None
    return f"not installed ({packaged.install if packaged else 'codectx models pull ' + name})"


@contextmanager
def trusting() -> Iterator[Callable[[Path], None]]:
    """A way to trust a task's tree (the benchmark chose the project, so its checks run as
    in a project the user trusts); every tree trusted is forgotten afterwards."""
    store = config.trust_store()
    granted: list[Path] = []

    def grant(root: Path) -> None:
        trust = config.load(root).trust
        assert trust is not None
        store.grant(trust)
        granted.append(root.resolve())

    try:
        yield grant
    finally:
        for root in granted:
            store.revoke(root)


def lay(task: BenchTask) -> None:
    """The task's tree, as it was before any edit."""
    if task.history is not None:
        parent_tree(task.history, task.root)
    else:
        reset(task.root)


def judge(task: BenchTask) -> tuple[bool, str]:
    if task.history is not None:
        return check_tree(task.history, task.root)
    assert task.seeded is not None
    return passes(task.root, task.seeded.module, task.seeded.check, task.seeded.import_root)


def failure_of(proposal: EditProposal) -> tuple[str, str]:
    """Why a proposal offers no change to apply: its category and its reason."""
    if not proposal.plan.ok:
        if proposal.problems:
            return "refused", "; ".join(proposal.problems)[:200]
        return "no proposal", "the reply held no change"
    check = proposal.failed_checks[0]
    return "checks refused", check.line()[:200]


def do_task(session: Session, task: BenchTask, model: str, args: argparse.Namespace,
            scripted: deque[str] | None, candidates: int) -> Outcome:
    label = model if len(args.candidates) == 1 else f"{model}, candidates {candidates}"
    outcome = Outcome(label, task.kind, task.project, task.held_out, task.instruction)
    lay(task)
    try:
        started = time.perf_counter()
        session.warm()
        outcome.warm_s = time.perf_counter() - started
        if scripted is not None:
            scripted.clear()
            scripted.append(task.reply)
        started = time.perf_counter()
        proposal = last(editing.edit(session, task.instruction,
                                     files=[task.path] if task.named else [],
                                     fmt=args.format, check=args.checks,
                                     candidates=candidates), EditProposal)
        outcome.edit_s = time.perf_counter() - started
        outcome.attempts = proposal.attempts
        tried = [n for n in proposal.plan.notes if " candidates were tried" in n]
        outcome.candidates = int(tried[0].split()[0]) if tried else 1
        if not proposal.plan.ok or (proposal.failed_checks and not args.keep_failed):
            outcome.failure, outcome.why = failure_of(proposal)
        else:
            editing.apply(session.root, session.loaded, proposal.plan)
            outcome.outside = [p for p in changed_paths(task.root) if p != task.path]
            good, line = judge(task)
            outcome.right = good and not outcome.outside
            if not good:
                outcome.failure, outcome.why = "check failed", line[:200]
            elif outcome.outside:
                outcome.failure, outcome.why = "outside", ", ".join(outcome.outside)
        if not outcome.right:  # what the model wrote, for reading afterwards
            slug = hashlib.sha1(task.instruction.encode()).hexdigest()[:10]
            kept = WORK / "replies" / Path(model).name / f"{task.project}-{task.kind}-{slug}.txt"
            kept.parent.mkdir(parents=True, exist_ok=True)
            failed = "".join(f"\n{c.line()}\n{c.output_tail}\n" for c in proposal.checks
                             if c.failed)
            kept.write_text(f"{task.instruction}\n{outcome.failure}: {outcome.why}\n{failed}\n"
                            + "\n\n----\n\n".join(proposal.replies))
    except CodectxError as exc:
        outcome.failure, outcome.why = "error", exc.message
    finally:
        if task.history is None:
            reset(task.root)
    return outcome


def run_model(model: str, tasks: list[BenchTask], args: argparse.Namespace,
              measured: Path, grant: Callable[[Path], None], candidates: int) -> list[Outcome]:
    """Every task with one model, in a fresh cache; a session per project tree."""
    outcomes = []
    scripted: deque[str] | None = None
    with fresh_cache(measured) as cache:
        sessions: dict[Path, Session] = {}
        flags: dict[str, object] = {"cache_dir": str(cache)}
        if not args.scripted:
            flags["model"] = model
        for task in tasks:
            session = sessions.get(task.root)
            if session is None:
                lay(task)
                grant(task.root)
                loaded = config.load(task.root, flags)
                provider = None
                if args.scripted:
                    sys.path.insert(0, str(Path(__file__).parents[1]))  # the test suite's model
                    from tests.support.fake import FakeBackend, ScriptedProvider

                    backend = FakeBackend(context_window=1 << 24)
                    provider = ScriptedProvider(backend)
                    scripted = backend.replies
                session = sessions[task.root] = Session(task.root, loaded, provider)
            outcome = do_task(session, task, model, args, scripted, candidates)
            outcomes.append(outcome)
            print(f"  [{outcome.model}] {outcome.edit_s:6.1f} s "
                  f"{'right' if outcome.right else 'WRONG'} c{outcome.candidates} "
                  f"{task.kind:9} {task.project:14} {first_line(task.instruction)[:60]}"
                  + ("" if outcome.right else f" -> {outcome.failure}: {outcome.why[:100]}"),
                  flush=True)
    return outcomes


def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


# -- reporting -------------------------------------------------------------------------

def summary(outcomes: list[Outcome]) -> str:
    right = sum(o.right for o in outcomes)
    median = statistics.median(o.edit_s for o in outcomes) if outcomes else 0.0
    share = right / len(outcomes) if outcomes else 0.0
    return f"{right:>3}/{len(outcomes):<3} {share:>4.0%} {median:>8.1f}"


def report(outcomes: list[Outcome]) -> None:
    for model in dict.fromkeys(o.model for o in outcomes):
        mine = [o for o in outcomes if o.model == model]
        print(f"\n{model}\n  {'set':9} {'kind':10} {'right':>12} {'median s':>8} {'outside':>7}")
        for held_out, name in ((False, "dev"), (True, "HELD-OUT")):
            part = [o for o in mine if o.held_out == held_out]
            for kind in ALL_KINDS:
                rows = [o for o in part if o.kind == kind]
                if rows:
                    print(f"  {name:9} {kind:10} {summary(rows)} "
                          f"{sum(bool(o.outside) for o in rows):>7}")
            if part:
                print(f"  {name:9} {'all':10} {summary(part)} "
                      f"{sum(bool(o.outside) for o in part):>7}")
        reasons: dict[str, int] = {}
        for o in mine:
            if not o.right:
                reasons[o.failure] = reasons.get(o.failure, 0) + 1
        print("  why wrong: " + (", ".join(f"{n} {why}" for why, n in sorted(reasons.items()))
                                 or "nothing wrong"))
        targets(mine)


def targets(mine: list[Outcome]) -> None:
    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    held = [o for o in mine if o.held_out]
    seeded = [o for o in held if o.kind != "history"]
    history = [o for o in held if o.kind == "history"]
    print("  targets (held-out projects):")
    if seeded:
        share = sum(o.right for o in seeded) / len(seeded)
        print(f"    seeded module tasks >= 85% right: {share:.0%} of {len(seeded)}, "
              f"{verdict(share >= 0.85)}")
    if history:
        share = sum(o.right for o in history) / len(history)
        print(f"    history tasks >= 30% right: {share:.0%} of {len(history)}, "
              f"{verdict(share >= 0.30)}")
    if held:
        median = statistics.median(o.edit_s for o in held)
        print(f"    edit median <= 120 s: {median:.1f} s, {verdict(median <= 120)}")
    outside = sum(bool(o.outside) for o in mine)
    print(f"    nothing written outside the task (every project): {outside} task(s) did, "
          f"{verdict(not outside)}")


def listing(tasks: list[BenchTask], took: dict[str, float]) -> None:
    """The task set, without a model: each task, then counts per project and kind."""
    for task in tasks:
        where = task.path if task.named else f"(no --files; the change is in {task.path})"
        print(f"\n[{task.kind}] {task.project}{' HELD-OUT' if task.held_out else ''}: {where}")
        for line in task.instruction.splitlines() or [""]:
            print(f"    {line}")
        check = " | ".join(line for line in task.check.splitlines() if line.strip())
        print(f"  check: {check[:160]}{'...' if len(check) > 160 else ''}")
    counts: dict[tuple[str, str], int] = {}
    for task in tasks:
        counts[task.project, task.kind] = counts.get((task.project, task.kind), 0) + 1
    print(f"\n{'project':16} {'set':9} " + " ".join(f"{k:>9}" for k in ALL_KINDS)
          + f" {'all':>5}")
    for project in dict.fromkeys(t.project for t in tasks):
        held = next(t.held_out for t in tasks if t.project == project)
        row = [counts.get((project, k), 0) for k in ALL_KINDS]
        print(f"{project:16} {'HELD-OUT' if held else 'dev':9} "
              + " ".join(f"{n:>9}" for n in row) + f" {sum(row):>5}")
    print(f"{len(tasks)} task(s); made in "
          + ", ".join(f"{name} {s:.0f} s" for name, s in took.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=MODELS,
                        help="Comma-separated catalog names or GGUF paths.")
    parser.add_argument("--projects", default=",".join(HISTORY),
                        help="History projects (bundles in ../shared/repos).")
    parser.add_argument("--dev-sdists", default=",".join(DEV_SDISTS))
    parser.add_argument("--held-out-sdists", default=",".join(HELD_OUT_SDISTS))
    parser.add_argument("--history", type=int, default=8, help="History tasks per project.")
    parser.add_argument("--seeded", type=int, default=3,
                        help="Seeded tasks per kind and project.")
    parser.add_argument("--kinds", default=",".join(ALL_KINDS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=0, help="At most this many tasks.")
    parser.add_argument("--checks", choices=["on", "off"], default=None,
                        help="The project's checks on edits (default: the check_edits "
                             "setting, on).")
    parser.add_argument("--keep-failed", action="store_true",
                        help="Apply a change whose checks still fail, as --keep-failed does.")
    parser.add_argument("--format", default=None,
                        help="Edit format (default: the model's; --scripted: search-replace).")
    parser.add_argument("--refresh", action="store_true",
                        help="Mine and validate the history tasks again (not the cache).")
    parser.add_argument("--dry-run", action="store_true",
                        help="Mine, validate and list the tasks; run no model.")
    parser.add_argument("--scripted", action="store_true",
                        help="Run end to end with a scripted model answering the right edit.")
    parser.add_argument("--candidates", default="4",
                        help="Comma-separated: replies one request may get (editing.edit's "
                             "candidates), each value run in turn, side by side; 1: only "
                             "the greedy one, as before candidates.")
    parser.add_argument("--json", type=Path, help="Write the raw results here.")
    args = parser.parse_args()
    unknown = set(args.kinds.split(",")) - set(ALL_KINDS)
    if unknown:
        parser.error(f"unknown kinds: {', '.join(sorted(unknown))}")
    args.checks = None if args.checks is None else args.checks == "on"
    args.candidates = [int(n) for n in args.candidates.split(",")]
    tasks, took = all_tasks(args)
    if args.dry_run:
        listing(tasks, took)
        if args.json:
            args.json.write_text(json.dumps([task_json(t) for t in tasks], indent=1))
        return
    # The project's checks run with the interpreter that has pytest and the tests' imports.
    os.environ["PATH"] = f"{history_tasks.test_python().parent}{os.pathsep}{os.environ['PATH']}"
    os.environ.update(history_tasks.RUST_HERE)
    measured = config.load(None).cache_path() / "tuning.json"
    if args.scripted:
        args.format = args.format or "search-replace"
        models = ["scripted"]
        home = tempfile.mkdtemp(prefix="bench-history-config-")
        os.environ["CODECTX_CONFIG"] = str(Path(home) / "config.toml")  # trust goes there
        measured = Path(home) / "tuning.json"  # none: a scripted model has no speed
    else:
        models = []
        for name in args.models.split(","):
            why = installed(name)
            if why:
                print(f"{name}: skipped, {why}")
            else:
                models.append(name)
        measure(models)
    outcomes: list[Outcome] = []
    with trusting() as grant:
        for model in models:
            for candidates in args.candidates:
                print(f"{model}, candidates {candidates}: {len(tasks)} task(s)", flush=True)
                outcomes += run_model(model, tasks, args, measured, grant, candidates)
    report(outcomes)
    if args.json:
        args.json.write_text(json.dumps({"tasks": [task_json(t) for t in tasks],
                                         "results": [asdict(o) for o in outcomes]}, indent=1))


def measure(models: list[str]) -> None:
    """Each model's speed on this machine, measured once and kept in the user's cache (the
    fresh caches copy it)."""
    from codectx.models.identity import RepoId
    from codectx.models.runtime.local import LocalProvider

    for name in models:
        loaded = config.load(None, {"model": name})
        speed = LocalProvider(loaded, RepoId.detached("bench"), persist=False).speed()
        print(f"{name}: {speed.describe()}", flush=True)


def task_json(task: BenchTask) -> dict[str, object]:
    out: dict[str, object] = {"kind": task.kind, "project": task.project,
                              "held_out": task.held_out, "instruction": task.instruction,
                              "path": task.path, "named": task.named, "check": task.check}
    if task.history is not None:
        out["commit"] = task.history.commit
        out["parent"] = task.history.parent
    return out


if __name__ == "__main__":
    main()
