"""How much memory a model needs for a context, and what context to ask for.

KV cache bytes per token = 2 (K and V) x layers x KV heads x head dim x bytes
per element: f16 is 2 bytes, q8_0 is 34 bytes per 32 elements, q4_0 18 per
32. Llama-3-8B (32 layers, 8 KV heads of 128) needs 128 KiB per token in f16,
so its full 1,048,576-token context needs 128 GiB. A prompt that cannot fit is
refused before anything is loaded, with the numbers and what to change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from codectx.errors import ModelError
from codectx.models.gguf import Architecture
from codectx.models.runtime.placement import GpuSettings, Machine, Placement, check, gib, place

KV_BYTES_PER_ELEMENT = {"f16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}
MIN_CONTEXT_STEP = 4096
COMPUTE_BASE = 256 << 20  # scratch buffers llama.cpp needs whatever the context
COMPUTE_PER_TOKEN = 1024  # and a little more per token of context (attention scores)


def kv_bytes_per_token(arch: Architecture, kv_type: str) -> int:
    if kv_type not in KV_BYTES_PER_ELEMENT:
        raise ModelError(f"unknown KV cache type '{kv_type}'",
                         f"Use one of: {', '.join(KV_BYTES_PER_ELEMENT)}.")
    elements = 2 * arch.layers * arch.kv_heads * arch.head_dim
    return round(elements * KV_BYTES_PER_ELEMENT[kv_type])


@dataclass(frozen=True)
class ContextPlan:
    n_ctx: int
    kv_type: str
    weights_bytes: int
    kv_bytes: int
    compute_bytes: int
    placement: Placement | None = None
    notes: tuple[str, ...] = ()
    """Planned fall-backs, one line each (fewer layers on the GPU, a smaller KV type)."""

    @property
    def total_bytes(self) -> int:
        return self.weights_bytes + self.kv_bytes + self.compute_bytes

    @property
    def gpu_layers(self) -> int:
        return self.placement.gpu_layers if self.placement else 0


def estimate(arch: Architecture, weights_bytes: int, n_ctx: int, kv_type: str) -> ContextPlan:
    return ContextPlan(
        n_ctx=n_ctx, kv_type=kv_type, weights_bytes=weights_bytes,
        kv_bytes=kv_bytes_per_token(arch, kv_type) * n_ctx,
        compute_bytes=COMPUTE_BASE + COMPUTE_PER_TOKEN * n_ctx,
    )


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


def this_machine() -> Machine:
    """System memory now, and the GPUs this llama-cpp-python build can offload to."""
    from codectx.models.runtime import devices

    offload = devices.supports_offload()
    return Machine(available_memory(), tuple(devices.llama_devices()) if offload else (),
                   offload)


def kv_candidates(kv_type: str, auto: bool) -> tuple[str, ...]:
    """`kv_type` first; when it was chosen automatically, the smaller types after it."""
    if not auto:
        return (kv_type,)
    return (kv_type, *[k for k in KV_BYTES_PER_ELEMENT
                       if KV_BYTES_PER_ELEMENT[k] < KV_BYTES_PER_ELEMENT[kv_type]])


def _fit(arch: Architecture, weights_bytes: int, n_ctx: int, kv_types: Sequence[str],
         machine: Machine, gpu: GpuSettings, checked: tuple[int | None, tuple[str, ...]],
         ) -> ContextPlan | None:
    """The first way to hold `n_ctx` tokens that fits: every layer on the GPUs with each KV
    type in turn, then as many layers as fit; None when nothing fits. `checked`: what
    `check` said of the GPU settings."""
    fixed, notes = checked
    most = _offloadable(arch, machine)
    tries = [fixed] if fixed is not None else [most, *range(most - 1, -1, -1)]
    for layers in tries:
        for kv_type in kv_types:
            plan = estimate(arch, weights_bytes, n_ctx, kv_type)
            where = place(arch.layers, weights_bytes, plan.kv_bytes, plan.compute_bytes,
                          layers, gpu, machine)
            if where.fits():
                said = list(notes)
                if kv_type != kv_types[0]:
                    said.append(f"the KV cache is {kv_type} rather than {kv_types[0]}, "
                                "to fit the context in memory")
                if fixed is None and 0 < layers < most:
                    said.append(f"{layers} of {most} layers fit on the GPU; the rest run on "
                                "the CPU")
                return replace(plan, placement=where, notes=tuple(said))
    return None


def _offloadable(arch: Architecture, machine: Machine) -> int:
    """The layers that can go to a GPU here: all, with the output layer, or none."""
    return arch.layers + 1 if machine.devices and machine.offload else 0


def max_context(arch: Architecture, weights_bytes: int, kv_type: str, machine: Machine,
                gpu: GpuSettings | None = None, *, auto_kv: bool = False) -> int:
    """The longest context the model was trained for that also fits here."""
    gpu = gpu or GpuSettings()
    kv_types = kv_candidates(kv_type, auto_kv)
    checked = check(gpu, machine, arch.layers)
    low, high = 0, arch.trained_context
    while low < high:
        mid = (low + high + 1) // 2
        if _fit(arch, weights_bytes, mid, kv_types, machine, gpu, checked):
            low = mid
        else:
            high = mid - 1
    return low


def plan_context(
    arch: Architecture, weights_bytes: int, prompt_tokens: int, reserve_tokens: int,
    kv_type: str, machine: Machine, gpu: GpuSettings | None = None, *, auto_kv: bool = False,
) -> ContextPlan:
    """The smallest context that holds the prompt plus `reserve_tokens` for the answer,
    placed on this machine's GPUs and memory.

    Raises ModelError (before anything is loaded) when the model's trained context or
    the memory cannot hold it, with each device's numbers.
    """
    gpu = gpu or GpuSettings()
    needed = prompt_tokens + reserve_tokens
    if needed > arch.trained_context:
        raise ModelError(
            f"the prompt needs {needed:,} tokens ({prompt_tokens:,} + {reserve_tokens:,} for "
            f"the answer) but the model was trained for {arch.trained_context:,}",
            "Lower the `budget` setting so the repository fits, or use a model with a longer "
            "context (`codectx models list`).",
        )
    n_ctx = min(round_context(needed), arch.trained_context)
    plan, fits = attempt(arch, weights_bytes, n_ctx, kv_type, machine, gpu, auto_kv=auto_kv)
    if fits:
        return plan
    smaller = kv_candidates(kv_type, auto=True)[1:]
    hint = "Lower the `budget` setting so the repository takes fewer tokens"
    if smaller and not auto_kv:
        hint += f", or quantize the KV cache (set `kv_type` to \"{smaller[-1]}\")"
    if gpu.layers:
        hint += ", or offload fewer layers (gpu_layers)"
    assert plan.placement is not None
    raise ModelError(
        f"{n_ctx:,} tokens of context need {gib(plan.total_bytes)} (weights "
        f"{gib(plan.weights_bytes)}, KV cache {gib(plan.kv_bytes)} as {kv_type}, compute "
        f"{gib(plan.compute_bytes)}): " + "; ".join(plan.placement.overflows()),
        hint + ".",
    )


def attempt(arch: Architecture, weights_bytes: int, n_ctx: int, kv_type: str,
            machine: Machine, gpu: GpuSettings, *,
            auto_kv: bool = False) -> tuple[ContextPlan, bool]:
    """The plan for exactly `n_ctx` tokens and whether it fits; when nothing fits, the
    placement that was wanted (every layer where a GPU is to be used), to show where it
    overflows. ModelError for a GPU setting that cannot be right here."""
    checked = check(gpu, machine, arch.layers)
    found = _fit(arch, weights_bytes, n_ctx, kv_candidates(kv_type, auto_kv), machine, gpu,
                 checked)
    if found is not None:
        return found, True
    plan = estimate(arch, weights_bytes, n_ctx, kv_type)
    fixed, notes = checked
    layers = fixed if fixed is not None else _offloadable(arch, machine)
    where = place(arch.layers, weights_bytes, plan.kv_bytes, plan.compute_bytes, layers, gpu,
                  machine)
    return replace(plan, placement=where, notes=notes), False
