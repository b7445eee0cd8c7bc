"""How fast `codectx index` is on a large repository, cold and warm, with and without a
budget.

    python benchmarks/bench_index.py [--files 5000] [--budgets 4000,32000]
        [--repo PATH] [--repomix]

Generates a synthetic repository of mixed languages (Python, TypeScript, Go,
Rust, Java, C) in a temporary directory (or takes `--repo`, a real one) and
indexes it in fresh processes, printing side by side: the cold index (empty
cache), a warm re-index (nothing changed), a re-index after touching one file,
files per second, and each run's peak RSS; then, for each of `--budgets`, the
cold and warm index under that budget in a cache of its own, its time against
the index without a budget, how many directories collapsed, and the share of
source definitions visible (each file's top-level names found in its block).
`--repomix` times `npx repomix` on the same tree beside codectx's cold and warm
index with a budget of 8,000 tokens.

Targets on a 2-core machine: cold >= 1,500 files/s, warm < 0.3 s, RSS < 400 MB
(5,000 files); with a budget at most 1.2x the time without; 20,000 files at 4,000
tokens in under 30 s cold; peak RSS under 1 GB; codectx cold at most 1.0x
repomix's time, warm at most 0.5x.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from synth import generate

CHILD = """
import json, sys, time
from pathlib import Path
from codectx import config
from codectx.indexer.repository import index_repository
from codectx.models.provider import index_counter
root = Path(sys.argv[1])
budget = int(sys.argv[2]) if len(sys.argv) > 2 else None
loaded = config.load(root, {"budget": budget} if budget else None)
result = index_repository(root, loaded, index_counter(loaded))
blocks = {s.path: s.text for s in result.segments if s.path is not None}
names = [(f.path, n) for f in result.files if f.kind == "source" for n in f.names]
visible = sum(1 for path, n in names if n in blocks.get(path, ""))
print(json.dumps({"elapsed_s": result.elapsed_s, "files": len(result.files),
                  "parsed": result.parsed, "tokens": result.total_tokens,
                  "collapsed": len(result.collapsed),
                  "visible": visible / len(names) if names else 1.0}))
