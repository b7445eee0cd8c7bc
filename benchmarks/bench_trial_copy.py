"""What checking an edit in a private copy costs: the copy, against the check itself.

    python benchmarks/bench_trial_copy.py [attrs==25.3.0 django==5.2.7 ...] [--runs 3]

An edit's checks run in a copy of the repository (`checks/scratch.py`), never in the
work tree; codectx keeps that copy in its cache and brings it up to date before each
trial. For each project (the git bundles in ../shared/repos when present, cloned at
their HEAD, and the PyPI source distributions named, as `bench_real` fetches them), on
one Python module of the project, side by side in this run: the files and bytes
copied; a fresh copy (made and removed, as when the kept one is busy); the kept copy
made the first time, and brought up to date again (medians of --runs); a whole trial
on the kept copy (bring it up to date, py_compile the changed module there); and
py_compile run on the work tree, as a trial ran before it had a copy. Claim: a trial's
copy adds at most 1 s to a check, for every project measured, once the kept copy
exists.
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
from codectx.assistant.checks.scratch import builds_dir, scratch_copy
from codectx.assistant.checks.trial import trial
from codectx.assistant.edits.plan import EditPlan, FileChange
from codectx.indexer.walk import tree_paths

BUNDLES = Path(__file__).resolve().parents[2] / "shared" / "repos"
TARGET_S = 1.0


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


def measure(name: str, root: Path, runs: int, cache: Path) -> dict[str, object]:
    paths = tree_paths(root)
    size = sum((root / p).stat().st_size for p in paths if (root / p).is_file())
    module = next((p for p in paths if p.endswith(".py") and "test" not in p), None) \
        or next(p for p in paths if (root / p).is_file())

    builds = builds_dir(cache, root)

    def copy(kept: bool) -> None:
        with scratch_copy(root, builds if kept else None):
            pass

    text = (root / module).read_text(encoding="utf-8", errors="surrogateescape")
    change = FileChange(module, "modify", text, text + "\n# changed\n")
    check = Check("py_compile", (python(), "-I", "-m", "py_compile", f"./{module}"), False)
    fresh = median_s(lambda: copy(False), runs)
    first = median_s(lambda: copy(True), 1)
    warm = median_s(lambda: copy(True), runs)
    in_copy = median_s(lambda: trial(EditPlan((change,), ()), root, [check], 120,
                                     builds=builds), runs)
    # As the trial ran in the tree before: its bytecode kept out of the project.
    old_way = Check("py_compile", (python(), "-I", "-X", f"pycache_prefix={cache / 'pyc'}",
                                   "-m", "py_compile", f"./{module}"), False)
    in_tree = median_s(lambda: run_check(old_way, root, 120), runs)
    return {"project": name, "files": len(paths), "mb": size / 1e6, "fresh_s": fresh,
            "first_s": first, "warm_s": warm, "trial_s": in_copy, "tree_s": in_tree}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("projects", nargs="*", default=["attrs==25.3.0", "django==5.2.7"])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        for name, root in bundles(Path(tmp)):
            rows.append(measure(name, root, args.runs, cache))
        for spec in args.projects:
            rows.append(measure(spec, fetch(spec), args.runs, cache))
    columns = ("fresh_s", "first_s", "warm_s", "trial_s", "tree_s")
    print(f"{'project':<16} {'files':>6} {'MB':>6} " + " ".join(f"{c:>8}" for c in columns))
    for row in rows:
        print(f"{row['project']:<16} {row['files']:>6} {row['mb']:>6.1f} "
              + " ".join(f"{float(str(row[c])):>8.2f}" for c in columns))
    worst = max(float(str(r["trial_s"])) - float(str(r["tree_s"])) for r in rows)
    verdict = "met" if worst <= TARGET_S else "NOT met"
    print(f"what the kept copy adds to a check, at most: {worst:.2f} s "
          f"(target {TARGET_S:g} s): {verdict}")


if __name__ == "__main__":
    main()
