"""Fitting the prompt into a token budget: cover every file first, then deepen.

Each file has a ladder of levels, cheapest first (names, outline, skeleton,
full text: those it has, each kept only if cheaper than every level above
it). Every file starts on the first rung. If even that is over the budget,
the least important files drop to "listed" (the file tree only). Then files
are upgraded one rung at a time, in rounds, most important first, for as long
as the next upgrade fits: a fixed sequence of steps whose prefix the budget
decides, so a larger budget never shows a file at a lower level, and the
result does not depend on anything but the files. Data, snapshots and
generated files are upgraded only after every other file is in full.

Importance is PageRank over the dependency graph (a file many others depend
on ranks high), weighted by the file's kind (`levels.KIND_WEIGHT`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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


def fit(
    ladders: Mapping[str, Ladder],
    ranked: Sequence[str],
    overhead: Callable[[set[str]], int],
    budget: int,
) -> dict[str, Level]:
    """A level per file so the prompt fits in `budget` tokens.

    `ranked`: the files, most important first. `overhead(listed)`: the exact
    tokens of everything but the file blocks (header and file tree) when the files
    in `listed` are listed only.
    """
    full = {p: ladder.rungs[-1][1] for p, ladder in ladders.items()}
    if sum(full.values()) + overhead(set()) <= budget:
        return {p: Level.FULL for p in ladders}
    step = {p: 0 for p in ladders}
    body = sum(ladders[p].rungs[0][1] for p in ranked)
    listed: set[str] = set()
    fixed = overhead(listed)
    for path in reversed(ranked):  # cover: the least important drop to "listed" first
        if body + fixed <= budget:
            break
        body -= ladders[path].rungs[0][1]
        listed.add(path)
        fixed = overhead(listed)
    if body + fixed > budget:
        needed = overhead(set(ranked))
        raise BudgetError(
            f"a budget of {budget:,} tokens cannot hold the header and the file list: they "
            f"take {needed:,}",
            f"Raise --budget to at least {needed:,}, or leave files out with --exclude.",
            needed)
    if not listed:
        for path in _steps(ladders, ranked):
            cost = ladders[path].rungs[step[path] + 1][1] - ladders[path].rungs[step[path]][1]
            if body + cost + fixed > budget:
                break
            body += cost
            step[path] += 1
    return {p: Level.LISTED if p in listed else ladders[p].rungs[step[p]][0] for p in ladders}


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
