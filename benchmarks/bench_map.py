"""What the model sees of a repository larger than its context, and what retrieval adds.

    python benchmarks/bench_map.py REPO [--budgets 8000,16000,32000] [--questions 20]
        [--retrieval off,on]
    python benchmarks/bench_map.py --synth 300

Per budget (in the embedded model's tokens): the share of the top-level
definitions of source files (not tests, docs or data) whose names the prompt
shows, the tokens in full text, how many files are at each level, and the
index time. Then, with the embedded model on the prefix the session builds
for its own context: "which file defines X?" over seeded symbols of files not
in full, with retrieval off and on, and the mean tokens evaluated per warm
question. Last, beside repomix when `npx repomix` runs: cold and warm
`codectx index` (with a budget, so the levels are computed) against repomix
on the same repository, each in a fresh process.

Targets: at a budget of a tenth of the repository's tokens, at least 95% of
source definitions visible; with retrieval, at least 80% right on "which file
defines X?", at most 3,000 tokens evaluated per warm question; cold index at
most repomix's time, warm at most half of it.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from synth import generate

from codectx import config
from codectx.assistant.results import Answer
from codectx.assistant.session import Session
from codectx.indexer.languages import has_grammar
from codectx.indexer.levels import DEEPEST_LAST, Level
from codectx.indexer.parse import top_level_names
from codectx.indexer.result import IndexResult


def definitions(root: Path, result: IndexResult) -> dict[str, list[str]]:
    """Each non-test source file's top-level definitions (functions, classes, types)."""
    found = {}
    for f in result.files:
        if f.kind == "source" and has_grammar(f.language):
            data = (root / f.path).read_bytes()
            found[f.path] = top_level_names(f.language, data)
    return found


def visible_share(result: IndexResult, defs: dict[str, list[str]]) -> float:
    blocks = {s.path: s.text for s in result.segments if s.path is not None}
    total = shown = 0
    for path, names in defs.items():
        total += len(names)
        block = blocks.get(path, "")
        shown += sum(1 for name in names if name in block)
    return shown / total if total else 1.0


