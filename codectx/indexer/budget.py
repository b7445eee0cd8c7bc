"""Fitting the prompt into a token budget: cover every file first, then deepen; below
the files' own levels, the file tree collapses directory by directory.

Each file has a ladder of levels, cheapest first (names, outline, skeleton, full
text: those it has, each kept only if cheaper than every level above it). Every
file starts on the first rung. If that is over the budget, the least important
items go down one by one: a file drops to "listed" (the tree only); a directory,
once all but its most important tenth of files are listed, collapses to one line
of the tree (its path, how many files of which kinds, its most important names)
while those best files keep their blocks, up to the repository's root, whose one
line is the floor. If the first rungs fit, files are upgraded one rung at a
time, in rounds, most important first, for as long as the next upgrade fits.
Both are a fixed sequence of steps whose prefix the budget decides, so a larger
budget never shows a file at a lower level nor collapses more, and the result
depends on nothing but the files. Data, snapshots and generated files are
upgraded only after every other file is in full.

The costs are running totals over the blocks' and the tree lines' token counts,
so the allocation is linear in the number of files (the caller checks the
rendered text once, since a text's count is not exactly the sum of its lines').

Importance is PageRank over the dependency graph (a file many others depend
on ranks high), weighted by the file's kind (`levels.KIND_WEIGHT`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import networkx as nx

from codectx.errors import BudgetError
from codectx.indexer.levels import DEEPEST_LAST, Level


def importance(graph: nx.DiGraph, weights: Mapping[str, float]) -> list[str]:
    """Files from most to least important; ties broken by path."""
    if graph.number_of_nodes() == 0:
        return []
    # Edges run dependency -> dependent; rank flows the other way, to what is depended upon.
    scores = nx.pagerank(graph.reverse(copy=False))
    return sorted(graph.nodes,
                  key=lambda p: (-round(scores[p] * weights.get(p, 1.0), 12), p))


@dataclass(frozen=True)
class Ladder:
    """The levels a file can be shown at, cheapest first, with their tokens."""

    rungs: tuple[tuple[Level, int], ...]
    data: bool = False

    @classmethod
    def of(cls, costs: Mapping[Level, int], data: bool = False) -> Ladder:
        """From each available level's tokens (full text always among them): a level
        is kept only if it costs less than every deeper one."""
        rungs: list[tuple[Level, int]] = []
        for level in reversed(DEEPEST_LAST):
            if level in costs and (not rungs or costs[level] < rungs[-1][1]):
                rungs.append((level, costs[level]))
        return cls(tuple(reversed(rungs)), data)


@dataclass(frozen=True)
class TreeCosts:
    """The tokens of everything but the file blocks, piece by piece."""

    fixed: int
    """The header and the tree's frame."""
    line: Mapping[str, int]
    """Each file's line in the tree."""
    listed: Mapping[str, int]
    """Each file's line marked as listed only."""
    directory: Mapping[str, int]
    """Each directory's own line (the root, "", has none)."""
    summary: Mapping[str, int]
    """Each directory's one line when collapsed (the root's: the whole tree)."""


@dataclass(frozen=True)
class Allocation:
    levels: dict[str, Level]
    collapsed: tuple[str, ...] = ()
    """The outermost collapsed directories, sorted ("" is the root)."""
    tokens: int = 0
    """The prompt's tokens, as the sum of its pieces' counts."""


SHOWN = (Level.FULL, Level.SKELETON, Level.OUTLINE, Level.NAMES)
"""The levels with a block of their own in the prompt."""


def parent(path: str) -> str:
    """The directory holding a file or directory ("" for the root's entries)."""
    return path.rpartition("/")[0]


def ancestors(path: str) -> Iterator[str]:
    """The directories holding `path`, innermost first, the root ("") last; none for the
    root itself."""
    if not path:
        return
    folder = parent(path)
    while folder:
        yield folder
        folder = parent(folder)
    yield ""


def outermost(path: str, collapsed: Container[str]) -> str | None:
    """The outermost collapsed directory holding `path`, if any."""
    return next((d for d in reversed(list(ancestors(path))) if d in collapsed), None)


def directories(paths: Iterable[str]) -> set[str]:
    """Every directory holding one of `paths`, the root ("") included."""
    return {""}.union(*(ancestors(p) for p in paths))


SUMMARY_NAMES = 5  # names a collapsed directory's line shows
SUMMARY_KINDS = 3  # languages it names before "other"


