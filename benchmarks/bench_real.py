"""Real projects at a person's pace: questions on public source distributions, timed.

    python benchmarks/bench_real.py attrs==25.3.0 rich==14.1.0 django==5.2.7
        [--questions 10] [--modes time,room] [--edits 6] [--edit-checks off,on] [--json OUT]

Each project is taken as its source distribution from PyPI (pip download --no-deps
--no-binary :all:), unpacked under build/bench_real/ and made a git repository. Then,
with the embedded model and default settings on this machine, in a fresh cache (the
speed model and prefill settings, measured once per machine, are copied in):

- the first answer (cold: index, prefill and the question);
- warm questions, seeded, of two kinds: "which file defines X?" over public top-level
  definitions and "what is the value of the constant X?" over module-level constants
  with a literal value, each defined in one file only; the median time and how many
  are right (the path, or the value, in the answer);

- seeded edits (`--edits`, see `real_edits`): add a function, add a method, change a
  constant's value, each on a module of the project's package, applied, checked by
  importing the edited module in a fresh interpreter and running a snippet, then
  undone; the median time of an edit (its replies, a retry included), how many are
  right, and how many wrote anything outside the file named; with `--edit-checks
  off,on`, each edit with the project's checks off and on, alternating which goes
  first (the projects are not trusted, as a fresh clone is not: the syntax gate and
  py_compile run, their tests do not), with the replies the syntax gate refused, the
  changes a check undid, the retries that fixed one, and the time ratio;

side by side in one run with today's room-sized settings (`--modes room`: no time
targets, so the prefix, retrieval and an edit's view take what the context allows).

Targets on this machine: first answer at most 5 min; warm question median at most
30 s; which-file at least 80% right; value at least 70%; edit median at most 120 s;
edits at least 75% right with nothing written outside the task (with checks on, no
edit worse than with them off, at most 1.5x the time); no error on any project.
The projects' own test suites are not run.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_map import definitions, pick_symbols, right
from real_edits import Task, changed_paths, passes, reset, tasks

from codectx import config
from codectx.assistant import editing
from codectx.assistant.results import Answer, EditProposal
from codectx.assistant.session import Session
from codectx.errors import CodectxError
from codectx.indexer.result import IndexResult

WORK = Path(__file__).parents[1] / "build" / "bench_real"
MODES = {"time": {}, "room": {"first_answer_seconds": 0, "question_seconds": 0,
                              "edit_seconds": 0}}
GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
           "GIT_AUTHOR_DATE": "2026-01-01T00:00:00", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00"}


def fetch(spec: str) -> Path:
    """The project's sdist, unpacked and committed (kept for later runs)."""
    name = spec.replace("==", "-")
    root = WORK / name
    if (root / ".git").is_dir():
        return root
    download = WORK / "downloads"
    download.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                    "--no-binary", ":all:", spec, "-d", str(download)], check=True)
    wanted = spec.lower().replace("-", "_").replace("==", "_")
    archive = next(p for p in sorted(download.iterdir())
                   if p.name.lower().replace("-", "_").startswith(wanted))
    with tempfile.TemporaryDirectory(dir=WORK) as tmp:
        if archive.suffix == ".zip":
            with zipfile.ZipFile(archive) as z:
                z.extractall(tmp)
        else:
            with tarfile.open(archive) as t:
                t.extractall(tmp, filter="data")
        (top,) = Path(tmp).iterdir()
        shutil.move(str(top), root)
    env = {**os.environ, **GIT_ENV}
    for command in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"],
                    ["git", "commit", "-q", "-m", f"{spec} sdist"]):
        subprocess.run(command, cwd=root, env=env, check=True)
    return root


@contextmanager
def fresh_cache(measured: Path) -> Iterator[Path]:
    """An empty cache folder holding only this machine's speed model and prefill settings
    (`measured`, a tuning.json, where there is one), removed afterwards."""
    with tempfile.TemporaryDirectory() as cache:
        if measured.is_file():
            shutil.copy(measured, Path(cache) / "tuning.json")
        yield Path(cache)


def constants(root: Path, index: IndexResult, n: int, seed: int) -> list[tuple[str, str, str]]:
    """(name, value, file) for module-level constants with a short literal value, of Python
    files not in full, defined in exactly one file."""
    definers: dict[str, int] = {}
    for f in index.files:
        for name in f.symbols:
            definers[name] = definers.get(name, 0) + 1
    pool = []
    for f in index.files:
        if f.language != "python" or f.kind != "source" or f.mode.value == "full":
            continue
        try:
            tree = ast.parse((root / f.path).read_bytes())
        except (SyntaxError, ValueError):
            continue
        for node in tree.body:
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)
                    and isinstance(node.value, ast.Constant)):
                continue
            name, value = node.targets[0].id, node.value.value
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                continue
            shown = str(value)
            if definers.get(name) == 1 and 1 <= len(shown) <= 40 and shown.strip():
                pool.append((name, shown, f.path))
    pool.sort()
    return random.Random(seed).sample(pool, min(n, len(pool)))


