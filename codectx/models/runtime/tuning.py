"""Flash attention and prompt batch size, chosen by measuring them on this machine.

Which is faster depends on the model, the machine and where the layers run: on a
2-core CPU, flash attention with 512-token calls prefilled 2,048 tokens 37% faster
than without it in 128-token calls, and at 8,192 tokens the two were level. So the
settings are not guessed: a short measurement (a prompt of 512 tokens on a CPU, 4k
on a GPU, in fresh contexts over the model already in memory, within about a minute
even for a large model on a small CPU) picks them once per model, machine and
placement, and the choice is kept in the cache directory. `codectx doctor --tune`
measures again, longer (1k tokens) and with every batch size.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from codectx.files import gguf_identity, write_bytes_atomic
from codectx.models.runtime.speed import Speed, fit

BATCHES = (256, 512, 1024)
FIRST_BATCH = 512  # flash attention is decided at this batch size, then the size
PROBE = 512  # prompt tokens per trial at a model's first load, on a CPU
PROBE_FULL = 1024  # with `codectx doctor --tune`
PROBE_GPU = 4096
DEPTH = 2048  # tokens deep the speed model is measured at a first load (CPU and GPU alike)
DEPTH_FULL = 8192  # with `codectx doctor --tune`
DEPTH_GEN = 8  # tokens generated after each prefill call of the speed measurement
BUDGET_S = 60.0  # a first load starts no trial past this (the one under way finishes)
FAST = 500.0  # tokens/s from which calls longer than the probe are tried at a first load
GEN_STEPS = 16  # tokens generated after each trial's prompt
# Flash attention can speed up the prompt and slow down generation (on a 2-core CPU: 1% faster
# prefill, 22% slower generation), so settings are compared by the time of a typical warm
# question: this many prompt tokens evaluated, and this many generated.
TYPICAL_PROMPT = 2048
TYPICAL_ANSWER = 256
_TEXT = ("def {name}(items, key=None):\n    \"\"\"Return the items sorted by key.\"\"\"\n"
         "    result = sorted(items, key=key)\n    return [x for x in result if x is not None]\n\n")


@dataclass(frozen=True)
class Trial:
    flash_attn: bool
    n_batch: int
    prefill_per_s: float
    generation_per_s: float

    @property
    def seconds(self) -> float:
        """What a typical question would take with these settings (the measure of best)."""
        return TYPICAL_PROMPT / self.prefill_per_s + TYPICAL_ANSWER / self.generation_per_s


@dataclass(frozen=True)
class Tuning:
    flash_attn: bool
    n_batch: int
    trials: tuple[Trial, ...]
    measured_at: float
    complete: bool = True
    """False when a first load's time limit left trials out (`doctor --tune` runs all)."""

    def describe(self) -> str:
        return f"flash attention {'on' if self.flash_attn else 'off'}, n_batch {self.n_batch}"


@dataclass(frozen=True)
class Setup:
    """Everything a measurement depends on besides the two settings it chooses."""

    model: Path
    threads: int
    gpu_layers: int
    main_gpu: int
    tensor_split: tuple[float, ...]
    offload_kqv: bool
    kv_type: str

    def key(self, fixed: str = "") -> str:
        """`fixed`: the settings given rather than measured, if any."""
        import llama_cpp

        from codectx.models.runtime import devices

        gpus = ",".join(d.description for d in devices.llama_devices()) \
            if self.gpu_layers else ""
        parts = [gguf_identity(self.model), llama_cpp.__version__, str(self.threads),
                 str(self.gpu_layers), str(self.main_gpu), repr(self.tensor_split),
                 str(self.offload_kqv), self.kv_type, _cpu_name(), gpus, fixed]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _path(cache_dir: Path) -> Path:
    return cache_dir / "tuning.json"


