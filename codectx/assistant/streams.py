"""Draining a stream of model work: text pieces and progress, then a result."""

from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import Any, TypeVar

T = TypeVar("T")


def relay(stream: Iterable[Any], kind: type[T]) -> Generator[Any, None, T]:
    """Yield what `stream` yields except its items of `kind`; return the last of those.
    ValueError when it yields none (the stream broke its promise of a result)."""
    found: list[T] = []
    for item in stream:
        if isinstance(item, kind):
            found[:] = [item]
        else:
            yield item
    if not found:
        raise ValueError(f"the stream ended without a {kind.__name__}")
    return found[0]


def last(stream: Iterable[Any], kind: type[T]) -> T:
    """Drain `stream` and return its last item of `kind` (what else it yields is dropped)."""
    found: list[T] = []
    for item in stream:
        if isinstance(item, kind):
            found[:] = [item]
    if not found:
        raise ValueError(f"the stream ended without a {kind.__name__}")
    return found[0]
