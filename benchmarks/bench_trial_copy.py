"""What checking an edit in a private copy costs: the copy, against the check itself.

    python benchmarks/bench_trial_copy.py [attrs==25.3.0 django==5.2.7 ...] [--runs 3]

An edit's checks run in a copy of the repository (`checks/scratch.py`), never in the
work tree. For each project (the git bundles in ../shared/repos when present, cloned at
their HEAD, and the PyPI source distributions named, as `bench_real` fetches them), on
one Python module of the project: the time to make the copy (median of --runs), the
files and bytes copied, and, side by side in this run, a whole trial (copy, py_compile
on the changed module in the copy, cleanup) against py_compile run on the work tree as
the trial did before it had a copy. Claim: the copy adds at most 1 s to a check for a
project of up to 2,000 files on this machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_real import fetch

from codectx.assistant.checks.detect import Check, python
from codectx.assistant.checks.run import run_check
from codectx.assistant.checks.scratch import scratch_copy
from codectx.assistant.checks.trial import trial
from codectx.assistant.edits.plan import EditPlan, FileChange
from codectx.indexer.walk import tree_paths

BUNDLES = Path(__file__).resolve().parents[2] / "shared" / "repos"
TARGET_S = 1.0
TARGET_FILES = 2000


def bundles(work: Path) -> list[tuple[str, Path]]:
    found = []
    for bundle in sorted(BUNDLES.glob("*.bundle")) if BUNDLES.is_dir() else []:
        root = work / bundle.stem
        if not root.exists():
            subprocess.run(["git", "clone", "-q", str(bundle), str(root)], check=True)
        found.append((bundle.stem, root))
    return found


def median_s(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(name: str, root: Path, runs: int) -> dict[str, object]:
    paths = tree_paths(root)
    size = sum((root / p).stat().st_size for p in paths if (root / p).is_file())
    module = next((p for p in paths if p.endswith(".py") and "test" not in p), None) \
        or next(p for p in paths if (root / p).is_file())

    def copy_only() -> None:
        with scratch_copy(root):
            pass

    text = (root / module).read_text(encoding="utf-8", errors="surrogateescape")
    change = FileChange(module, "modify", text, text + "\n# changed\n")
    check = Check("py_compile", (python(), "-I", "-m", "py_compile", f"./{module}"), False)
    in_copy = median_s(lambda: trial(EditPlan((change,), ()), root, [check], 120), runs)
    in_tree = median_s(lambda: run_check(check, root, 120), runs)
    return {"project": name, "files": len(paths), "mb": size / 1e6,
            "copy_s": median_s(copy_only, runs), "trial_s": in_copy, "tree_s": in_tree}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("projects", nargs="*", default=["attrs==25.3.0", "django==5.2.7"])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, root in bundles(Path(tmp)):
            rows.append(measure(name, root, args.runs))
        for spec in args.projects:
            rows.append(measure(spec, fetch(spec), args.runs))
    print(f"{'project':<16} {'files':>6} {'MB':>6} {'copy s':>7} {'trial s':>8} "
          f"{'in tree s':>9}")
    for row in rows:
        print(f"{row['project']:<16} {row['files']:>6} {row['mb']:>6.1f} {row['copy_s']:>7.2f} "
              f"{row['trial_s']:>8.2f} {row['tree_s']:>9.2f}")
    within = [r for r in rows if int(str(r["files"])) <= TARGET_FILES]
    worst = max((float(str(r["copy_s"])) for r in within), default=0.0)
    verdict = "met" if worst <= TARGET_S else "NOT met"
    print(f"copy time, projects of up to {TARGET_FILES:,} files: at most {worst:.2f} s "
          f"(target {TARGET_S:g} s): {verdict}")


if __name__ == "__main__":
    main()
