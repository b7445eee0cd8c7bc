"""Carrying a reuse plan out on llama.cpp's KV memory (see `reuse` for the plan).

llama.cpp requires the positions of a batch to continue its sequence's highest
position, so a changed span in the middle of a prompt cannot simply be decoded
into sequence 0 while later cells sit there. The context therefore has two
sequences over one unified KV buffer: the later cells are copied to sequence 1
(a copy only tags the cells, it moves no data), removed from sequence 0, the
span is decoded at its positions, and the cells are tagged back. Cells of
sequence 1 alone are invisible to sequence 0's attention, so the span sees
exactly the text before it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from codectx.models.runtime.reuse import ReusePlan

if TYPE_CHECKING:
    from llama_cpp import Llama

STASH = 1  # the sequence that holds later cells while a span is decoded before them


def two_sequence_context(llm: Llama) -> None:
    """Give `llm` a context with two sequences over a unified KV buffer (what llama-cpp-python
    builds has one); the old context is freed first, so memory never holds both."""
    from codectx.models.runtime import llama_api

    params = llm.context_params
    if params.n_seq_max >= 2 and params.kv_unified:
        return

    def two(params: Any) -> None:
        params.n_seq_max = 2
        params.kv_unified = True

    llama_api.replace_context(llm, two)


def memory(llm: Llama) -> Any:
    from codectx.models.runtime import llama_api

    return llama_api.memory(llm)


def can_shift(llm: Llama) -> bool:
    import llama_cpp

    return bool(llama_cpp.llama_memory_can_shift(memory(llm)))


def positions(llm: Llama, seq: int = 0) -> tuple[int, int]:
    """The lowest and highest position sequence `seq` holds ((-1, -1) when empty)."""
    import llama_cpp

    mem = memory(llm)
    return (int(llama_cpp.llama_memory_seq_pos_min(mem, seq)),
            int(llama_cpp.llama_memory_seq_pos_max(mem, seq)))


def carry_out(llm: Llama, plan: ReusePlan, tokens: Sequence[int], chunk: int,
              cancel: threading.Event, on_batch: Callable[[int], None]) -> int:
    """Drop, move and evaluate as `plan` says. Returns the position up to which the cells
    are those of `tokens` (all of the plan's table, unless cancelled); `llm`'s bookkeeping
    (its record of the evaluated tokens) is left matching that."""
    import llama_cpp

    from codectx.models.runtime import llama_api

    mem = memory(llm)
    for start, end in plan.drop:
        llama_cpp.llama_memory_seq_rm(mem, 0, start, end)
    for move in plan.moves:
        llama_cpp.llama_memory_seq_add(mem, 0, move.old_start, move.old_end, move.delta)
    n = plan.held[-1].end if plan.held else 0
    for start, end in plan.evaluate:
        llama_cpp.llama_memory_seq_rm(mem, 0, start, end)  # a recomputed head, if any
        later = end < n
        if later:
            llama_cpp.llama_memory_seq_cp(mem, 0, STASH, end, -1)
            llama_cpp.llama_memory_seq_rm(mem, 0, end, -1)
        try:
            at = start
            while at < end:
                if cancel.is_set():
                    return _truncate(llm, tokens, at)
                batch = list(tokens[at:min(end, at + chunk)])
                try:
                    llama_api.decode(llm, batch, at)
                except RuntimeError:
                    if cancel.is_set():  # stopped inside the call (see `Abort`)
                        return _truncate(llm, tokens, at)
                    raise
                at += len(batch)
                on_batch(len(batch))
        finally:
            if later:
                llama_cpp.llama_memory_seq_cp(mem, STASH, 0, -1, -1)
                llama_cpp.llama_memory_seq_rm(mem, STASH, -1, -1)
    llama_api.record(llm, tokens, n)  # the logits are not necessarily the last token's
    return n


class Abort:
    """llama.cpp's abort callback on `llm`'s context, watching a cancel event while one
    is set (`on`): a prefill call is stopped between two of its graph's operations, so a
    cancel is noticed within one call without making the calls small. llama.cpp then
    drops the cells of the stopped call. (Backends that run a whole graph at once, such
    as CUDA, notice it when the call ends.)"""

    def __init__(self, llm: Llama) -> None:
        import llama_cpp

        from codectx.models.runtime import llama_api

        self._event: threading.Event | None = None

        def stop(_: object) -> bool:
            event = self._event
            return event is not None and event.is_set()

        self._callback = llama_cpp.ggml_abort_callback(stop)  # kept: C holds a pointer
        llama_api.set_abort(llm, self._callback)

    @contextlib.contextmanager
    def on(self, cancel: threading.Event) -> Iterator[None]:
        self._event = cancel
        try:
            yield
        finally:
            self._event = None


def _truncate(llm: Llama, tokens: Sequence[int], at: int) -> int:
    """After a cancel mid-plan: keep only the cells before `at`, which are whole and right."""
    import llama_cpp

    from codectx.models.runtime import llama_api

    mem = memory(llm)
    llama_cpp.llama_memory_seq_rm(mem, STASH, -1, -1)
    llama_cpp.llama_memory_seq_rm(mem, 0, at, -1)
    llama_api.record(llm, tokens, at)
    return at
