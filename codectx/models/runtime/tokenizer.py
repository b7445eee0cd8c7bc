"""Exact token counts from a GGUF model's own vocabulary.

llama-cpp-python can load only the vocabulary of a GGUF file (`vocab_only`),
which is enough to count exactly without loading the weights. This counter is
what a local model (or a local copy of a server's model) hands the indexer.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from codectx.errors import TokenizerError
from codectx.files import gguf_identity
from codectx.llama_logs import quiet_llama

if TYPE_CHECKING:
    from llama_cpp import Llama


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

