"""Real projects at a person's pace: questions on public source distributions, timed.

    python benchmarks/bench_real.py attrs==25.3.0 rich==14.1.0 django==5.2.7
        [--questions 10] [--modes time,room] [--json OUT]

Each project is taken as its source distribution from PyPI (pip download --no-deps
--no-binary :all:), unpacked under build/bench_real/ and made a git repository. Then,
with the embedded model and default settings on this machine, in a fresh cache (the
speed model and prefill settings, measured once per machine, are copied in):

- the first answer (cold: index, prefill and the question);
- warm questions, seeded, of two kinds: "which file defines X?" over public top-level
  definitions and "what is the value of the constant X?" over module-level constants
  with a literal value, each defined in one file only; the median time and how many
  are right (the path, or the value, in the answer);

side by side in one run with today's room-sized settings (`--modes room`: no time
targets, so the prefix and retrieval take what the context allows).

Targets on this machine: first answer at most 5 min; warm question median at most
30 s; which-file at least 80% right; value at least 70%; no error on any project.
Edits are not measured by this version of the script.
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
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_map import definitions, pick_symbols, right

from codectx import config
from codectx.assistant.results import Answer
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
    error: str | None = None

    @property
    def warm_median(self) -> float:
        return statistics.median(self.warm_s) if self.warm_s else 0.0


def ask(session: Session, question: str) -> tuple[Answer, float]:
    started = time.perf_counter()
    *_, answer = session.ask(question)
    assert isinstance(answer, Answer)
    return answer, time.perf_counter() - started


def run(project: str, root: Path, mode: str, n: int, seed: int, measured: Path) -> Result:
    result = Result(project, mode)
    with tempfile.TemporaryDirectory() as cache:
        if measured.is_file():  # the speed model and prefill settings of this machine
            shutil.copy(measured, Path(cache) / "tuning.json")
        loaded = config.load(root, {"cache_dir": cache, **MODES[mode]})
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
        except CodectxError as exc:
            result.error = exc.message
    return result


def report(results: list[Result]) -> None:
    print(f"\n{'project':24} {'mode':5} {'files':>6} {'prefix':>7} {'first s':>8} "
          f"{'warm med s':>10} {'which':>7} {'value':>7} {'eval/q':>7}")
    for r in results:
        if r.error:
            print(f"{r.project:24} {r.mode:5} ERROR: {r.error}")
            continue
        mean_eval = sum(r.evaluated) / len(r.evaluated) if r.evaluated else 0
        print(f"{r.project:24} {r.mode:5} {r.files:>6,} {r.prefix_tokens:>7,} "
              f"{r.first_answer_s:>8.1f} {r.warm_median:>10.1f} "
              f"{r.which_right:>3}/{r.which_asked:<3} {r.value_right:>3}/{r.value_asked:<3} "
              f"{mean_eval:>7,.0f}")
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
    print(f"  warm question median <= 30 s: {warm:.1f} s, {verdict(warm <= 30)}")
    print(f"  which-file >= 80% right: {which:.0%}, {verdict(which >= 0.8)}")
    print(f"  value >= 70% right: {value:.0%}, {verdict(value >= 0.7)}")
    print(f"  no error on any project: {verdict(not errors)}"
          + (f" ({', '.join(errors)})" if errors else ""))
    print("  edits: not measured by this version of the script")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("projects", nargs="+", help="NAME==VERSION of a PyPI project")
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--room-questions", type=int, default=None, metavar="N",
                        help="Questions for the room-sized run (default: --questions): on a "
                             "CPU each of its questions takes minutes.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--modes", default="time,room")
    parser.add_argument("--json", type=Path, help="Write the results here as JSON.")
    args = parser.parse_args()
    modes = args.modes.split(",")
    if not modes or set(modes) - set(MODES):
        parser.error("--modes takes time, room, or both")
    from codectx.models.local import LocalProvider

    loaded = config.load(None)
    speed = LocalProvider(loaded, "bench", persist=False).speed()  # measured once, kept
    print(f"speed: {speed.describe()}", flush=True)
    measured = loaded.cache_path() / "tuning.json"
    results = []
    for spec in args.projects:
        root = fetch(spec)
        print(f"{spec}: {root}", flush=True)
        for mode in modes:
            n = args.room_questions if mode == "room" and args.room_questions else args.questions
            results.append(run(spec, root, mode, n, args.seed, measured))
    report(results)
    if args.json:
        args.json.write_text(json.dumps([{**asdict(r), "warm_median": r.warm_median}
                                         for r in results], indent=2))


if __name__ == "__main__":
    main()
