"""Does codectx run the model as fast as llama.cpp can on this machine?

For prompts of 2k and 8k tokens (and 32k with --long), prints side by side in
one run:

  codectx      the in-process backend with what a user gets by default: threads
               = physical cores, flash attention and n_batch as measured by its
               own tuning (timed here too), prompt evaluated through its prefill
               path (spans, abort callback, progress), then greedy generation
  raw best     raw llama-cpp-python (`Llama.generate`) at the best settings found
               by a sweep: flash attention on and off x n_batch 256/512/1024 at
               every thread count from 1 to the physical cores (the thread sweep
               at the shortest length only; longer lengths use its best count)
  llama-bench  llama.cpp's own benchmark from the same vendored sources
               (`make server` builds it): pp at each length, tg at that depth

Each configuration of the sweep runs once; then codectx and the sweep's best
prefill and best generation configurations run again side by side, interleaved,
best of two each, and those are compared (the maximum of a sweep over many single
runs is favoured by noise). Prefill is tokens per second to the first generated
token; generation is tokens per second after it. Target: codectx at least 95% of
the best raw prefill and generation at every length. Where llama.cpp sees a GPU,
the same runs use it (all layers offloaded) and the table says so.

Usage: python benchmarks/bench_runtime.py [--long] [--model PATH] [--gen N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LLAMA_BENCH = ROOT / "build" / "llama.cpp" / "bin" / "llama-bench"
BATCHES = (256, 512, 1024)
TARGET = 0.95


@dataclass(frozen=True)
class Run:
    label: str
    prefill: float  # tokens/s
    generation: float  # tokens/s
    generated: int
    fa: bool = False
    n_batch: int = 0
    threads: int = 0


def prompt_tokens(llm: object, length: int) -> list[int]:
    text = "".join(f"def step_{i}(value):\n    \"\"\"Stage {i}: scale and shift.\"\"\"\n"
                   f"    return value * {i % 7 + 1} + {i}\n\n" for i in range(length // 8))
    tokens = llm.tokenize(text.encode(), add_bos=False)  # type: ignore[attr-defined]
    return list(tokens[:length])


def raw(model: Path, tokens: list[int], gen: int, fa: bool, n_batch: int, threads: int,
        gpu_layers: int) -> Run:
    from llama_cpp import Llama

    llm = Llama(str(model), n_ctx=len(tokens) + gen + 64, n_batch=n_batch, n_ubatch=n_batch,
                n_threads=threads, n_threads_batch=threads, flash_attn=fa,
                n_gpu_layers=gpu_layers, verbose=False)
    try:
        started = time.perf_counter()
        first = 0.0
        count = 0
        for _ in llm.generate(tokens, temp=0.0, top_k=1):
            count += 1
            if count == 1:
                first = time.perf_counter()
            if count >= gen:
                break
        end = time.perf_counter()
    finally:
        llm.close()
    return Run(f"raw fa={'on' if fa else 'off'} b={n_batch} t={threads}",
               len(tokens) / (first - started), (count - 1) / (end - first), count, fa,
               n_batch, threads)


def codectx_backend(model: Path, prompt: int, gen: int) -> tuple[Any, float]:
    """codectx's backend as a user gets it (tuning included, timed)."""
    from codectx import config
    from codectx.models.identity import RepoId
    from codectx.models.runtime.local import LocalProvider

    loaded = config.load(None, {"model": str(model)})
    provider = LocalProvider(loaded, RepoId.detached("bench"), persist=False)
    t0 = time.perf_counter()
    backend = provider.backend(prompt, gen, lambda *_: None)
    return backend, time.perf_counter() - t0


def codectx_run(backend: Any, tokens: list[int], gen: int) -> Run:
    from codectx.models.backend import Completion, GenerationParams, Prompt

    backend.forget()
    o = backend.options
    prompt = Prompt(tuple(tokens[:-1]), tuple(tokens[-1:]))
    last = None
    for item in backend.stream(prompt, GenerationParams(max_tokens=gen, temperature=0.0)):
        if isinstance(item, Completion):
            last = item
    assert last is not None
    # Generation: the tokens after the first, over the time after the first.
    generation = (last.generated_tokens - 1) / (last.total_s - last.ttft_s) \
        if last.generated_tokens > 1 else 0.0
    label = (f"codectx fa={'on' if o.flash_attn else 'off'} b={o.n_batch} t={o.threads}"
             + (f" ngl={o.gpu_layers}" if o.gpu_layers else ""))
    return Run(label, len(tokens) / last.ttft_s, generation, last.generated_tokens,
               o.flash_attn, o.n_batch, o.threads or 0)


