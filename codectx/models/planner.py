"""How much memory a model needs for a context, and what context to ask for.

KV cache bytes per token = 2 (K and V) x layers x KV heads x head dim x bytes
per element: f16 is 2 bytes, q8_0 is 34 bytes per 32 elements, q4_0 18 per
32. Llama-3-8B (32 layers, 8 KV heads of 128) needs 128 KiB per token in f16,
so its full 1,048,576-token context needs 128 GiB. A prompt that cannot fit is
refused before anything is loaded, with the numbers and what to change.
"""

from __future__ import annotations

from dataclasses import dataclass

from codectx.errors import ModelError
from codectx.models.gguf import Architecture

KV_BYTES_PER_ELEMENT = {"f16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}
MIN_CONTEXT_STEP = 4096
COMPUTE_BASE = 256 << 20  # scratch buffers llama.cpp needs whatever the context
COMPUTE_PER_TOKEN = 1024  # and a little more per token of context (attention scores)
MEMORY_HEADROOM = 0.9  # never plan to use the last tenth of available memory


def kv_bytes_per_token(arch: Architecture, kv_type: str) -> int:
    if kv_type not in KV_BYTES_PER_ELEMENT:
        raise ModelError(f"unknown KV cache type '{kv_type}'",
                         f"Use one of: {', '.join(KV_BYTES_PER_ELEMENT)}.")
    elements = 2 * arch.layers * arch.kv_heads * arch.head_dim
    return round(elements * KV_BYTES_PER_ELEMENT[kv_type])


@dataclass(frozen=True)
class Plan:
    n_ctx: int
    kv_type: str
    weights_bytes: int
    kv_bytes: int
    compute_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.weights_bytes + self.kv_bytes + self.compute_bytes


def estimate(arch: Architecture, weights_bytes: int, n_ctx: int, kv_type: str) -> Plan:
    return Plan(
        n_ctx=n_ctx, kv_type=kv_type, weights_bytes=weights_bytes,
        kv_bytes=kv_bytes_per_token(arch, kv_type) * n_ctx,
        compute_bytes=COMPUTE_BASE + COMPUTE_PER_TOKEN * n_ctx,
    )


def gib(n: float) -> str:
    return f"{n / (1 << 30):.2f} GiB"


def round_context(needed: int) -> int:
    """Round up in quarter-octave steps (at least 4,096 tokens).

    Saved prompt states are keyed by the context size, so it must not change
    each time the repository grows by a few tokens.
    """
    step = max(MIN_CONTEXT_STEP, 1 << max(needed.bit_length() - 3, 0))
    return -(-needed // step) * step


def available_memory() -> int:
    import psutil

    return int(psutil.virtual_memory().available)


def max_context(arch: Architecture, weights_bytes: int, kv_type: str, available_bytes: int) -> int:
    """The longest context the model was trained for that also fits in memory."""
    free = int(available_bytes * MEMORY_HEADROOM) - weights_bytes - COMPUTE_BASE
    per_token = kv_bytes_per_token(arch, kv_type) + COMPUTE_PER_TOKEN
    return max(0, min(arch.trained_context, free // per_token))


def plan_context(
    arch: Architecture, weights_bytes: int, prompt_tokens: int, reserve_tokens: int,
    kv_type: str, available_bytes: int,
) -> Plan:
    """The smallest context that holds the prompt plus `reserve_tokens` for the answer.

    Raises ModelError (before anything is loaded) when the model's trained
    context or the available memory cannot hold it.
    """
    needed = prompt_tokens + reserve_tokens
    n_ctx = round_context(needed)
    if needed > arch.trained_context:
        raise ModelError(
            f"the prompt needs {needed:,} tokens ({prompt_tokens:,} + {reserve_tokens:,} for "
            f"the answer) but the model was trained for {arch.trained_context:,}",
            "Lower --budget so the repository fits, or use a model with a longer context "
            "(`codectx models list`).",
        )
    n_ctx = min(n_ctx, arch.trained_context)
    plan = estimate(arch, weights_bytes, n_ctx, kv_type)
    limit = int(available_bytes * MEMORY_HEADROOM)
    if plan.total_bytes > limit:
        smaller = [k for k in KV_BYTES_PER_ELEMENT
                   if KV_BYTES_PER_ELEMENT[k] < KV_BYTES_PER_ELEMENT[kv_type]]
        hint = "Lower --budget so the repository takes fewer tokens"
        if smaller:
            hint += f", or quantize the KV cache (kv_type = \"{smaller[-1]}\")"
        raise ModelError(
            f"{n_ctx:,} tokens of context need {gib(plan.total_bytes)} (weights "
            f"{gib(plan.weights_bytes)}, KV cache {gib(plan.kv_bytes)} as {kv_type}, compute "
            f"{gib(plan.compute_bytes)}) but only {gib(limit)} can be used",
            hint + ".",
        )
    return plan
