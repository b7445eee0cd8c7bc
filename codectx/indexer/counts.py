"""Token counts by content: each distinct text is counted exactly once, ever.

Exact counts live in the index cache under the tokenizer's name, keyed by the
sha256 of the exact text counted, so a file block, the header or the file
tree is only counted again when its bytes change. Estimates are cheaper to
redo than to look up, so they are never stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from codectx.indexer.cache import IndexCache
from codectx.tokens import TokenCounter


class CachedCounts:
    def __init__(self, counter: TokenCounter, cache: IndexCache) -> None:
        self.counter = counter
        self.cache = cache
        self.ns = f"tokens:{counter.name}"
        self.stored = counter.exact
        self.known: dict[str, int] = {}
        self.fresh: dict[str, int] = {}

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def prefetch(self, texts: Iterable[str], progress: Callable[[str, int, int], None]) -> None:
        """Count many texts at once: one cache lookup, then the counter for what is new."""
        items = {self._key(t): t for t in texts}
        if self.stored:
            self.known.update(self.cache.get_many(self.ns, items))
        missing = [(k, t) for k, t in items.items() if k not in self.known]
        for i, (key, text) in enumerate(missing):
            if i % 50 == 0:
                progress("tokens", i, len(missing))
            self.known[key] = self.fresh[key] = self.counter.count(text)
        progress("tokens", len(missing), len(missing))

    def __call__(self, text: str) -> int:
        key = self._key(text)
        if key not in self.known:
            cached = self.cache.get(self.ns, key) if self.stored else None
            if cached is None:
                cached = self.fresh[key] = self.counter.count(text)
            self.known[key] = cached
        return self.known[key]

    def flush(self) -> None:
        if self.stored:
            self.cache.put_many(self.ns, self.fresh)
        self.fresh = {}
