"""How much of the prompt each commit invalidates: codectx's order vs alphabetical.

A prompt cache reuses only the longest common prefix, so a commit costs
everything from the first segment it changes to the end. This replays the
last N commits of a git repository (first-parent history) in a scratch clone,
indexes every state, and for each commit measures the fraction of the new
prompt's tokens that lie after the common prefix with the previous state's
prompt, once in codectx's order and once with the same file blocks in plain
alphabetical order. Both orders see exactly the same blocks and token counts.

    python benchmarks/bench_locality.py REPO [--commits 200]
    python benchmarks/bench_locality.py --synthetic [--commits 200]

--synthetic builds a repository whose history has the skew real ones have
(a few files change often, most rarely; each commit touches one to four
files, chosen without regard to their paths) and --warmup commits of history
before the replayed ones, for machines without a long real history at hand.

Target: codectx's mean at most half of alphabetical's on repositories with
long histories.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from codectx.indexer.cache import IndexCache
from codectx.indexer.pipeline import IndexOptions, build_index
from codectx.indexer.serialize import Segment
from codectx.tokens import EstimateCounter

sys.path.insert(0, str(Path(__file__).parent))
from synth import generate

Prompt = list[tuple[str, str, int]]  # (segment name, content hash, tokens)


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


def prompts(segments: list[Segment]) -> tuple[Prompt, Prompt]:
    """The prompt in codectx's order, and the same blocks in alphabetical order."""
    rows = [(s.path or s.kind, hashlib.sha256(s.text.encode()).hexdigest(), s.tokens)
            for s in segments]
    header, files, tree = rows[0], rows[1:-1], rows[-1]
    return rows, [header, *sorted(files), tree]


def invalidated(before: Prompt, after: Prompt) -> float:
    """Fraction of `after`'s tokens past its common prefix with `before`."""
    total = sum(t for _, _, t in after)
    kept = 0
    for old, new in zip(before, after, strict=False):
        if old != new:
            break
        kept += new[2]
    return (total - kept) / total if total else 0.0


def synthetic_history(root: Path, commits: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    paths = generate(root, 400, seed=seed)
    shuffled = paths[:]
    rng.shuffle(shuffled)  # how hot a file is has nothing to do with its name
    weights = [1 / (rank + 1) ** 1.2 for rank in range(len(shuffled))]
    env = ["-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    for i in range(commits):
        touched = set(rng.choices(shuffled, weights, k=rng.randint(1, 4)))
        for rel in touched:
            with (root / rel).open("a") as fh:
                fh.write(f"\n// change {i}\n" if not rel.endswith(".py") else f"\n# change {i}\n")
        git("add", "-A", cwd=root)
        git(*env, "commit", "-qm", f"change {i}", cwd=root)


def replay(repo: Path, commits: int, work: Path) -> tuple[list[float], list[float], float]:
    shas = git("rev-list", "--first-parent", f"-n{commits + 1}", "HEAD", cwd=repo).split()[::-1]
    clone = work / "replay" / repo.resolve().name
    subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", str(repo), str(clone)],
                   check=True)
    cache = IndexCache(work / "cache")
    counter = EstimateCounter()
    ours: list[float] = []
    alpha: list[float] = []
    previous: tuple[Prompt, Prompt] | None = None
    started = time.perf_counter()
    for n, sha in enumerate(shas):
        git("checkout", "-q", "--detach", "-f", sha, cwd=clone)
        state = prompts(build_index(clone, IndexOptions(), counter, cache).segments)
        if previous is not None:
            ours.append(invalidated(previous[0], state[0]))
            alpha.append(invalidated(previous[1], state[1]))
        previous = state
        print(f"\r  indexed {n + 1}/{len(shas)} states", end="", file=sys.stderr)
    print(file=sys.stderr)
    cache.close()
    return ours, alpha, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", nargs="?", type=Path)
    parser.add_argument("--commits", type=int, default=200)
    parser.add_argument("--synthetic", action="store_true")
    parser.add_argument("--warmup", type=int, default=400,
                        help="with --synthetic: commits of history before the replayed ones")
    args = parser.parse_args()
    if (args.repo is None) == (not args.synthetic):
        parser.error("give a REPO or --synthetic (one of them)")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        repo = args.repo
        if args.synthetic:
            repo = work / "synthetic"
            synthetic_history(repo, args.commits + args.warmup)
        ours, alpha, elapsed = replay(repo, args.commits, work)
    if not ours:
        raise SystemExit("the repository needs at least two commits")
    label = "synthetic history" if args.synthetic else str(args.repo)
    print(f"{label}: {len(ours)} commits replayed in {elapsed:.0f} s")
    print(f"{'order':<14}{'mean':>8}{'median':>8}")
    print(f"{'codectx':<14}{statistics.mean(ours):>8.1%}{statistics.median(ours):>8.1%}")
    print(f"{'alphabetical':<14}{statistics.mean(alpha):>8.1%}{statistics.median(alpha):>8.1%}")
    ratio = statistics.mean(ours) / statistics.mean(alpha) if statistics.mean(alpha) else 0
    print(f"codectx mean / alphabetical mean: {ratio:.2f} (target: at most 0.50)")


if __name__ == "__main__":
    main()
