"""What a GGUF file says about its model: architecture numbers and chat template.

llama-cpp-python reads only the vocabulary and metadata (`vocab_only`), which
takes a fraction of a second and no memory for the weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codectx.errors import ModelError
from codectx.llama_logs import quiet_llama


@dataclass(frozen=True)
class Architecture:
    """The numbers the memory planner needs."""

    name: str
    layers: int
    kv_heads: int
    head_dim: int
    trained_context: int


@dataclass(frozen=True)
class ModelInfo:
    path: Path
    size_bytes: int
    architecture: Architecture
    chat_template: str | None
    bos_token: str
    eos_token: str
    add_bos: bool


def read_info(path: Path) -> ModelInfo:
    """Metadata of a GGUF file; a clear ModelError when it is missing or not a model."""
    if not path.is_file():
        raise ModelError(f"model file not found: {path}",
                         "Set `model` to the path of a GGUF file or a name from "
                         "`codectx models list`.")
    quiet_llama()
    from llama_cpp import Llama

    try:
        vocab = Llama(str(path), vocab_only=True, verbose=False)
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelError(f"{path} is not a readable GGUF model ({exc})",
                         "Check that the download finished and the file is a GGUF model.") from exc
    meta = vocab.metadata
    arch = meta.get("general.architecture", "")

    def number(key: str, default: int | None = None) -> int:
        value = meta.get(f"{arch}.{key}")
        if value is None:
            if default is None:
                raise ModelError(f"{path}: GGUF metadata has no {arch}.{key}")
            return default
        return int(float(value))

    heads = number("attention.head_count")
    head_dim = number("attention.key_length", number("embedding_length") // max(heads, 1))
    architecture = Architecture(
        name=arch, layers=number("block_count"), kv_heads=number("attention.head_count_kv", heads),
        head_dim=head_dim, trained_context=number("context_length"),
    )
    bos = vocab.detokenize([vocab.token_bos()], special=True).decode("utf-8", "replace")
    eos = vocab.detokenize([vocab.token_eos()], special=True).decode("utf-8", "replace")
    return ModelInfo(
        path=path, size_bytes=path.stat().st_size, architecture=architecture,
        chat_template=meta.get("tokenizer.chat_template"), bos_token=bos, eos_token=eos,
        add_bos=meta.get("tokenizer.ggml.add_bos_token", "true") == "true",
    )