def map_table(root: Path, budgets: list[int]) -> tuple[IndexResult, dict[str, list[str]]]:
    session = Session(root, config.load(root))
    whole = session.index(whole=True)
    defs = definitions(root, whole)
    total = whole.total_tokens
    print(f"{root.name}: {len(whole.files):,} files, {total:,} tokens in full "
          f"({whole.tokenizer}), {sum(map(len, defs.values())):,} top-level definitions in "
          f"{len(defs):,} source files")
    tenth = max(total // 10, 1)
    print(f"{'budget':>8} {'defs visible':>13} {'in full tok':>12} "
          + " ".join(f"{level.value:>8}" for level in reversed(DEEPEST_LAST)) + f" {'index s':>8}")
    for budget in sorted({*budgets, tenth}):
        loaded = config.load(root, {"budget": budget})
        result = Session(root, loaded).index()
        counts = {level: sum(f.mode is level for f in result.files) for level in DEEPEST_LAST}
        in_full = sum(f.tokens for f in result.files if f.mode is Level.FULL)
        mark = "  <- a tenth" if budget == tenth else ""
        print(f"{budget:>8,} {visible_share(result, defs):>12.1%} {in_full:>12,} "
              + " ".join(f"{counts[level]:>8}" for level in reversed(DEEPEST_LAST))
              + f" {result.elapsed_s:>8.2f}{mark}")
    share = visible_share(Session(root, config.load(root, {"budget": tenth})).index(), defs)
    verdict = "met" if share >= 0.95 else "NOT met"
    print(f"target: >= 95% of source definitions visible at a tenth ({tenth:,} tokens): "
          f"{share:.1%}, {verdict}")
    return whole, defs


def pick_symbols(result: IndexResult, defs: dict[str, list[str]], n: int,
                 seed: int) -> list[tuple[str, str]]:
    """(symbol, its file) for symbols defined in exactly one file, of files not in full."""
    definers: dict[str, list[str]] = {}
    for f in result.files:
        for name in f.symbols:
            definers.setdefault(name, []).append(f.path)
    levels = {f.path: f.mode for f in result.files}
    pool = sorted((name, path) for path, names in defs.items() for name in names
                  if len(definers.get(name, [])) == 1 and levels.get(path) is not Level.FULL
                  and len(name) >= 2)
    return random.Random(seed).sample(pool, min(n, len(pool)))


def right(answer: str, path: str, basenames: dict[str, int]) -> bool:
    name = path.rpartition("/")[2]
    return path in answer or (basenames[name] == 1 and name in answer)


def questions(root: Path, n: int, seed: int, modes: list[str]) -> None:
    print(f"\nwith the embedded model: \"which file defines X?\" over {n} seeded symbols")
    print(f"{'retrieval':>10} {'right':>8} {'evaluated/question':>19} {'prefix tok':>11} "
          f"{'warm-up s':>10}")
    results = {}
    for label, tokens in (("off", 0), ("on", None)):
        if label not in modes:
            continue
        session = Session(root, config.load(root, {"retrieval_tokens": tokens,
                                                   "max_answer_tokens": 40}))
        started = time.perf_counter()
        warmed = session.warm()
        warm_s = time.perf_counter() - started
        index = session.index()
        basenames: dict[str, int] = {}
        for f in index.files:
            name = f.path.rpartition("/")[2]
            basenames[name] = basenames.get(name, 0) + 1
        symbols = pick_symbols(index, definitions(root, index), n, seed)
        good, evaluated = 0, []
        for symbol, path in symbols:
            *_, answer = session.ask(f"Which file defines `{symbol}`? Answer with its path.")
            assert isinstance(answer, Answer)
            good += right(answer.text, path, basenames)
            evaluated.append(answer.evaluated_tokens)
        mean = sum(evaluated) / len(evaluated) if evaluated else 0.0
        results[label] = (good / max(len(symbols), 1), mean)
        print(f"{label:>10} {good:>4}/{len(symbols):<3} {mean:>19,.0f} "
              f"{warmed.prompt_tokens:>11,} {warm_s:>10.1f}")
    if "on" not in results:
        return
    share, mean = results["on"]
    print(f"target: with retrieval >= 80% right: {share:.0%}, "
          f"{'met' if share >= 0.8 else 'NOT met'}; <= 3,000 tokens evaluated per warm "
          f"question: {mean:,.0f}, {'met' if mean <= 3000 else 'NOT met'}")


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def against_repomix(root: Path, budget: int) -> None:
    npx = shutil.which("npx")
    if npx is None:
        print("\nrepomix: npx not found, comparison skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.xml"
        env = {**os.environ, "CODECTX_CACHE_DIR": str(Path(tmp) / "cache"),
               "CODECTX_CONFIG": str(Path(tmp) / "none.toml")}
        try:
            timed([npx, "--yes", "repomix", "--version"], env)  # fetched once, not timed
            repomix = timed([npx, "--yes", "repomix", str(root), "--output", str(out),
                             "--style", "xml"], env)
        except (subprocess.CalledProcessError, OSError) as exc:
            print(f"\nrepomix: could not run ({exc}), comparison skipped")
            return
        codectx = [sys.executable, "-m", "codectx", "index", str(root), "--budget",
                   str(budget), "-o", str(out)]
        cold = timed(codectx, env)
        time.sleep(2.1)  # a snapshot is trusted only once files are two seconds old
        timed(codectx, env)
        warm = timed(codectx, env)
    print(f"\nindex time beside repomix (process wall time, budget {budget:,}):")
    print(f"  repomix {repomix:.2f} s, codectx cold {cold:.2f} s, warm {warm:.2f} s")
    print(f"target: cold <= repomix: {cold / repomix:.2f}x, "
          f"{'met' if cold <= repomix else 'NOT met'}; warm <= half of repomix: "
          f"{warm / repomix:.2f}x, {'met' if warm <= repomix / 2 else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", nargs="?", type=Path)
    parser.add_argument("--synth", type=int, metavar="N",
                        help="Run on a generated repository of N files instead.")
    parser.add_argument("--budgets", default="8000,16000,32000")
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-model", action="store_true", help="Skip the questions.")
    parser.add_argument("--retrieval", default="off,on",
                        help="Which question runs to make: off, on, or both (the default).")
    args = parser.parse_args()
    budgets = [int(b) for b in args.budgets.split(",") if b]
    modes = args.retrieval.split(",")
    if not modes or set(modes) - {"off", "on"}:
        parser.error(f"--retrieval takes off, on or off,on, not {args.retrieval!r}")
    with tempfile.TemporaryDirectory() as tmp:
        if args.synth:
            root = Path(tmp) / f"synth{args.synth}"
            generate(root, args.synth)
        elif args.repo is not None:
            root = args.repo.resolve()
        else:
            parser.error("name a repository, or --synth N")
        whole, _ = map_table(root, budgets)
        if not args.no_model:
            questions(root, args.questions, args.seed, modes)
        against_repomix(root, max(whole.total_tokens // 10, 1))


if __name__ == "__main__":
    main()