def llama_bench(model: Path, length: int, gen: int, fa: bool, n_batch: int, threads: int,
                gpu_layers: int) -> Run | None:
    if not LLAMA_BENCH.is_file():
        return None
    common = [str(LLAMA_BENCH), "-m", str(model), "-r", "1", "-o", "json", "-t", str(threads),
              "-fa", "on" if fa else "off", "-b", str(n_batch), "-ub", str(n_batch),
              "-ngl", str(gpu_layers)]
    pp = json.loads(subprocess.run([*common, "-p", str(length), "-n", "0"], check=True,
                                   capture_output=True, text=True).stdout)
    tg = json.loads(subprocess.run([*common, "-p", "0", "-n", str(gen), "-d", str(length)],
                                   check=True, capture_output=True, text=True).stdout)
    return Run(f"llama-bench fa={'on' if fa else 'off'} b={n_batch} t={threads}",
               float(pp[0]["avg_ts"]), float(tg[0]["avg_ts"]), gen, fa, n_batch, threads)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--long", action="store_true", help="also 32k tokens")
    parser.add_argument("--model", type=Path, default=None, help="GGUF file (default: embedded)")
    parser.add_argument("--gen", type=int, default=48, help="tokens generated per run")
    args = parser.parse_args()

    os.environ.setdefault("CODECTX_CACHE_DIR", tempfile.mkdtemp(prefix="bench-runtime-"))
    from codectx.llama_logs import quiet_llama

    quiet_llama()
    from llama_cpp import Llama

    from codectx import config
    from codectx.models.catalog.resolve import resolve_model
    from codectx.models.runtime import devices

    loaded = config.load(None)
    model = args.model or resolve_model(None, loaded.cache_path(), loaded.models_path()).path
    cores = devices.physical_cores()
    gpus = devices.llama_devices() if devices.supports_offload() else []
    gpu_layers = 999 if gpus else 0
    where = ", ".join(d.description for d in gpus) or f"CPU, {cores} physical core(s)"
    print(f"model {model.name}; {where}; llama-cpp-python built with "
          f"{'+'.join(devices.llama_backends())}")
    tok = Llama(str(model), vocab_only=True, verbose=False)
    lengths = [2048, 8192] + ([32768] if args.long else [])
    best_threads = cores
    verdicts: list[str] = []
    for n, length in enumerate(lengths):
        tokens = prompt_tokens(tok, length)
        backend, setup_s = codectx_backend(model, len(tokens), args.gen)
        thread_counts = range(1, cores + 1) if n == 0 else [best_threads]
        sweep = [raw(model, tokens, args.gen, fa, b, t, gpu_layers)
                 for t in thread_counts for fa in (False, True) for b in BATCHES]
        best_prefill = max(sweep, key=lambda r: r.prefill)
        best_gen = max(sweep, key=lambda r: r.generation)
        if n == 0:
            best_threads = best_prefill.threads
        # Side by side: codectx and the sweep's winners again, interleaved, best of two each
        # (the sweep's maximum over many runs is favoured by noise; this is not).
        finals: dict[str, list[Run]] = {}
        for _ in range(2):
            for run in (codectx_run(backend, tokens, args.gen),
                        *{r.label: r for r in (best_prefill, best_gen)}.values()):
                again = run if run.label.startswith("codectx") else \
                    raw(model, tokens, args.gen, run.fa, run.n_batch, run.threads, gpu_layers)
                finals.setdefault(again.label, []).append(again)
        best = {label: Run(label, max(r.prefill for r in runs),
                           max(r.generation for r in runs), runs[0].generated, runs[0].fa,
                           runs[0].n_batch, runs[0].threads)
                for label, runs in finals.items()}
        mine = next(r for label, r in best.items() if label.startswith("codectx"))
        raw_prefill = max((r for lb, r in best.items() if not lb.startswith("codectx")),
                          key=lambda r: r.prefill)
        raw_gen = max((r for lb, r in best.items() if not lb.startswith("codectx")),
                      key=lambda r: r.generation)
        bench = llama_bench(model, length, args.gen, best_prefill.fa, best_prefill.n_batch,
                            best_threads, gpu_layers)
        del backend
        print(f"\n{length:,} tokens (codectx load incl. tuning {setup_s:.1f} s)")
        print(f"  {'sweep (one run each)':44} {'prefill tok/s':>14} {'gen tok/s':>10}")
        for run in sorted(sweep, key=lambda r: -r.prefill):
            print(f"  {run.label:44} {run.prefill:14.1f} {run.generation:10.1f}")
        print(f"  {'side by side (best of two, interleaved)':44}")
        for run in [mine, *[r for lb, r in best.items() if not lb.startswith("codectx")]]:
            print(f"  {run.label:44} {run.prefill:14.1f} {run.generation:10.1f}")
        if bench is None:
            print("  llama-bench: not built (make server)")
        else:
            print(f"  {bench.label:44} {bench.prefill:14.1f} {bench.generation:10.1f}")
        for what, ratio, top in (("prefill", mine.prefill / raw_prefill.prefill, raw_prefill),
                                 ("generation", mine.generation / raw_gen.generation, raw_gen)):
            verdict = "met" if ratio >= TARGET else "NOT met"
            line = (f"{length:,} {what}: codectx {ratio:.0%} of the best raw ({top.label}); "
                    f"target {TARGET:.0%}: {verdict}")
            verdicts.append(line)
            print("  " + line)
    print("\nsummary")
    for line in verdicts:
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
