"""Counting tokens: exactly with a model's vocabulary, or by a fast estimate.

llama-cpp-python can load only the vocabulary of a GGUF file (`vocab_only`),
which is enough to count exactly. Exact counting runs at a couple of MB/s, so
counts are cached by content (see cache.py) and the estimate serves whenever
no model is configured; results say which of the two they are.
"""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from codectx.errors import TokenizerError

if TYPE_CHECKING:
    from llama_cpp import Llama

# Words, numbers, runs of spaces and single symbols: close to what a BPE vocabulary
# trained on code makes of source text, and far cheaper. Measured against the
# Qwen2.5-Coder vocabulary on Python and TypeScript sources, 0.9 pieces make a
# token (median error per file about 5%).
_PIECES = re.compile(r"[A-Za-z]+|\d{1,3}| {2,}|\S")
_TOKENS_PER_PIECE = 0.9
_log_callback: object = None


class TokenCounter(Protocol):
    @property
    def name(self) -> str:
        """Identifies the vocabulary in cache keys."""

    @property
    def exact(self) -> bool: ...

    def count(self, text: str) -> int: ...


class EstimateCounter:
    """An approximation labelled as such; no model needed."""

    name = "estimate-v2"
    exact = False

    def count(self, text: str) -> int:
        return round(len(_PIECES.findall(text)) * _TOKENS_PER_PIECE)


class GGUFCounter:
    """Exact counts from a GGUF model's own vocabulary, loaded on first use."""

    exact = True

    def __init__(self, model_path: Path) -> None:
        if not model_path.is_file():
            raise TokenizerError(
                f"model file not found: {model_path}",
                "Set `model` to the path of a GGUF file, or use `tokenizer = \"estimate\"`.",
            )
        self.model_path = model_path
        self._name: str | None = None
        self._llama: Llama | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        if self._name is None:
            # The vocabulary sits in the metadata at the front of the file.
            digest = hashlib.sha256()
            with self.model_path.open("rb") as fh:
                digest.update(fh.read(16 << 20))
            digest.update(str(self.model_path.stat().st_size).encode())
            self._name = f"gguf-{digest.hexdigest()[:16]}"
        return self._name

    def _load(self) -> Llama:
        if self._llama is None:
            try:
                from llama_cpp import Llama

                _silence_llama_logs()
                self._llama = Llama(str(self.model_path), vocab_only=True, verbose=False)
            except (ValueError, RuntimeError, OSError) as exc:
                raise TokenizerError(
                    f"cannot read the vocabulary of {self.model_path}: {exc}",
                    "Check that the file is a complete GGUF model.",
                ) from exc
        return self._llama

    def tokenize(self, text: str) -> list[int]:
        with self._lock:
            return list(self._load().tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def count(self, text: str) -> int:
        return len(self.tokenize(text)) if text else 0


def _silence_llama_logs() -> None:
    """llama.cpp logs warnings to stderr even with verbose=False; counting tokens needs none."""
    global _log_callback
    if _log_callback is not None:
        return
    import ctypes

    import llama_cpp

    @llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
    def drop(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        return None

    _log_callback = drop  # llama.cpp keeps calling it: it must outlive this function
    llama_cpp.llama_log_set(drop, ctypes.c_void_p(0))
