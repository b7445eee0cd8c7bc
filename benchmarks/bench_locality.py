"""How much of the prompt each commit invalidates: codectx's order vs alphabetical,
prefix reuse vs segment-level reuse.

A prompt cache reuses only the longest common prefix, so a commit costs
everything from the first segment it changes to the end. This replays the
last N commits of a git repository (first-parent history) in a scratch clone,
indexes every state, and for each commit measures the fraction of the new
prompt's tokens that lie after the common prefix with the previous state's
prompt, once in codectx's order and once with the same file blocks in plain
alphabetical order. Both orders see exactly the same blocks and token counts.
Beside them: segment-level reuse (`cache_reuse = shift`: every unchanged block's
cells kept wherever it now stands, the plan codectx's backend carries out) and
the tokens of the changed blocks alone, the floor any reuse can reach.

    python benchmarks/bench_locality.py REPO [--commits 200]
    python benchmarks/bench_locality.py --synthetic [--commits 200]

--synthetic builds a repository whose history has the skew real ones have
(a few files change often, most rarely; each commit touches one to four
files, chosen without regard to their paths) and --warmup commits of history
before the replayed ones, for machines without a long real history at hand.

Targets on repositories with long histories: codectx's mean at most half of
alphabetical's; segment-level reuse's mean within twice the changed blocks' own.
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
from codectx.models.backend import Span
from codectx.models.runtime.reuse import Held, prefix_plan, shift_plan
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


def _layout(prompt: Prompt) -> tuple[list[int], list[Span]]:
    """Stand-in tokens for a prompt: equal blocks get equal tokens."""
    tokens: list[int] = []
    spans: list[Span] = []
    for name, digest, n in prompt:
        start = len(tokens)
        base = int(digest[:7], 16) * 4096
        tokens += [base + i for i in range(n)]
        spans.append(Span(f"{name}:{digest}", start, len(tokens)))
    return tokens, spans


def segment_reuse(before: Prompt, after: Prompt) -> tuple[float, float]:
    """Fractions of `after`'s tokens evaluated with segment-level reuse (the plan the backend
    carries out) and taken by changed or new blocks alone."""
    old, old_spans = _layout(before)
    new, new_spans = _layout(after)
    held = [Held(s.key, s.start, s.end) for s in old_spans]
    plan = shift_plan(held, old, new, new_spans)
    total = len(new) or 1
    seen = {(name, digest) for name, digest, _ in before}
    alone = sum(n for name, digest, n in after if (name, digest) not in seen)
    return min(plan.evaluated, prefix_plan(held, old, new, new_spans).evaluated) / total, \
        alone / total


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


Series = dict[str, list[float]]


def replay(repo: Path, commits: int, work: Path) -> tuple[Series, float]:
    shas = git("rev-list", "--first-parent", f"-n{commits + 1}", "HEAD", cwd=repo).split()[::-1]
    clone = work / "replay" / repo.resolve().name
    subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", str(repo), str(clone)],
                   check=True)
    cache = IndexCache(work / "cache")
    counter = EstimateCounter()
    series: Series = {"codectx": [], "alphabetical": [], "segment reuse": [],
                      "changed blocks": []}
    previous: tuple[Prompt, Prompt] | None = None
    started = time.perf_counter()
    for n, sha in enumerate(shas):
        git("checkout", "-q", "--detach", "-f", sha, cwd=clone)
        state = prompts(build_index(clone, IndexOptions(), counter, cache).segments)
        if previous is not None:
            series["codectx"].append(invalidated(previous[0], state[0]))
            series["alphabetical"].append(invalidated(previous[1], state[1]))
            shifted, alone = segment_reuse(previous[0], state[0])
            series["segment reuse"].append(shifted)
            series["changed blocks"].append(alone)
        previous = state
        print(f"\r  indexed {n + 1}/{len(shas)} states", end="", file=sys.stderr)
    print(file=sys.stderr)
    cache.close()
    return series, time.perf_counter() - started


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
        series, elapsed = replay(repo, args.commits, work)
    if not series["codectx"]:
        raise SystemExit("the repository needs at least two commits")
    label = "synthetic history" if args.synthetic else str(args.repo)
    print(f"{label}: {len(series['codectx'])} commits replayed in {elapsed:.0f} s "
          "(share of the prompt's tokens each commit evaluates)")
    print(f"{'reuse':<34}{'mean':>8}{'median':>8}")
    names = {"codectx": "prefix, codectx's order", "alphabetical": "prefix, alphabetical order",
             "segment reuse": "segments (cache_reuse = shift)",
             "changed blocks": "changed blocks alone"}
    for key, values in series.items():
        print(f"{names[key]:<34}{statistics.mean(values):>8.1%}{statistics.median(values):>8.1%}")
    mean = {key: statistics.mean(values) for key, values in series.items()}
    ratio = mean["codectx"] / mean["alphabetical"] if mean["alphabetical"] else 0
    print(f"codectx mean / alphabetical mean: {ratio:.2f} (target: at most 0.50)")
    floor = mean["changed blocks"]
    twice = mean["segment reuse"] / floor if floor else 0
    print(f"segment reuse mean / changed blocks mean: {twice:.2f} (target: at most 2.00, "
          f"{'met' if twice <= 2 else 'NOT met'})")


if __name__ == "__main__":
    main()
