"""walk -> read -> parse -> resolve -> order -> count -> budget -> serialize.

`build_index` runs the whole pipeline for one directory and returns plain
data; every stage is a function of its own module, so tests can run any of
them alone. Progress goes through a callback and nothing here prints. When
nothing changed since the last run, the snapshot returns the last result.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from codectx.errors import BudgetError
from codectx.indexer import budget as budget_mod
from codectx.indexer import order as order_mod
from codectx.indexer import snapshot
from codectx.indexer.cache import IndexCache
from codectx.indexer.counts import CachedCounts
from codectx.indexer.gittree import BlobReader
from codectx.indexer.imports import Files, Resolved, Resolver
from codectx.indexer.levels import Level
from codectx.indexer.parse import FileFacts
from codectx.indexer.result import Collapsed, IndexedFile, IndexResult
from codectx.indexer.serialize import (
    Segment,
    directory_line,
    file_block,
    file_line,
    header,
    names_line,
    summary_line,
    tree,
    tree_frame,
)
from codectx.indexer.sources import Source, load_facts, read_sources
from codectx.indexer.walk import Listing, Skipped, list_files
from codectx.progress import Progress, no_progress
from codectx.tokens import TokenCounter

__all__ = ["IndexOptions", "Progress", "build_index"]


@dataclass(frozen=True)
class IndexOptions:
    format: str = "xml"
    budget: int | None = None
    max_file_size: int = 1_000_000
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    submodules: bool = False
    include_dirs: tuple[str, ...] = ()
    history_commits: int = 500
    tree: str | None = None
    """Index a git tree (gittree.INDEX: the staged content; or a commit), not the work tree."""


@dataclass
class _Analysis:
    """Everything known about the files before the prompt is assembled."""

    sources: dict[str, Source]
    facts: dict[str, FileFacts]
    resolved: dict[str, Resolved]
    order: list[str]
    graph: nx.DiGraph
    parsed: int


def build_index(
    root: Path,
    options: IndexOptions,
    counter: TokenCounter,
    cache: IndexCache,
    progress: Progress = no_progress,
) -> IndexResult:
    started = time.perf_counter()
    started_ns = time.time_ns()
    listing = list_files(
        root, max_file_size=options.max_file_size, include=list(options.include),
        exclude=list(options.exclude), submodules=options.submodules, tree=options.tree,
    )
    root = root.resolve()
    head = order_mod.git_head(root) if listing.is_git else None
    key = str(root) if options.tree is None else f"{root}@{options.tree}"
    digest = snapshot.fingerprint(listing, options, counter.name, head)
    stored = snapshot.load(cache, key, digest, listing)
    if stored is not None:
        result = IndexResult.from_json(stored)
        result.from_snapshot = True
    else:
        skipped = list(listing.skipped)
        analysis = _analyse(root, listing, skipped, options, head, cache, progress)
        result = _assemble(root, analysis, options, counter, cache, progress)
        result.skipped = sorted(skipped, key=lambda s: s.path)
        snapshot.save(cache, key, digest, started_ns, result.to_json())
    result.elapsed_s = time.perf_counter() - started
    result.notes = cache.notes
    return result


def _analyse(
    root: Path, listing: Listing, skipped: list[Skipped], options: IndexOptions, head: str | None,
    cache: IndexCache, progress: Progress,
) -> _Analysis:
    if options.tree is None:
        read = read_sources(listing.files, skipped, progress)
    else:
        with BlobReader(root) as blobs:
            read = read_sources(listing.files, skipped, progress, blobs)
    facts, parsed = load_facts(read, cache, progress)
    sources = {s.path: s for s in read}
    resolver = Resolver(Files(
        {s.path: (s.language, facts[s.path]) for s in read},
        lambda p: sources[p].text if p in sources else None,
        options.include_dirs,
    ))
    resolved = {s.path: resolver.resolve(s.path, s.language, facts[s.path]) for s in read}
    graph = order_mod.dependency_graph({p: r.internal for p, r in resolved.items()})
    volatility = _volatility(root, listing, head, options.history_commits, cache)
    order = order_mod.prompt_order(graph, volatility)
    return _Analysis(sources, facts, resolved, order, graph, parsed)


def _assemble(
    root: Path, analysis: _Analysis, options: IndexOptions, counter: TokenCounter,
    cache: IndexCache, progress: Progress,
) -> IndexResult:
    fmt = options.format
    name = root.name or "repository"
    counts = CachedCounts(counter, cache)
    blocks = _Blocks(analysis, fmt, counts, progress)
    head_text = header(name, fmt)
    levels = {p: Level.FULL for p in analysis.order}
    collapsed: dict[str, str] = {}
    whole = (sum(blocks.full_tokens.values()) + counts(head_text)
             + counts(tree(list(levels.items()), fmt)) if options.budget is not None else 0)
    if options.budget is not None and whole > options.budget:
        levels, collapsed = _fit(analysis, blocks, counts, head_text, options.budget, progress)
    segments, files = _lay_out(analysis, blocks, counts, head_text, levels, collapsed)
    counts.flush()
    hidden = Counter(budget_mod.outermost(p, collapsed) for p in levels)
    return IndexResult(
        root=str(root), name=name, files=files, skipped=[], segments=segments,
        token_count_exact=counter.exact, tokenizer=counter.name, parsed=analysis.parsed,
        collapsed=[Collapsed(d, hidden[d], text) for d, text in sorted(collapsed.items())],
    )


class _Blocks:
    """Each file's block in the prompt at any level; the full ones made and counted once."""

    def __init__(self, analysis: _Analysis, fmt: str, counts: CachedCounts,
                 progress: Progress) -> None:
        self.sources, self.facts, self.fmt = analysis.sources, analysis.facts, fmt
        self.full = {p: self.block(p, Level.FULL) for p in analysis.order}
        counts.prefetch(self.full.values(), progress)
        self.full_tokens = {p: counts(t) for p, t in self.full.items()}

    def view(self, path: str, level: Level) -> str | None:
        """The file's text at a level (its names line for names), None when it has none."""
        fact = self.facts[path]
        if level is Level.FULL:
            return self.sources[path].text
        if level is Level.NAMES:
            return names_line(fact.names) if fact.names else None
        return fact.skeleton if level is Level.SKELETON else fact.outline

    def block(self, path: str, level: Level) -> str:
        return file_block(path, self.sources[path].language, self.view(path, level) or "", level,
                          self.fmt)

    def shown(self, path: str, level: Level) -> str:
        """The block of a file shown at a level, a full one as already made."""
        return self.full[path] if level is Level.FULL else self.block(path, level)


