"""Draining a stream of model work: text pieces and progress, then a result."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

T = TypeVar("T")


def last(stream: Iterable[Any], kind: type[T]) -> T:
    """Drain `stream` and return its last item of `kind` (what else it yields is dropped)."""
    found: list[T] = []
    for item in stream:
        if isinstance(item, kind):
            found[:] = [item]
    if not found:
        raise ValueError(f"the stream ended without a {kind.__name__}")
    return found[0]
