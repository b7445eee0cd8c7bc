"""Fitting the prompt into a token budget without truncating anything silently.

Files are ranked by PageRank over the dependency graph (a file many others
depend on ranks high). The lowest-ranked are degraded to skeletons first,
then omitted; every degraded or omitted file stays in the file tree, marked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import networkx as nx

from codectx.errors import BudgetError
from codectx.indexer.serialize import Mode


def rank(graph: nx.DiGraph) -> list[str]:
    """Files from least to most important; ties broken by path."""
    if graph.number_of_nodes() == 0:
        return []
    # Edges run dependency -> dependent; rank flows the other way, to what is depended upon.
    scores = nx.pagerank(graph.reverse(copy=False))
    return sorted(graph.nodes, key=lambda p: (round(scores[p], 12), p))


def fit(
    low_first: Sequence[str],
    full_tokens: Mapping[str, int],
    skeleton_tokens: Callable[[str], int | None],
    overhead: Callable[[Mapping[str, Mode]], int],
    mark_tokens: int,
    budget: int,
) -> dict[str, Mode]:
    """Choose a mode per file so the prompt fits in `budget` tokens.

    `overhead(modes)` is the exact token count of everything but the file
    blocks (header and file tree) for given modes; `mark_tokens` is what marking
    one more file in the tree costs at most, used between exact counts.
    """
    modes = {p: Mode.FULL for p in full_tokens}
    body = sum(full_tokens.values())
    exact = overhead(modes)
    estimate = exact
    if body + exact <= budget:
        return modes
    keep = low_first[-1:]  # the most important file is never omitted
    steps = [(p, Mode.SKELETON) for p in low_first]
    steps += [(p, Mode.OMITTED) for p in low_first if p not in keep]
    for path, mode in steps:
        new = skeleton_tokens(path) if mode is Mode.SKELETON else 0
        if new is None:
            continue
        old = full_tokens[path] if modes[path] is Mode.FULL else skeleton_tokens(path) or 0
        if mode is Mode.SKELETON and new >= old:
            continue
        body += new - old
        modes[path] = mode
        estimate += mark_tokens
        if body + estimate <= budget:
            estimate = overhead(modes)
            if body + estimate <= budget:
                return modes
    needed = body + overhead(modes)
    if needed <= budget:
        return modes
    raise BudgetError(
        f"a budget of {budget:,} tokens cannot hold even the skeletons: the smallest prompt "
        f"(header, file list and the most important file's skeleton) takes {needed:,}",
        f"Raise --budget to at least {needed:,}, or leave files out with --exclude.",
    )