def value_right(answer: str, value: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(value)}(?![\w.])", answer) is not None


@dataclass
class Result:
    project: str
    mode: str
    files: int = 0
    prefix_tokens: int = 0
    first_answer_s: float = 0.0
    warm_s: list[float] = field(default_factory=list)
    which_right: int = 0
    which_asked: int = 0
    value_right: int = 0
    value_asked: int = 0
    evaluated: list[int] = field(default_factory=list)
    edit_s: list[float] = field(default_factory=list)
    edits_right: int = 0
    edits_asked: int = 0
    edits_outside: int = 0
    edit_attempts: list[int] = field(default_factory=list)
    edit_shown: list[int] = field(default_factory=list)
    edit_results: list[bool] = field(default_factory=list)
    edit_syntax: int = 0
    """Replies the syntax gate refused (any attempt)."""
    edit_undone: int = 0
    """Changes undone by a failing check (any attempt)."""
    edit_fixed: int = 0
    """Edits right after a change of theirs failed a check."""
    checked: dict[str, Result] = field(default_factory=dict)
    """With --edit-checks off,on: the edits again with checks on, by that name."""
    error: str | None = None

    @property
    def warm_median(self) -> float:
        return statistics.median(self.warm_s) if self.warm_s else 0.0

    @property
    def edit_median(self) -> float:
        return statistics.median(self.edit_s) if self.edit_s else 0.0


def ask(session: Session, question: str) -> tuple[Answer, float]:
    started = time.perf_counter()
    *_, answer = session.ask(question)
    assert isinstance(answer, Answer)
    return answer, time.perf_counter() - started


def edit(session: Session, root: Path, task: Task, result: Result, mode: str,
         checks: bool) -> None:
    """One seeded edit: proposed (the project's checks on or off), applied when it can be
    and its checks pass, checked by the task's own check, then undone."""
    started = time.perf_counter()
    *_, proposal = editing.edit(session, task.instruction, files=[task.path], check=checks)
    seconds = time.perf_counter() - started
    assert isinstance(proposal, EditProposal)
    good, why = False, "; ".join(proposal.problems)[:80]
    if proposal.failed_checks:
        why = f"its checks failed: {proposal.failed_checks[0].line()}"
    outside: list[str] = []
    failed_attempts = {c.attempt for c in proposal.checks if c.failed}
    result.edit_syntax += sum(any("does not parse" in p for p in problems)
                              for problems in proposal.attempt_problems)
    result.edit_undone += len(failed_attempts)
    mode = f"{mode}, checks {'on' if checks else 'off'}"
    try:
        if proposal.plan.ok and not proposal.failed_checks:
            editing.apply(session.root, session.loaded, proposal.plan)
            outside = [p for p in changed_paths(root) if p != task.path]
            good, why = passes(root, task.module, task.check, task.import_root)
            good = good and not outside
    finally:
        reset(root)
    if not good:  # what the model wrote, for reading afterwards
        kept = WORK / "replies" / f"{result.project}-{mode}-{result.edits_asked}.txt"
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_text(f"{task.instruction}\n{why}\n\n" + "\n\n----\n\n".join(
            proposal.replies))
    result.edits_asked += 1
    result.edits_right += good
    result.edit_results.append(good)
    result.edit_fixed += good and bool(failed_attempts)
    result.edits_outside += bool(outside)
    result.edit_s.append(seconds)
    result.edit_attempts.append(proposal.attempts)
    result.edit_shown.append(proposal.answer.shown_tokens)
    print(f"    [{mode}] {seconds:6.1f} s {'right' if good else 'WRONG'} "
          f"({proposal.attempts} attempt(s), {proposal.answer.shown_tokens:,} tokens shown, "
          f"last evaluated {proposal.answer.evaluated_tokens:,}): {task.instruction}"
          + ("" if good else f" -> {why or 'the check failed'}")
          + (f" [wrote outside: {', '.join(outside)}]" if outside else ""), flush=True)