def _read(cache_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads(_path(cache_dir).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def cached(setup: Setup, cache_dir: Path, fixed: str = "") -> Tuning | None:
    entry = _read(cache_dir).get(setup.key(fixed))
    if not isinstance(entry, dict):
        return None
    try:
        return Tuning(bool(entry["flash_attn"]), int(entry["n_batch"]),
                      tuple(Trial(**t) for t in entry["trials"]), float(entry["measured_at"]),
                      bool(entry.get("complete", True)))
    except (TypeError, KeyError, ValueError):
        return None


def _store(key: str, entry: dict[str, Any], cache_dir: Path) -> None:
    from filelock import FileLock

    cache_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(_path(cache_dir)) + ".lock"):
        data = _read(cache_dir)
        data[key] = entry
        # A full disk costs a measurement next time, nothing more.
        with contextlib.suppress(OSError):
            write_bytes_atomic(_path(cache_dir), json.dumps(data, indent=1).encode())


Step = Callable[[int, int], None]


def tune(setup: Setup, cache_dir: Path, *, flash_attn: bool | None = None,
         n_batch: int | None = None, again: bool = False,
         step: Step | None = None) -> Tuning:
    """The cached choice for `setup`, or a new measurement (always with `again`, which
    also measures longer and without a time limit). A setting given (`flash_attn`,
    `n_batch`) is not measured, only the other."""
    fixed = "" if flash_attn is None and n_batch is None else f"{flash_attn}/{n_batch}"
    if not again and (found := cached(setup, cache_dir, fixed)) is not None:
        return found
    quantized = setup.kv_type != "f16"  # a quantized V cache needs flash attention
    fas = (True,) if quantized else ((flash_attn,) if flash_attn is not None else (True, False))
    batches = (n_batch,) if n_batch is not None else BATCHES
    tuning = measure(setup, fas, batches, step, full=again)
    _store(setup.key(fixed), asdict(tuning), cache_dir)
    return tuning


def measure(setup: Setup, fas: Sequence[bool], batches: Sequence[int],
            step: Step | None = None, *, full: bool = False) -> Tuning:
    """Prefill speed for each choice: first flash attention on and off at one batch
    size, then the other batch sizes with the faster of the two. Unless `full`, the
    probe is short, calls longer than it are tried only where prefill is fast, and no
    trial starts past BUDGET_S."""
    from codectx.llama_logs import quiet_llama

    quiet_llama()
    from llama_cpp import Llama

    from codectx.models.runtime.llama_cpp import KV_TYPES

    probe = PROBE_GPU if setup.gpu_layers else (PROBE_FULL if full else PROBE)
    first = FIRST_BATCH if FIRST_BATCH in batches else batches[0]
    planned = [(fa, first) for fa in fas] + [(None, b) for b in batches if b != first]
    longest = max(probe, *batches) + GEN_STEPS
    llm = Llama(str(setup.model), n_ctx=longest, n_batch=max(batches),
                n_ubatch=max(batches), n_threads=setup.threads,
                n_threads_batch=setup.threads, n_gpu_layers=setup.gpu_layers,
                main_gpu=setup.main_gpu, tensor_split=list(setup.tensor_split) or None,
                offload_kqv=setup.offload_kqv, type_k=KV_TYPES[setup.kv_type],
                type_v=KV_TYPES[setup.kv_type], verbose=False)
    trials: list[Trial] = []
    started = time.perf_counter()
    try:
        text = "".join(_TEXT.format(name=f"f{i}") for i in range(longest // 20))
        tokens = llm.tokenize(text.encode(), add_bos=False)[:longest - GEN_STEPS]
        for fa, size in planned:
            if trials and not full:
                slowest = min(t.prefill_per_s for t in trials)
                fastest = max(t.prefill_per_s for t in trials)
                n = max(probe, size)
                if (size > probe and fastest < FAST) or \
                        time.perf_counter() - started + n / slowest > BUDGET_S:
                    continue
            faster = min(trials, key=lambda t: t.seconds).flash_attn if trials else True
            trials.append(_trial(llm, tokens[:max(probe, size)],
                                 faster if fa is None else fa, size))
            if step:
                step(len(trials), len(planned))
    finally:
        llm.close()
    if step:
        step(len(planned), len(planned))
    best = min(trials, key=lambda t: t.seconds)
    return Tuning(best.flash_attn, best.n_batch, tuple(trials), time.time(),
                  len(trials) == len(planned))


def _trial(llm: Any, tokens: list[int], flash_attn: bool, n_batch: int) -> Trial:
    """Prefill `tokens` in calls of `n_batch`, then generate GEN_STEPS tokens after them."""
    from codectx.models.runtime import llama_api

    with llama_api.decoder(llm, n_batch, flash_attn=flash_attn) as decode:
        started = time.perf_counter()
        for at in range(0, len(tokens), n_batch):
            decode(tokens[at:at + n_batch], at, False)
        prefilled = time.perf_counter()
        for step in range(GEN_STEPS):  # one token a call, with its logits, as generation does
            decode([tokens[step]], len(tokens) + step, True)
        generated = time.perf_counter()
    return Trial(flash_attn, n_batch, round(len(tokens) / (prefilled - started), 1),
                 round(GEN_STEPS / (generated - prefilled), 1))


def cached_speed(setup: Setup, cache_dir: Path, flash_attn: bool, n_batch: int) -> Speed | None:
    entry = _read(cache_dir).get(_speed_key(setup, flash_attn, n_batch))
    if isinstance(entry, dict):
        with contextlib.suppress(KeyError, TypeError, ValueError):
            return Speed.from_json(entry)
    return None


def _speed_key(setup: Setup, flash_attn: bool, n_batch: int) -> str:
    return "speed:" + setup.key(f"{flash_attn}/{n_batch}")


def speed(setup: Setup, cache_dir: Path, flash_attn: bool, n_batch: int, *,
          again: bool = False, step: Step | None = None) -> Speed:
    """The speed model for `setup` with these prefill settings: cached, or measured now
    (always with `again`, which measures deeper)."""
    if not again and (found := cached_speed(setup, cache_dir, flash_attn, n_batch)):
        return found
    found = measure_speed(setup, flash_attn, n_batch, DEPTH_FULL if again else DEPTH, step)
    _store(_speed_key(setup, flash_attn, n_batch), found.to_json(), cache_dir)
    return found


def measure_speed(setup: Setup, flash_attn: bool, n_batch: int, depth: int,
                  step: Step | None = None) -> Speed:
    """Prefill `depth` tokens in calls of `n_batch`, generating a few tokens after each
    call: each call gives the seconds per token at its depth, for the prompt and for
    generation, and a line through them is the speed model."""
    from codectx.llama_logs import quiet_llama

    quiet_llama()
    from llama_cpp import Llama

    from codectx.models.runtime import llama_api
    from codectx.models.runtime.llama_cpp import KV_TYPES

    calls = max(2, depth // n_batch)
    n_ctx = calls * (n_batch + DEPTH_GEN) + 16
    llm = Llama(str(setup.model), n_ctx=n_ctx, n_batch=n_batch, n_ubatch=n_batch,
                n_threads=setup.threads, n_threads_batch=setup.threads,
                n_gpu_layers=setup.gpu_layers, main_gpu=setup.main_gpu,
                tensor_split=list(setup.tensor_split) or None, offload_kqv=setup.offload_kqv,
                type_k=KV_TYPES[setup.kv_type], type_v=KV_TYPES[setup.kv_type],
                flash_attn=flash_attn, verbose=False)
    text = "".join(_TEXT.format(name=f"f{i}") for i in range(n_ctx // 20))
    tokens = llm.tokenize(text.encode(), add_bos=False)
    prefill: list[tuple[float, float]] = []
    generate: list[tuple[float, float]] = []
    at = 0
    try:
        with llama_api.decoder(llm, n_batch) as decode:
            for call in range(calls):
                started = time.perf_counter()
                decode(tokens[at:at + n_batch], at, False)
                prefill.append((at + n_batch / 2, (time.perf_counter() - started) / n_batch))
                at += n_batch
                started = time.perf_counter()
                for _ in range(DEPTH_GEN):  # one token a call, with its logits, as generation
                    decode([tokens[at]], at, True)
                    at += 1
                generate.append((at - DEPTH_GEN / 2,
                                 (time.perf_counter() - started) / DEPTH_GEN))
                if step:
                    step(call + 1, calls)
    finally:
        llm.close()
    # The first call pays for warming caches and buffers: fitted only when it is all there is.
    when = time.strftime("%Y-%m-%d %H:%M")
    return Speed(fit(prefill[1:] or prefill), fit(generate[1:] or generate),
                 f"measured {when} over {at:,} tokens")
