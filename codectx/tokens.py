"""Counting tokens: the protocol the indexer counts through, and a fast estimate.

The indexer is handed a counter and never knows where it came from: an exact
one comes from the model's side (`codectx.models.runtime.tokenizer`, a server's
tokenizer), the estimate serves whenever no model is configured. Both the
indexer and the models package depend on this module, not on each other.
Exact counting runs at a couple of MB/s, so the indexer caches counts by
content; results say whether they are exact.
"""

from __future__ import annotations

from typing import Protocol

_LETTERS = frozenset(range(ord("A"), ord("Z") + 1)) | frozenset(range(ord("a"), ord("z") + 1))
_LETTER_RUNS = bytes(c if c in _LETTERS else 0x20 for c in range(256))
_NOT_DIGITS = bytes(c for c in range(256) if not 0x30 <= c <= 0x39)
_ALNUM_SPACE = bytes(c for c in range(128) if chr(c).isalnum() or chr(c).isspace())
# Weights of (letter runs, digits, symbols and non-ASCII bytes, lines, double spaces),
# fitted against the Qwen2.5-Coder vocabulary on Python, C, Markdown, JSON and CSS
# sources: median error per file about 3%, 90th percentile about 10%.
_WEIGHTS = (1.141, 1.559, 0.436, 0.766, 0.132)


class TokenCounter(Protocol):
    @property
    def name(self) -> str:
        """Identifies the vocabulary in cache keys."""

    @property
    def exact(self) -> bool: ...

    def count(self, text: str) -> int: ...


class EstimateCounter:
    """An approximation labelled as such; no model needed."""

    name = "estimate-v3"
    exact = False

    def count(self, text: str) -> int:
        # Byte-level table operations run in C: about 100 MB/s, where a regex manages 7.
        data = text.encode("utf-8")
        features = (
            len(data.translate(_LETTER_RUNS).split()),
            len(data.translate(None, _NOT_DIGITS)),
            len(data.translate(None, _ALNUM_SPACE)),
            data.count(b"\n"),
            data.count(b"  "),
        )
        return round(sum(w * f for w, f in zip(_WEIGHTS, features, strict=True)))