def _fit(
    analysis: _Analysis, blocks: _Blocks, counts: CachedCounts, head_text: str, budget: int,
    progress: Progress,
) -> tuple[dict[str, Level], dict[str, str]]:
    """Each file's level and the directories collapsed (with their summaries) for a prompt
    whose exact count is within the budget."""
    sources, facts = analysis.sources, analysis.facts
    ladders = {p: _ladder(p, blocks, counts) for p in analysis.order}
    weights = {p: s.kind.weight for p, s in sources.items()}
    ranked = budget_mod.importance(analysis.graph, weights)
    summaries = budget_mod.summaries(ranked, {p: s.language for p, s in sources.items()},
                                     {p: facts[p].names for p in ranked})
    tree_costs = _tree_costs(ranked, summaries, counts, head_text, blocks.fmt, progress)
    allowed = budget
    for _ in range(8):  # a text's count is near, not exactly, the sum of its lines'
        fitted = budget_mod.fit(ladders, ranked, tree_costs, allowed)
        levels = fitted.levels
        collapsed = {d: summaries[d] for d in fitted.collapsed}
        shown = sum(counts(blocks.shown(p, lv)) for p, lv in levels.items()
                    if lv in budget_mod.SHOWN)
        exact = (counts(head_text) + shown
                 + counts(tree(list(levels.items()), blocks.fmt, collapsed)))
        if exact <= budget:
            return levels, collapsed
        # Fit again under the budget less what the sum of the pieces missed.
        allowed = min(allowed - 1, budget - (exact - fitted.tokens))
    raise BudgetError(f"the budget of {budget:,} tokens could not be met",
                      "Raise the `budget` setting.")


def _ladder(path: str, blocks: _Blocks, counts: CachedCounts) -> budget_mod.Ladder:
    """What a file costs at each level it has."""
    costs = {Level.FULL: blocks.full_tokens[path]}
    for level in (Level.SKELETON, Level.OUTLINE, Level.NAMES):
        if blocks.view(path, level):
            costs[level] = counts(blocks.block(path, level))
    return budget_mod.Ladder.of(costs, blocks.sources[path].kind.name == "data")


def _lay_out(
    analysis: _Analysis, blocks: _Blocks, counts: CachedCounts, head_text: str,
    levels: dict[str, Level], collapsed: dict[str, str],
) -> tuple[list[Segment], list[IndexedFile]]:
    """The prompt's segments (the header, each file shown, the tree) and every file's record,
    in prompt order."""
    segments: list[Segment] = []

    def add(kind: str, path: str | None, text: str) -> int:
        tokens = counts(text)
        segments.append(Segment(kind, path, text, tokens, segments[-1].end if segments else 0))
        return tokens

    add("header", None, head_text)
    files = []
    for path in analysis.order:
        level, tokens = levels[path], 0
        if level in budget_mod.SHOWN:
            tokens = add("file", path, blocks.shown(path, level))
        src, deps, fact = analysis.sources[path], analysis.resolved[path], analysis.facts[path]
        files.append(IndexedFile(path, src.language, tokens, level, deps.internal, deps.external,
                                 src.invalid_utf8, blocks.full_tokens[path], fact.names,
                                 fact.symbols, src.kind.name, src.kind.reason))
    add("tree", None, tree(list(levels.items()), blocks.fmt, collapsed))
    return segments, files


def _tree_costs(ranked: list[str], summaries: dict[str, str], counts: CachedCounts,
                head_text: str, fmt: str, progress: Progress) -> budget_mod.TreeCosts:
    """The tokens of the tree's lines, each counted once (and cached, as blocks are)."""
    folders = budget_mod.directories(ranked)
    line = {p: file_line(p, Level.FULL) for p in ranked}
    listed = {p: file_line(p, Level.LISTED) for p in ranked}
    own = {d: directory_line(d) if d else "" for d in folders}
    summary = {d: summary_line(d, summaries[d]) for d in folders}
    counts.prefetch({*line.values(), *listed.values(), *own.values(), *summary.values()},
                    progress)
    opening, closing = tree_frame(fmt)
    return budget_mod.TreeCosts(
        counts(head_text) + counts(opening + closing),
        {p: counts(t) for p, t in line.items()}, {p: counts(t) for p, t in listed.items()},
        {d: counts(t) if t else 0 for d, t in own.items()},
        {d: counts(t) for d, t in summary.items()})


def _volatility(
    root: Path, listing: Listing, head: str | None, commits: int, cache: IndexCache
) -> dict[str, int]:
    if head is None:  # not git, or no commits yet: every file is equally new
        return {}
    key = f"{head}:{commits}:{order_mod.git_subdir(root)}"
    history = cache.get("history", key)
    if history is None:
        history = order_mod.change_history(root, commits)
        cache.put_many("history", {key: history})
    return order_mod.volatility(history, order_mod.uncommitted(root), listing.untracked)