"""


def run_index(root: Path, env: dict[str, str], budget: int | None = None) -> dict[str, float]:
    started = time.perf_counter()
    command = [sys.executable, "-c", CHILD, str(root)] + ([str(budget)] if budget else [])
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"index failed with exit code {proc.returncode}")
    data: dict[str, float] = json.loads(out)
    data["process_s"] = time.perf_counter() - started
    data["peak_rss_mb"] = usage.ru_maxrss / 1024
    return data


def repomix_s(root: Path) -> float:
    """Seconds `npx repomix` takes to pack the tree (to a throwaway file)."""
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        subprocess.run(["npx", "--yes", "repomix", "--quiet", "-o", str(Path(out) / "pack.xml"),
                        str(root)], check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--budgets", default="4000,32000",
                        help="Budgets to index under, comma-separated ('' for none).")
    parser.add_argument("--repo", type=Path, help="Index this repository instead.")
    parser.add_argument("--repomix", action="store_true",
                        help="Time `npx repomix` on the same tree beside codectx.")
    args = parser.parse_args()
    budgets = [int(b) for b in args.budgets.split(",") if b.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "CODECTX_CACHE_DIR": str(Path(tmp) / "cache"),
               "CODECTX_CONFIG": str(Path(tmp) / "none.toml")}
        if args.repo:
            root = args.repo.resolve()
            paths = []
            size_mb = 0.0
        else:
            root = Path(tmp) / "synth"
            paths = generate(root, args.files)
            size_mb = sum((root / p).stat().st_size for p in paths) / 1e6
        # A snapshot is not trusted while files are younger than two seconds (racy
        # timestamps); a user re-indexing an unchanged tree is past that.
        time.sleep(2.1)
        cold = run_index(root, env)
        warm = run_index(root, env)
        runs = [("cold (empty cache)", cold), ("warm (unchanged)", warm)]
        if paths:
            touched = root / paths[len(paths) // 2]
            touched.write_text(touched.read_text() + "\n# touched\n")
            runs.append(("one file touched", run_index(root, env)))
            warm = run_index(root, env)  # the touched tree, warm again
        budgeted = []
        for budget in budgets:
            own = {**env, "CODECTX_CACHE_DIR": str(Path(tmp) / f"cache-{budget}")}
            budgeted.append((budget, run_index(root, own, budget), run_index(root, own, budget)))
        packed = repomix_s(root) if args.repomix else None
        if args.repomix:
            own = {**env, "CODECTX_CACHE_DIR": str(Path(tmp) / "cache-repomix")}
            beside = (run_index(root, own, 8000), run_index(root, own, 8000))
    what = args.repo.name if args.repo else "synthetic repository"
    print(f"{what}: {int(cold['files']):,} files"
          + (f", {size_mb:.1f} MB" if size_mb else "")
          + f", {int(cold['tokens']):,} tokens (estimated)")
    print(f"{'run':<24}{'index s':>10}{'files/s':>10}{'parsed':>8}{'process s':>11}"
          f"{'peak RSS MB':>13}")
    for name, row in runs:
        rate = row["files"] / row["elapsed_s"]
        print(f"{name:<24}{row['elapsed_s']:>10.3f}{rate:>10,.0f}{int(row['parsed']):>8}"
              f"{row['process_s']:>11.2f}{row['peak_rss_mb']:>13.0f}")
    print(f"warm / cold: {warm['elapsed_s'] / cold['elapsed_s']:.1%}")
    if budgeted:
        print(f"\n{'budget':>8}{'cold s':>9}{'x none':>8}{'warm s':>9}{'x none':>8}"
              f"{'tokens':>9}{'collapsed':>10}{'defs visible':>13}{'peak RSS MB':>13}")
        for budget, c, w in budgeted:
            print(f"{budget:>8,}{c['elapsed_s']:>9.2f}{c['elapsed_s'] / cold['elapsed_s']:>8.2f}"
                  f"{w['elapsed_s']:>9.3f}{w['elapsed_s'] / warm['elapsed_s']:>8.2f}"
                  f"{int(c['tokens']):>9,}{int(c['collapsed']):>10}{c['visible']:>13.1%}"
                  f"{max(c['peak_rss_mb'], w['peak_rss_mb']):>13.0f}")
        worst = max(c["elapsed_s"] / cold["elapsed_s"] for _, c, _ in budgeted)
        print(f"target: with a budget at most 1.2x the time without (cold): {worst:.2f}x, "
              f"{'met' if worst <= 1.2 else 'NOT met'}")
        rss = max(max(c["peak_rss_mb"], w["peak_rss_mb"]) for _, c, w in budgeted)
        print(f"target: peak RSS under 1 GB: {rss:,.0f} MB, {'met' if rss < 1024 else 'NOT met'}")
        small = [c for budget, c, _ in budgeted if budget == 4000]
        if small and not args.repo:
            print(f"target: {int(cold['files']):,} files at 4,000 tokens in under 30 s cold: "
                  f"{small[0]['process_s']:.1f} s (process), "
                  f"{'met' if small[0]['process_s'] < 30 else 'NOT met'}")
    if packed is not None:
        c, w = beside
        print(f"\nrepomix: {packed:.2f} s; codectx --budget 8000: cold {c['process_s']:.2f} s "
              f"({c['process_s'] / packed:.2f}x), warm {w['process_s']:.2f} s "
              f"({w['process_s'] / packed:.2f}x)")
        print(f"target: cold at most 1.0x: {'met' if c['process_s'] <= packed else 'NOT met'}; "
              f"warm at most 0.5x: {'met' if w['process_s'] <= packed / 2 else 'NOT met'}")


if __name__ == "__main__":
    main()
