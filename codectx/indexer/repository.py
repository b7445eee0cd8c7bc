"""Indexing a repository as the front ends ask for it: settings in, an index out.

It turns settings into pipeline options, picks the token counter and opens
the index cache.
"""

from __future__ import annotations

from pathlib import Path

from codectx.config import Loaded
from codectx.indexer.cache import IndexCache
from codectx.indexer.pipeline import IndexOptions, Progress, build_index
from codectx.indexer.result import IndexResult
from codectx.indexer.tokens import EstimateCounter, GGUFCounter, TokenCounter

__all__ = ["IndexOptions", "IndexResult", "Progress", "index_repository", "make_counter"]


def make_counter(loaded: Loaded) -> TokenCounter:
    """The model's exact tokenizer when a model is set, else the estimate."""
    settings = loaded.settings
    if settings.tokenizer == "estimate" or not settings.model:
        return EstimateCounter()
    return GGUFCounter(Path(settings.model).expanduser())


def options_from(loaded: Loaded, tree: str | None = None) -> IndexOptions:
    s = loaded.settings
    return IndexOptions(
        format=s.format, budget=s.budget, max_file_size=s.max_file_size,
        include=tuple(s.include), exclude=tuple(s.exclude), submodules=s.submodules,
        include_dirs=tuple(s.include_dirs), history_commits=s.history_commits, tree=tree,
    )


def index_repository(root: Path, loaded: Loaded, progress: Progress | None = None,
                     tree: str | None = None, counter: TokenCounter | None = None) -> IndexResult:
    """Index the work tree at root, or with `tree` a git tree (gittree.INDEX or a commit).

    `counter` replaces the one the settings choose (a server's tokenizer).
    """
    cache = IndexCache(loaded.cache_path())
    try:
        kwargs = {"progress": progress} if progress else {}
        return build_index(root, options_from(loaded, tree), counter or make_counter(loaded),
                           cache, **kwargs)
    finally:
        cache.close()
