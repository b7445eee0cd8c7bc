"""Indexing a repository as the front ends ask for it: settings in, an index out.

It turns settings into pipeline options and opens the index cache. The token
counter is handed in by the caller (the model's side knows the vocabulary; the
indexer only counts through it).
"""

from __future__ import annotations

from pathlib import Path

from codectx.config import Loaded
from codectx.indexer.cache import IndexCache
from codectx.indexer.pipeline import IndexOptions, build_index
from codectx.indexer.result import IndexResult
from codectx.progress import Progress
from codectx.tokens import TokenCounter

__all__ = ["IndexOptions", "IndexResult", "index_repository"]


def options_from(loaded: Loaded, tree: str | None = None) -> IndexOptions:
    s = loaded.settings
    return IndexOptions(
        format=s.format, budget=s.budget, max_file_size=s.max_file_size,
        include=tuple(s.include), exclude=tuple(s.exclude), submodules=s.submodules,
        include_dirs=tuple(s.include_dirs), history_commits=s.history_commits, tree=tree,
    )


def index_repository(root: Path, loaded: Loaded, counter: TokenCounter,
                     progress: Progress | None = None, tree: str | None = None) -> IndexResult:
    """Index the work tree at root, or with `tree` a git tree (gittree.INDEX or a commit),
    counting tokens with `counter`."""
    cache = IndexCache(loaded.cache_path())
    try:
        kwargs = {"progress": progress} if progress else {}
        return build_index(root, options_from(loaded, tree), counter,
                           cache, **kwargs)
    finally:
        cache.close()
