"""llama-cpp-python's private API, behind one adapter.

Reusing cells at new positions, saving and loading one sequence's state and
measuring prefill speed need what llama-cpp-python's `Llama` keeps to itself:
its context and batch objects (`_ctx`, `_batch`, `_internals`), its model
(`_model`) and its record of the evaluated tokens (`input_ids`, `n_tokens`).
Every such use is here, and nowhere else. These names change between
releases without notice, so the installed version is checked when this
module is imported: a version it was not written for fails with a clear
message instead of an AttributeError in the middle of a prefill.
"""

from __future__ import annotations

import contextlib
import ctypes
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import llama_cpp
from llama_cpp import Llama, _internals

from codectx.errors import ModelError

WRITTEN_FOR = ((0, 3, 36), (0, 4, 0))
"""The llama-cpp-python releases whose internals this module knows: from the first,
up to but not including the second."""


def check_version(version: str) -> None:
    """ModelError unless `version` is one this adapter was written for."""
    low, high = WRITTEN_FOR
    found = tuple(int(part) for part in re.findall(r"\d+", version)[:3])
    if not low <= found < high:
        shown = ".".join(map(str, low))
        raise ModelError(
            f"llama-cpp-python {version} is installed; codectx works with {shown} up to "
            f"{'.'.join(map(str, high))} (it relies on that release's internals)",
            f"Install llama-cpp-python=={shown} (`make setup` does).")


check_version(llama_cpp.__version__)


# -- the evaluated tokens -------------------------------------------------------------

def evaluated(llm: Llama) -> list[int]:
    """The tokens whose cells sequence 0 holds, in order, as `llm` records them."""
    return [int(t) for t in llm.input_ids[: llm.n_tokens]]


def count(llm: Llama) -> int:
    return int(llm.n_tokens)


def record(llm: Llama, tokens: Sequence[int], n: int, *, logits_stale: bool = True) -> None:
    """Record that the cells of `tokens[:n]` are in memory; with `logits_stale`, the logits
    are not those of the last of them, so the next generation evaluates one token first."""
    llm.input_ids[:n] = tokens[:n]
    llm.n_tokens = n
    if logits_stale:
        llm._requires_eval = True


def keep_first(llm: Llama, n: int) -> None:
    """Keep only the record of the first `n` evaluated tokens (their cells stay)."""
    llm.n_tokens = n


# -- the context and its memory -------------------------------------------------------

def memory(llm: Llama) -> Any:
    return llama_cpp.llama_get_memory(llm._ctx.ctx)


def clear(llm: Llama) -> None:
    """Drop every cell and the record of them."""
    llama_cpp.llama_memory_clear(memory(llm), True)
    llm.n_tokens = 0


def replace_context(llm: Llama, change: Callable[[Any], None]) -> None:
    """A new context for `llm`, its parameters changed by `change`; the old one is freed
    first, so memory never holds both."""
    params = llm.context_params
    llm._ctx.close()  # type: ignore[no-untyped-call]
    change(params)
    llm._ctx = _internals.LlamaContext(model=llm._model, params=params, verbose=False)
    clear(llm)


def decode(llm: Llama, tokens: Sequence[int], at: int) -> None:
    """Evaluate `tokens` into sequence 0 at positions from `at`, without logits."""
    llm._batch.set_batch(batch=list(tokens), n_past=at, logits_all=False)
    llm._ctx.decode(llm._batch)


def is_end(llm: Llama, token: int) -> bool:
    """Whether `token` ends generation (end of turn, end of text)."""
    return bool(llama_cpp.llama_vocab_is_eog(llm._model.vocab, token))


def set_abort(llm: Llama, callback: Any) -> None:
    """Install llama.cpp's abort callback (a `ggml_abort_callback`, kept alive by the
    caller) on `llm`'s context."""
    llama_cpp.llama_set_abort_callback(llm._ctx.ctx, callback, None)


# -- one sequence's state on disk -----------------------------------------------------

def load_state(llm: Llama, path: Path, tokens: Sequence[int]) -> bool:
    """Load sequence 0's cells from `path`, saved for exactly `tokens`; False (and memory
    cleared) when the file does not hold them."""
    llm.reset()  # type: ignore[no-untyped-call]
    clear(llm)
    n = len(tokens)
    out = (llama_cpp.llama_token * n)()
    got = ctypes.c_size_t(0)
    read = llama_cpp.llama_state_seq_load_file(
        llm._ctx.ctx, str(path).encode(), 0, out, n, ctypes.byref(got))
    if read == 0 or got.value != n or tuple(out[:n]) != tuple(tokens):
        clear(llm)
        return False
    record(llm, tokens, n)
    return True


def save_state(llm: Llama, path: Path, tokens: Sequence[int]) -> None:
    """Write sequence 0's cells of `tokens` to `path`; OSError when llama.cpp cannot."""
    array = (llama_cpp.llama_token * len(tokens))(*tokens)
    if llama_cpp.llama_state_seq_save_file(llm._ctx.ctx, str(path).encode(), 0, array,
                                           len(tokens)) == 0:
        raise OSError(f"llama.cpp could not write {path}")


# -- measuring: contexts and batches of one's own -------------------------------------

Decode = Callable[[Sequence[int], int, bool], None]
"""Evaluate tokens at a position; the flag asks for every token's logits."""


@contextlib.contextmanager
def decoder(llm: Llama, n_batch: int, *, flash_attn: bool | None = None) -> Iterator[Decode]:
    """Decode calls of up to `n_batch` tokens, into `llm`'s own context, or with
    `flash_attn` into a scratch context of `llm`'s model with that setting and n_batch
    (freed after)."""
    ctx: Any = llm._ctx
    scratch = flash_attn is not None
    if scratch:
        params = llama_cpp.llama_context_params.from_buffer_copy(llm.context_params)
        params.flash_attn_type = 1 if flash_attn else 0
        params.n_batch = params.n_ubatch = n_batch
        ctx = _internals.LlamaContext(model=llm._model, params=params, verbose=False)
    batch = _internals.LlamaBatch(n_tokens=n_batch, embd=0, n_seq_max=1, verbose=False)

    def run(tokens: Sequence[int], at: int, logits: bool) -> None:
        batch.set_batch(batch=list(tokens), n_past=at, logits_all=logits)
        ctx.decode(batch)

    try:
        yield run
    finally:
        batch.close()  # type: ignore[no-untyped-call]
        if scratch:
            ctx.close()
