"""The one shape of progress reports: `progress(stage, done, total)`.

Stages are "read", "parse", "tokens" (indexing), "load" (a model loading or a
server being reached) and "prefill". Every layer that does long work takes a
callback of this shape, so one progress bar or panel serves them all. (A model
backend's own prefill callback is narrower: `PrefillProgress` in
`codectx.models.backend`.)
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int], None]


def no_progress(stage: str, done: int, total: int) -> None:
    """A Progress that reports nothing."""