def run(project: str, root: Path, mode: str, n: int, seed: int, measured: Path,
        edits: int = 0, edit_checks: tuple[bool, ...] = (True,)) -> Result:
    result = Result(project, mode)
    with fresh_cache(measured) as cache:
        loaded = config.load(root, {"cache_dir": str(cache), **MODES[mode]})
        session = Session(root, loaded)
        try:
            index = session.index()
            result.files = len(index.files)
            basenames: dict[str, int] = {}
            for f in index.files:
                base = f.path.rpartition("/")[2]
                basenames[base] = basenames.get(base, 0) + 1
            which = pick_symbols(index, definitions(root, index), n - n // 2, seed)
            values = constants(root, index, n // 2, seed)
            asked: list[tuple[str, str, str]] = [
                ("which", f"Which file defines `{name}`? Answer with its path.", path)
                for name, path in which]
            asked += [("value", f"What is the value of the constant `{name}`? Answer with the "
                       "value only.", value) for name, value, _ in values]
            random.Random(seed).shuffle(asked)
            for i, (kind, question, expected) in enumerate(asked):
                answer, seconds = ask(session, question)
                if i == 0:
                    result.first_answer_s = seconds
                    result.prefix_tokens = answer.prefix_tokens
                else:
                    result.warm_s.append(seconds)
                    result.evaluated.append(answer.evaluated_tokens)
                good = (right(answer.text, expected, basenames) if kind == "which"
                        else value_right(answer.text, expected))
                if kind == "which":
                    result.which_asked += 1
                    result.which_right += good
                else:
                    result.value_asked += 1
                    result.value_right += good
                print(f"    [{mode}] {seconds:6.1f} s {'right' if good else 'WRONG'}: "
                      f"{question} -> {answer.text.strip()[:60]!r}", flush=True)
            if edits:
                if not asked:  # the edits are timed warm, as after a question
                    started = time.perf_counter()
                    warmed = session.warm()
                    result.first_answer_s = time.perf_counter() - started  # a prefill only
                    result.prefix_tokens = warmed.prefix_tokens
                python = [f.path for f in index.files  # modules, not stubs (.pyi)
                          if f.path.endswith(".py") and f.kind == "source"]
                for i, task in enumerate(tasks(root, python, edits, seed)):
                    # The second run of a task reuses the prompt the first evaluated:
                    # alternate which goes first, so neither setting has it every time.
                    order = edit_checks if i % 2 == 0 else edit_checks[::-1]
                    for checks in order:
                        into = result if checks == edit_checks[0] else \
                            result.checked.setdefault("on", Result(project, mode))
                        edit(session, root, task, into, mode, checks)
        except CodectxError as exc:
            result.error = exc.message
    return result


def report(results: list[Result]) -> None:
    print(f"\n{'project':24} {'mode':5} {'files':>6} {'prefix':>7} {'first s':>8} "
          f"{'warm med s':>10} {'which':>7} {'value':>7} {'eval/q':>7} {'edit med s':>10} "
          f"{'edits':>7} {'outside':>7}")
    for r in results:
        if r.error:
            print(f"{r.project:24} {r.mode:5} ERROR: {r.error}")
            continue
        mean_eval = sum(r.evaluated) / len(r.evaluated) if r.evaluated else 0
        print(f"{r.project:24} {r.mode:5} {r.files:>6,} {r.prefix_tokens:>7,} "
              f"{r.first_answer_s:>8.1f} {r.warm_median:>10.1f} "
              f"{r.which_right:>3}/{r.which_asked:<3} {r.value_right:>3}/{r.value_asked:<3} "
              f"{mean_eval:>7,.0f} {r.edit_median:>10.1f} "
              f"{r.edits_right:>3}/{r.edits_asked:<3} {r.edits_outside:>7}")
    timed = [r for r in results if r.mode == "time"]
    if not timed:
        return

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    worst_first = max((r.first_answer_s for r in timed if not r.error), default=0.0)
    all_warm = [s for r in timed for s in r.warm_s]
    warm = statistics.median(all_warm) if all_warm else 0.0
    which = sum(r.which_right for r in timed) / max(sum(r.which_asked for r in timed), 1)
    value = sum(r.value_right for r in timed) / max(sum(r.value_asked for r in timed), 1)
    errors = [r.project for r in timed if r.error]
    print("\ntargets (time-sized, every project together):")
    print(f"  first answer <= 300 s: slowest {worst_first:.0f} s, {verdict(worst_first <= 300)}")
    if all_warm:
        print(f"  warm question median <= 30 s: {warm:.1f} s, {verdict(warm <= 30)}")
        print(f"  which-file >= 80% right: {which:.0%}, {verdict(which >= 0.8)}")
        print(f"  value >= 70% right: {value:.0%}, {verdict(value >= 0.7)}")
    else:
        print("  questions: not measured in this run (--questions 0)")
    print(f"  no error on any project: {verdict(not errors)}"
          + (f" ({', '.join(errors)})" if errors else ""))
    all_edits = [s for r in timed for s in r.edit_s]
    if all_edits:
        edit_median = statistics.median(all_edits)
        asked = sum(r.edits_asked for r in timed)
        share = sum(r.edits_right for r in timed) / max(asked, 1)
        outside = sum(r.edits_outside for r in timed)
        print(f"  edit median <= 120 s: {edit_median:.1f} s, {verdict(edit_median <= 120)}")
        print(f"  edits >= 75% right, nothing outside: {share:.0%} of {asked}, {outside} "
              f"outside, {verdict(share >= 0.75 and not outside)}")
    else:
        print("  edits: not measured in this run (--edits 0)")


def report_checks(results: list[Result]) -> None:
    """Edits with the project's checks off and on, side by side, and their targets."""
    pairs = [(r, r.checked["on"]) for r in results if "on" in r.checked and not r.error]
    if not pairs:
        return
    print(f"\nedits, checks off vs on:\n{'project':24} {'mode':5} {'checks':6} {'right':>7} "
          f"{'syntax':>7} {'undone':>7} {'fixed':>6} {'med s':>6} {'mean s':>7}")
    for off, on in pairs:
        for name, r in (("off", off), ("on", on)):
            mean = statistics.mean(r.edit_s) if r.edit_s else 0.0
            print(f"{r.project:24} {r.mode:5} {name:6} {r.edits_right:>3}/{r.edits_asked:<3} "
                  f"{r.edit_syntax:>7} {r.edit_undone:>7} {r.edit_fixed:>6} "
                  f"{r.edit_median:>6.1f} {mean:>7.1f}")
    asked = sum(on.edits_asked for _, on in pairs)
    right = sum(on.edits_right for _, on in pairs)
    worse = sum(a and not b for off, on in pairs
                for a, b in zip(off.edit_results, on.edit_results, strict=True))
    off_s = sum(s for off, _ in pairs for s in off.edit_s)
    on_s = sum(s for _, on in pairs for s in on.edit_s)
    ratio = on_s / off_s if off_s else 0.0
    print(f"  checks on, edits >= 75% right: {right}/{asked} = {right / max(asked, 1):.0%}, "
          f"{'met' if right >= 0.75 * asked else 'NOT met'}")
    print(f"  no edit worse with checks on: {worse} worse, {'met' if not worse else 'NOT met'}")
    print(f"  time per edit, checks on / off <= 1.5x: {ratio:.2f}x, "
          f"{'met' if ratio <= 1.5 else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("projects", nargs="+", help="NAME==VERSION of a PyPI project")
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--room-questions", type=int, default=None, metavar="N",
                        help="Questions for the room-sized run (default: --questions): on a "
                             "CPU each of its questions takes minutes.")
    parser.add_argument("--edits", type=int, default=6,
                        help="Seeded edits per project and mode (0: none).")
    parser.add_argument("--room-edits", type=int, default=None, metavar="N",
                        help="Edits for the room-sized run (default: --edits).")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--modes", default="time,room")
    parser.add_argument("--edit-checks", default="on",
                        help="on (the default an edit has), off, or off,on: each edit with "
                             "the project's checks off and on, in alternating order, compared.")
    parser.add_argument("--json", type=Path, help="Write the results here as JSON.")
    args = parser.parse_args()
    modes = args.modes.split(",")
    edit_checks = tuple(c == "on" for c in args.edit_checks.split(","))
    if set(args.edit_checks.split(",")) - {"on", "off"}:
        parser.error("--edit-checks takes on, off, or off,on")
    if not modes or set(modes) - set(MODES):
        parser.error("--modes takes time, room, or both")
    from codectx.models.identity import RepoId
    from codectx.models.runtime.local import LocalProvider

    loaded = config.load(None)
    speed = LocalProvider(loaded, RepoId.detached("bench"), persist=False).speed()  # kept
    print(f"speed: {speed.describe()}", flush=True)
    measured = loaded.cache_path() / "tuning.json"
    results = []
    for spec in args.projects:
        root = fetch(spec)
        print(f"{spec}: {root}", flush=True)
        for mode in modes:
            room = mode == "room"
            n = args.room_questions if room and args.room_questions is not None \
                else args.questions
            e = args.room_edits if room and args.room_edits is not None else args.edits
            results.append(run(spec, root, mode, n, args.seed, measured, e, edit_checks))
    report(results)
    report_checks(results)
    if args.json:
        args.json.write_text(json.dumps([{**asdict(r), "warm_median": r.warm_median,
                                          "edit_median": r.edit_median}
                                         for r in results], indent=2))


if __name__ == "__main__":
    main()
