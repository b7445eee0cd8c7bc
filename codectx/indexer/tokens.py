"""Counting tokens: exactly with a model's vocabulary, or by a fast estimate.

llama-cpp-python can load only the vocabulary of a GGUF file (`vocab_only`),
which is enough to count exactly. Exact counting runs at a couple of MB/s, so
counts are cached by content (see cache.py) and the estimate serves whenever
no model is configured; results say which of the two they are.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from codectx.errors import TokenizerError
from codectx.files import gguf_identity
from codectx.llama_logs import quiet_llama

if TYPE_CHECKING:
    from llama_cpp import Llama

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
            self._name = f"gguf-{gguf_identity(self.model_path)}"
        return self._name

    def _load(self) -> Llama:
        if self._llama is None:
            try:
                from llama_cpp import Llama

                quiet_llama()
                self._llama = Llama(str(self.model_path), vocab_only=True, verbose=False)
            except (ValueError, RuntimeError, OSError) as exc:
                raise TokenizerError(
                    f"cannot read the vocabulary of {self.model_path}: {exc}",
                    "Check that the file is a complete GGUF model.",
                ) from exc
        return self._llama

    def tokenize(self, text: str, *, special: bool = False,
                 add_special: bool = False) -> list[int]:
        """`special`: special-token text becomes its token; `add_special`: a BOS if the model
        adds one."""
        with self._lock:
            return list(self._load().tokenize(text.encode("utf-8"), add_bos=add_special,
                                              special=special))

    def count(self, text: str) -> int:
        return len(self.tokenize(text)) if text else 0

