"""The order of files in the prompt: dependencies first, volatile files last.

A prompt cache reuses only the longest common token prefix, so a commit
invalidates everything from the first file it touches. Among all orders that
put every dependency before its dependents (an import cycle kept together),
this one lets the most stable free file go next, stability measured from git
history: a file changed often and recently is volatile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import networkx as nx

# A commit's weight halves every HALF_LIFE commits back from HEAD.
HALF_LIFE = 50
UNCOMMITTED_WEIGHT = 2.0


def git_head(root: Path) -> str | None:
    """The commit HEAD points at, or None outside git or before the first commit."""
    import git

    try:
        return git.Repo(root, search_parent_directories=True).head.commit.hexsha
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, ValueError):
        return None


def git_subdir(root: Path) -> str:
    """Where root is inside its work tree ("" at the top)."""
    import git

    top = git.Repo(root, search_parent_directories=True).working_tree_dir or root
    return root.resolve().relative_to(Path(top).resolve()).as_posix()


def change_history(root: Path, max_commits: int) -> list[list[str]]:
    """Paths (relative to root) changed by each of the last commits, newest first."""
    import git

    if max_commits == 0:
        return []
    out = git.Git(root).log(
        f"-n{max_commits}", "--format=%x01", "--name-only", "--no-renames", "--relative",
        "-z", strip_newline_in_stdout=False,
    )
    # Each commit is "\x01\0" then, if it touched files here, "\n" and NUL-separated paths.
    chunks = out.split("\x01\0")[1:]
    return [[p for p in chunk.lstrip("\n").split("\0") if p] for chunk in chunks]


def uncommitted(root: Path) -> list[str]:
    """Files with changes not yet committed (staged or not), relative to root."""
    import git

    try:
        out = git.Git(root).diff("HEAD", "--name-only", "--relative", "-z",
                                 strip_newline_in_stdout=False)
    except git.GitCommandError:
        return []
    return [p for p in out.split("\0") if p]


def volatility(
    history: Sequence[Sequence[str]], pending: Sequence[str], untracked: Sequence[str]
) -> dict[str, float]:
    """How volatile each path is: recent and frequent changes weigh most."""
    score: dict[str, float] = {}
    for rank, files in enumerate(history):
        weight = 0.5 ** (rank / HALF_LIFE)
        for path in files:
            score[path] = score.get(path, 0.0) + weight
    for path in [*pending, *untracked]:
        score[path] = score.get(path, 0.0) + UNCOMMITTED_WEIGHT
    return {p: round(v, 9) for p, v in score.items()}


def dependency_graph(deps: Mapping[str, Sequence[str]]) -> nx.DiGraph:
    """Edges point from a dependency to its dependent (the order they appear in)."""
    graph = nx.DiGraph()
    graph.add_nodes_from(sorted(deps))
    for path in sorted(deps):
        for dep in deps[path]:
            if dep in deps and dep != path:
                graph.add_edge(dep, path)
    return graph


def prompt_order(graph: nx.DiGraph, volatility: Mapping[str, float]) -> list[str]:
    """Dependencies first, cycles together, the most stable ready file next."""

    def member_key(path: str) -> tuple[float, str]:
        return (volatility.get(path, 0.0), path)

    condensed = nx.condensation(graph)
    keys = {}
    for node, data in condensed.nodes(data=True):
        members = sorted(data["members"], key=member_key)
        # Any change inside a cycle invalidates all that follows it.
        keys[node] = (round(sum(volatility.get(m, 0.0) for m in members), 9), members[0])
    ordered: list[str] = []
    for node in nx.lexicographical_topological_sort(condensed, key=keys.__getitem__):
        ordered.extend(sorted(condensed.nodes[node]["members"], key=member_key))
    return ordered