def summaries(ranked: Sequence[str], languages: Mapping[str, str],
              names: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Each directory's one-line summary, as its collapsed line shows it: how many files,
    of which languages, and the first names of its most important files."""
    count: dict[str, Counter[str]] = {d: Counter() for d in directories(ranked)}
    shown: dict[str, list[str]] = {d: [] for d in count}
    for path in ranked:  # most important first
        first = names.get(path, ())[:1]
        for folder in ancestors(path):
            count[folder][languages.get(path) or "other"] += 1
            if first and len(shown[folder]) < SUMMARY_NAMES and first[0] not in shown[folder]:
                shown[folder].append(first[0])
    found = {}
    for folder, kinds in count.items():
        top = kinds.most_common()
        parts = [f"{kind} {n:,}" for kind, n in top[:SUMMARY_KINDS]]
        rest = sum(n for _, n in top[SUMMARY_KINDS:])
        if rest:
            parts.append(f"other {rest:,}")
        text = f"({kinds.total():,} files: {', '.join(parts)})"
        found[folder] = text + (f": {', '.join(shown[folder])}" if shown[folder] else "")
    return found


def fit(ladders: Mapping[str, Ladder], ranked: Sequence[str], costs: TreeCosts,
        budget: int) -> Allocation:
    """A level per file, and the directories collapsed, so the prompt fits in `budget`
    tokens. `ranked`: the files, most important first."""
    tree = costs.fixed + sum(costs.line[p] for p in ranked) + sum(
        costs.directory[d] for d in directories(ranked))
    everything = sum(ladders[p].rungs[-1][1] for p in ranked) + tree
    if everything <= budget:
        return Allocation({p: Level.FULL for p in ladders}, (), everything)
    step = {p: 0 for p in ladders}
    total = tree + sum(ladders[p].rungs[0][1] for p in ranked)
    if total > budget:
        return _cover(ladders, ranked, costs, budget, total)
    for path in _steps(ladders, ranked):
        cost = ladders[path].rungs[step[path] + 1][1] - ladders[path].rungs[step[path]][1]
        if total + cost > budget:
            break
        total += cost
        step[path] += 1
    return Allocation({p: ladders[p].rungs[step[p]][0] for p in ladders}, (), total)


KEEP_SHARE = 10
"""A directory collapses once all but its most important tenth of files are listed: its
tree lines are what a large flat directory costs, and its best files keep their blocks."""


def _cover(ladders: Mapping[str, Ladder], ranked: Sequence[str], costs: TreeCosts,
           budget: int, total: int) -> Allocation:
    """Least important first, files drop to listed and directories collapse until the
    prompt fits (`total`: its tokens with every file on its first rung)."""
    folders = directories(ranked)
    tree = _tree_lines(ranked, folders, costs)
    listed: set[str] = set()
    collapsed: set[str] = set()

    def grow(path: str, delta: int) -> None:
        """Add `delta` to the tree lines of every directory holding `path`."""
        for folder in ancestors(path):
            tree[folder] += delta

    for _, is_dir, _, item in _turns(ranked, folders):
        if total <= budget:
            break
        if is_dir:
            if _inside(item, collapsed):
                continue  # a directory holding it went first
            delta = costs.summary[item] - tree[item]
            tree[item] = costs.summary[item]
            grow(item, delta)
            collapsed.add(item)
        else:
            # Its block goes; its line, unless a collapsed directory hides it, gets the mark.
            delta = -ladders[item].rungs[0][1]
            if not _inside(item, collapsed):
                grow(item, costs.listed[item] - costs.line[item])
                delta += costs.listed[item] - costs.line[item]
            listed.add(item)
        total += delta
    if total > budget:
        needed = costs.fixed + costs.summary[""]
        raise BudgetError(
            f"a budget of {budget:,} tokens cannot hold the header and the repository's "
            f"one-line summary: they take {needed:,}",
            f"Raise the `budget` setting to at least {needed:,}.", needed)
    return _covered(ladders, listed, collapsed, total)


def _tree_lines(ranked: Sequence[str], folders: set[str], costs: TreeCosts) -> dict[str, int]:
    """Each directory's lines in the tree, its own and everything under it included."""
    tree = dict(costs.directory)
    for path in ranked:
        tree[parent(path)] += costs.line[path]
    for folder in sorted(folders, key=lambda d: -d.count("/") if d else 1):
        if folder:  # deepest first: a subdirectory's lines count in its parent's
            tree[parent(folder)] += tree[folder]
    return tree


def _turns(ranked: Sequence[str], folders: set[str]) -> list[tuple[int, int, int, str]]:
    """The files and directories in the order they give way: (score, is a directory,
    minus its depth, path), least important first."""
    score = {p: len(ranked) - i for i, p in enumerate(ranked)}
    scores: dict[str, list[int]] = {d: [] for d in folders}  # most important first
    for path in ranked:
        for folder in ancestors(path):
            scores[folder].append(score[path])
    # A directory's turn: when only its most important tenth is left (deeper first at a
    # tie, and after the files of the same rank).
    return sorted([(score[p], 0, 0, p) for p in ranked]
                  + [(scores[d][len(scores[d]) // KEEP_SHARE], 1,
                      -(d.count("/") + 1 if d else 0), d) for d in folders])


def _covered(ladders: Mapping[str, Ladder], listed: set[str], collapsed: set[str],
             total: int) -> Allocation:
    """Every file's level once the cover is done: listed (or collapsed, inside a collapsed
    directory), else its first rung."""
    outer = tuple(sorted(d for d in collapsed if not _inside(d, collapsed)))
    levels = {}
    for path in ladders:
        if path in listed:
            levels[path] = Level.COLLAPSED if _inside(path, collapsed) else Level.LISTED
        else:
            levels[path] = ladders[path].rungs[0][0]
    return Allocation(levels, outer, total)


def _inside(path: str, collapsed: set[str]) -> bool:
    """Whether a directory holding `path` (not `path` itself) is collapsed."""
    return any(folder in collapsed for folder in ancestors(path))


def _steps(ladders: Mapping[str, Ladder], ranked: Sequence[str]) -> list[str]:
    """The upgrades in the order they are made: round by round, most important first;
    data files' rounds after everything else is in full."""
    order: list[str] = []
    for data in (False, True):
        files = [p for p in ranked if ladders[p].data is data]
        depth = max((len(ladders[p].rungs) for p in files), default=0)
        for round_ in range(1, depth):
            order += [p for p in files if round_ < len(ladders[p].rungs)]
    return order
