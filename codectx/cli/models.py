"""`codectx cache` and `codectx models`: saved prompt states, and the models codectx knows."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.text import Text

from codectx.cli.console import download_bar, err, out
from codectx.cli.options import friendly_errors, load_settings, model_options, warm_now
from codectx.files import human_size

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.table import Table

    from codectx.config import Loaded
    from codectx.models.catalog import CatalogModel
    from codectx.models.runtime.placement import GpuSettings
    from codectx.models.runtime.prompt_cache import Entry


@click.group("cache")
def cache_group() -> None:
    """Saved prompt states: see, prefill or remove them."""


@cache_group.command("status")
@friendly_errors
def cache_status() -> None:
    """List the saved prompt states: repository, tokens covered, size, last use."""
    from codectx.models.runtime.prompt_cache import PromptCache

    loaded = load_settings(Path("."))
    root = loaded.prompts_path()
    cap = int(loaded.settings.prompt_cache_gb * (1 << 30))
    entries = PromptCache(root, None, cap).all_entries() if root.is_dir() else []
    out.print(cache_table(entries, root, cap))


@cache_group.command("warm")
@click.argument("path", type=click.Path(path_type=Path), default=".")
@model_options
@friendly_errors
def cache_warm(path: Path, flags: dict[str, Any]) -> None:
    """Prefill the repository at PATH now and save it, so the next question starts warm."""
    from codectx.assistant.session import Session

    warm_now(Session(path, load_settings(path, flags)))


@cache_group.command("clear")
@click.option("--index", "and_index", is_flag=True, help="Also remove the index cache.")
@click.option("--checks", "and_checks", is_flag=True,
              help="Also remove the copies of repositories, and their build output, that "
                   "an edit's checks keep between runs.")
@friendly_errors
def cache_clear(and_index: bool, and_checks: bool) -> None:
    """Remove every saved prompt state (and, with --index, the index cache; with --checks,
    the checks' copies)."""
    from codectx.models.runtime.prompt_cache import PromptCache

    loaded = load_settings(Path("."))
    root = loaded.prompts_path()
    removed = PromptCache(root, None, 0).clear() if root.is_dir() else 0
    err.print(f"removed {removed} saved prompt state(s) from {root}", markup=False)
    if and_index:
        from codectx.indexer.cache import clear_index_caches

        clear_index_caches(loaded.cache_path())
        err.print("removed the index cache", markup=False)
    if and_checks:
        import shutil

        from codectx.assistant.checks.scratch import BUILDS

        builds = loaded.cache_path() / BUILDS
        shutil.rmtree(builds, ignore_errors=True)
        err.print(f"removed the checks' copies and build output ({builds})", markup=False)


@click.group("models")
def models_group() -> None:
    """Models codectx knows, and what they need."""


@models_group.command("list")
@friendly_errors
def models_list() -> None:
    """The models known by name, and whether each is available here."""

    from codectx.models.catalog import auto

    loaded = load_settings(Path("."))
    out.print(models_table(loaded.models_path()))
    choice = auto.choose(loaded, now=False)
    out.print(f"auto (the default `model`) picks {choice.name}: {choice.why}", markup=False)


@models_group.command("info")
@click.argument("model")
@click.option("--ctx", type=click.IntRange(min=1), default=None, metavar="N",
              help="Context length to plan for (default: the model's trained context).")
@click.option("--kv", type=click.Choice(["f16", "q8_0", "q4_0"]), default=None,
              help="KV cache type to plan for (default: the catalog's recommendation or f16).")
@friendly_errors
def models_info(model: str, ctx: int | None, kv: str | None) -> None:
    """What MODEL (a name or a GGUF file) is, and the memory a context needs.

    \b
    Example:
      codectx models info llama-3-8b-instruct-gradient-1048k --ctx 1048576 --kv q4_0
    """
    from codectx.models.runtime.local import gpu_settings

    loaded = load_settings(Path("."), {"model": model})
    out.print(model_info(model, ctx, kv, loaded.cache_path(), loaded.models_path(),
                         gpu_settings(loaded.settings)))
    turn_plan(model, loaded)


def turn_plan(model: str, loaded: Loaded) -> None:
    """How large a turn is made here from the model's measured speed, with its expected
    time, once the model is downloaded and its speed measured."""
    from codectx.cli.doctor import sizes_table
    from codectx.errors import ModelError
    from codectx.models.identity import RepoId
    from codectx.models.runtime.local import LocalProvider

    try:
        provider = LocalProvider(loaded, RepoId.detached("info"), persist=False)
        speed = provider.measured_speed()
    except ModelError:
        return  # not downloaded: the table above says so
    if speed is None:
        out.print(f"speed: not measured yet here (`codectx doctor --tune --model {model}`)",
                  markup=False)
    else:
        out.print(sizes_table(provider, speed))


@models_group.command("pull")
@click.argument("name")
@friendly_errors
def models_pull(name: str) -> None:
    """Download the catalog model NAME into the models directory.

    The file comes from the Hugging Face hub (HF_ENDPOINT names a mirror; HF_TOKEN is sent
    for gated repositories) and is checked against the catalog's sha256 where it has one.
    An interrupted download resumes where it stopped; a file already there is kept.

    \b
    Example:
      codectx models pull qwen2.5-coder-1.5b-instruct
    """
    from codectx.models.catalog import lookup
    from codectx.models.catalog.pull import download_url, pull

    entry = lookup(name)
    if entry.embedded:
        err.print(f"{name} is the embedded model: it comes from the codectx[model] extra "
                  "(pip install 'codectx[model]'), not from a download", markup=False,
                  soft_wrap=True)
        return
    from codectx.models.catalog.embedded import packaged_for

    packaged = packaged_for(entry.package)
    if packaged is not None and packaged.installed():
        err.print(f"{name} comes from the installed codectx[{packaged.extra}] extra: nothing to "
                  "download (it is joined from its packages on first use)", markup=False,
                  soft_wrap=True)
        return
    if packaged is not None:
        err.print(f"{name} also comes as the codectx[{packaged.extra}] extra, instead of "
                  f"this download: {packaged.install}", markup=False, soft_wrap=True)
    models_dir = load_settings(Path(".")).models_path()
    if entry.repo:
        err.print(f"{entry.file} ({_catalog_size(entry) or 'size unknown'}) from "
                  f"{download_url(entry)}", markup=False, soft_wrap=True)
    try:
        with download_bar() as progress:
            pulled = pull(entry, models_dir, progress)
    except KeyboardInterrupt:
        click.echo(f"codectx: interrupted; `codectx models pull {name}` resumes the download",
                   err=True)
        sys.exit(130)
    checked = {"sha256": ", sha256 checked", "size": ", size checked"}.get(pulled.checked, "")
    what = "downloaded" if pulled.status == "downloaded" else "already downloaded"
    err.print(f"{what}: {pulled.path} ({human_size(pulled.size)}{checked})", markup=False,
              soft_wrap=True)


def _catalog_size(entry: CatalogModel) -> str:
    """The catalog's size of a model's file ("" when it does not know it)."""
    return human_size(entry.size) if entry.size is not None else ""


def cache_table(entries: list[Entry], root: Path, cap: int) -> Table:
    from rich.table import Table

    total = sum(e.size_bytes for e in entries)
    table = Table("repository", "model", "tokens", "size", "last used",
                  title=f"{len(entries)} saved prompt state(s), {human_size(total)} of "
                        f"{human_size(cap)} "
                        f"in {root}")
    now = time.time()
    for entry in sorted(entries, key=lambda e: -e.last_used):
        ago = now - entry.last_used
        when = f"{ago / 3600:.1f} h ago" if ago >= 3600 else f"{ago / 60:.0f} min ago"
        table.add_row(entry.label or "?", entry.model or "?", f"{len(entry.tokens):,}",
                      human_size(entry.size_bytes), when)
    return table


def models_table(models_dir: Path) -> ModelsListing:
    from codectx.models.catalog import catalog

    return ModelsListing([(model.name, f"{model.context:,}", model.kv, model.edit_format,
                           _catalog_size(model), _available(model, models_dir))
                          for model in catalog().values()])


class ModelsListing:
    """`codectx models list`: a table where it fits with no cell wrapped, else a block per
    model. A model's name, which is what the user types, is never cut in either."""

    HEADERS = ("name", "context", "KV", "edits", "size", "available here")

    def __init__(self, rows: list[tuple[str, str, str, str, str, str]]) -> None:
        self.rows = rows

    def table(self) -> Table:
        from rich.table import Table

        table = Table(*self.HEADERS)
        name = table.columns[0]
        name.no_wrap = True
        name.min_width = max((len(row[0]) for row in self.rows), default=None)
        for row in self.rows:
            table.add_row(*(Text(cell) for cell in row))
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.measure import Measurement
        from rich.padding import Padding

        table = self.table()
        # Only a table that fits unwrapped: narrower, rich may cut a cell's long word ("…").
        needs = Measurement.get(console, options.update(max_width=1 << 16), table).maximum
        if needs <= options.max_width:
            yield table
            return
        for name, context, kv, edits, size, available in self.rows:
            yield Text(name, style="bold", overflow="fold")
            details = f"context {context} · KV {kv} · edits {edits}"
            for line in (details + (f" · size {size}" if size else ""),
                         f"available here: {available}"):
                yield Padding(Text(line), (0, 0, 0, 2), expand=False)


def _available(model: CatalogModel, models_dir: Path) -> str:
    """Whether a catalog model is here: from its chunk packages, or in the models directory."""
    from codectx.models.catalog.embedded import packaged_for

    packaged = packaged_for(model.package)
    if model.embedded:
        return "yes (embedded)" if packaged and packaged.installed() else "no: codectx[model]"
    if packaged is not None and packaged.installed():
        return f"yes (codectx[{packaged.extra}])"
    if (models_dir / model.file).is_file():
        return "yes"
    return f"no: codectx[{packaged.extra}] or models pull" if packaged else "no: models pull"


def model_info(spec: str, ctx: int | None, kv: str | None, cache_dir: Path,
               models_dir: Path, gpu: GpuSettings) -> Table:
    from rich.table import Table

    from codectx.errors import ModelError
    from codectx.models.catalog import catalog
    from codectx.models.catalog.resolve import resolve_model
    from codectx.models.gguf import Architecture, read_info
    from codectx.models.runtime import planner
    from codectx.models.runtime.placement import gib

    entry = catalog().get(spec)
    try:
        resolved = resolve_model(spec, cache_dir, models_dir)
        info = read_info(resolved.path)
        arch, weights, source = info.architecture, info.size_bytes, str(resolved.path)
        entry = resolved.entry or entry
    except ModelError:
        if entry is None:
            raise
        # Not downloaded: plan from the catalog's numbers, weights from its file size.
        arch = Architecture(entry.name, entry.layers, entry.kv_heads, entry.head_dim,
                            entry.context)
        weights, source = entry.size or 0, f"not downloaded ({entry.source})"
        if entry.repo:
            source += f": {_catalog_size(entry) or 'size unknown'}, " \
                      f"`codectx models pull {entry.name}`"
    kv_type = kv or (entry.kv if entry else "f16")
    n_ctx = ctx or arch.trained_context
    machine = planner.this_machine()
    plan, fits = planner.attempt(arch, weights, n_ctx, kv_type, machine, gpu)
    table = Table("", "", show_header=False, box=None, title=spec)
    if entry is not None:
        table.add_row("model", entry.description)
    table.add_row("file", source)
    table.add_row("architecture", f"{arch.name}: {arch.layers} layers, {arch.kv_heads} KV heads "
                                  f"of {arch.head_dim}")
    table.add_row("trained context", f"{arch.trained_context:,} tokens")
    table.add_row("KV cache per token",
                  ", ".join(f"{k} {human_size(planner.kv_bytes_per_token(arch, k))}"
                            for k in planner.KV_BYTES_PER_ELEMENT))
    table.add_row(f"memory for {n_ctx:,} tokens ({kv_type})",
                  f"{gib(plan.total_bytes)} = weights "
                  f"{gib(weights) if weights else '(unknown)'} + KV "
                  f"{gib(plan.kv_bytes)} + compute {gib(plan.compute_bytes)}")
    assert plan.placement is not None
    table.add_row("plan here", f"{plan.gpu_layers} of {arch.layers + 1} layers on the GPU"
                  + ("" if fits else ": does not fit"))
    for share in (*plan.placement.gpus, plan.placement.ram):
        table.add_row(f"  {share.where}",
                      f"weights {gib(share.weights_bytes)} + KV "
                      f"{gib(share.kv_bytes)} + compute "
                      f"{gib(share.compute_bytes)} of {gib(share.limit_bytes)} "
                      "usable")
    for note in plan.notes:
        table.add_row("note", note)
    if not fits:
        table.add_row("does not fit", "; ".join(plan.placement.overflows()))
    if n_ctx > arch.trained_context:
        table.add_row("warning", "longer than the model was trained for")
    return table

