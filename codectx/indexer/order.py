"""The order of files in the prompt: dependencies first, volatile files last.

A prompt cache reuses only the longest common token prefix, so a commit
invalidates everything from the first file it touches. Among all orders that
put every dependency before its dependents (an import cycle kept together),
this one lets the most stable free file go next, stability measured from git
history: how often a file changed in the recent commits (the last
`history_commits`), in classes coarse enough that the order itself stays put
from one commit to the next.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import networkx as nx

from codectx.gitsafe import open_repo, run_git


def git_head(root: Path) -> str | None:
    """The commit HEAD points at, or None outside git or before the first commit."""
    import git

    try:
        return open_repo(root).head.commit.hexsha
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, ValueError):
        return None


def git_subdir(root: Path) -> str:
    """Where root is inside its work tree ("" at the top)."""
    top = open_repo(root).working_tree_dir or root
    return root.resolve().relative_to(Path(top).resolve()).as_posix()


def change_history(root: Path, max_commits: int) -> list[list[str]]:
    """Paths (relative to root) changed by each of the last commits, newest first."""
    if max_commits == 0:
        return []
    out = os.fsdecode(run_git(
        root, "log", f"-n{max_commits}", "--format=%x01", "--name-only", "--no-renames",
        "--relative", "-z").stdout)
    # Each commit is "\x01\0" then, if it touched files here, "\n" and NUL-separated paths.
    chunks = out.split("\x01\0")[1:]
    return [[p for p in chunk.lstrip("\n").split("\0") if p] for chunk in chunks]


def uncommitted(root: Path) -> list[str]:
    """Files with changes not yet committed (staged or not), relative to root."""
    done = run_git(root, "diff", "HEAD", "--no-ext-diff", "--no-textconv",
                   "--ignore-submodules=dirty", "--name-only", "--relative", "-z", check=False)
    if done.returncode != 0:
        return []
    return [p for p in os.fsdecode(done.stdout).split("\0") if p]


def volatility(
    history: Sequence[Sequence[str]], pending: Sequence[str], untracked: Sequence[str]
) -> dict[str, int]:
    """How volatile each path is, as a coarse class: 0 for never changed, then log2 buckets.

    The class must not drift from one commit to the next, or the order would
    shuffle, and a shuffled order invalidates the cache as surely as an edit:
    so it counts changes (no decay) and only moves a file when its count
    doubles. Uncommitted edits and new files count as one more change, so
    committing them leaves the order as it was.
    """
    counts: dict[str, int] = {}
    for files in history:
        for path in files:
            counts[path] = counts.get(path, 0) + 1
    for path in [*pending, *untracked]:
        counts[path] = counts.get(path, 0) + 1
    return {p: n.bit_length() for p, n in counts.items()}


def dependency_graph(deps: Mapping[str, Sequence[str]]) -> nx.DiGraph:
    """Edges point from a dependency to its dependent (the order they appear in)."""
    graph = nx.DiGraph()
    graph.add_nodes_from(sorted(deps))
    for path in sorted(deps):
        for dep in deps[path]:
            if dep in deps and dep != path:
                graph.add_edge(dep, path)
    return graph


def prompt_order(graph: nx.DiGraph, volatility: Mapping[str, int]) -> list[str]:
    """Dependencies first, cycles together; of the files free to go next, the most stable.

    Ties go by path, so files of one volatility class keep a fixed order.
    """

    def key(members: Sequence[str]) -> tuple[int, str]:
        # A cycle goes as a whole: it is as volatile as its most volatile member.
        return (max(volatility.get(m, 0) for m in members), min(members))

    if nx.is_directed_acyclic_graph(graph):  # the common case: no cycles to keep together
        return list(nx.lexicographical_topological_sort(graph, key=lambda m: key([m])))
    condensed = nx.condensation(graph)
    keys = {node: key(data["members"]) for node, data in condensed.nodes(data=True)}
    ordered: list[str] = []
    for node in nx.lexicographical_topological_sort(condensed, key=keys.__getitem__):
        ordered.extend(sorted(condensed.nodes[node]["members"], key=lambda m: key([m])))
    return ordered
