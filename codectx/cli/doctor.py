"""`codectx doctor`: what this machine and this llama-cpp-python build give the model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from codectx.cli.console import err, out, progress_bar
from codectx.cli.options import friendly_errors, load_settings

if TYPE_CHECKING:
    from rich.table import Table

    from codectx.config import Loaded
    from codectx.models.runtime.devices import Device
    from codectx.models.runtime.local import LocalProvider
    from codectx.models.runtime.planner import ContextPlan
    from codectx.models.runtime.speed import Speed
    from codectx.models.runtime.tuning import Tuning

PLAN_TOKENS = 8192  # the context the placement is shown for
ANSWER_TOKENS = 1024  # of which this much is room for an answer


@click.command("doctor")
@click.option("--tune", is_flag=True,
              help="Measure the prefill settings (flash attention, n_batch) again and keep "
                   "the faster, then this machine's speed against depth (8k tokens deep).")
@click.option("--model", default=None, help="A GGUF file or catalog name (default: `model`).")
@friendly_errors
def doctor_cmd(tune: bool, model: str | None) -> None:
    """Say which llama.cpp backends this build has, the GPUs and cores it sees, where the
    model's layers and KV cache go, the prefill settings in use, the model's speed here
    and how large a turn is made from it (with its expected time); and which checks an
    edit to the repository here gets.

    \b
    Examples:
      codectx doctor
      codectx doctor --tune     # measure flash attention and n_batch again
    """
    from codectx.models.catalog import auto, is_auto
    from codectx.models.identity import RepoId
    from codectx.models.runtime.local import LocalProvider

    loaded = load_settings(Path("."), {"model": model} if model else None)
    choice = None
    if is_auto(loaded.settings.model):  # measured here only with --tune
        with progress_bar() as progress:
            choice = auto.choose(loaded, now=tune, progress=progress)
        loaded = load_settings(Path("."), {"model": choice.name})
    provider = LocalProvider(loaded, RepoId.detached("doctor"), persist=False)
    provider.choice = choice
    out.print(build_table(provider))
    plan_tokens = min(PLAN_TOKENS, provider.resolved()[1].architecture.trained_context)
    plan, setup = provider.plan(plan_tokens - ANSWER_TOKENS, ANSWER_TOKENS)
    out.print(placement_table(plan))
    if tune:
        with progress_bar() as progress:
            provider.prefill_settings(setup, progress, again=True)
    from codectx.models.runtime import tuning

    found = tuning.cached(setup, loaded.cache_path())
    settings = loaded.settings
    if settings.flash_attn != "auto" and settings.n_batch != "auto":
        out.print(f"prefill settings: set: flash attention {settings.flash_attn}, n_batch "
                  f"{settings.n_batch}", markup=False)
    elif found is None:
        out.print("prefill settings: not measured yet (measured at the first load of this "
                  "model; or now with `codectx doctor --tune`)", markup=False)
    else:
        out.print(tuning_table(found))
    speed: Speed | None
    if tune:
        with progress_bar() as progress:
            speed = provider.speed(progress, again=True)
    else:
        speed = provider.measured_speed()
    if speed is None:
        out.print("speed: not measured yet (measured at the first question on a repository; "
                  "or now with `codectx doctor --tune`)", markup=False)
    else:
        out.print(sizes_table(provider, speed))
    for warning in warnings(provider):
        err.print(f"warning: {warning}", markup=False)
    out.print(checks_table(Path("."), loaded))


def checks_table(root: Path, loaded: Loaded) -> Table:
    """What runs after an edit to the repository at root, per language it holds (with the
    syntax gate for every language with a grammar)."""
    from rich.table import Table
    from rich.text import Text

    from codectx.assistant.checks.detect import overview
    from codectx.indexer.languages import GRAMMARS, language_of
    from codectx.indexer.walk import list_files

    settings = loaded.settings
    found = {language_of(c.path) for c in list_files(
        root, max_file_size=settings.max_file_size, include=settings.include,
        exclude=settings.exclude).files}
    languages = [name for name in GRAMMARS if name in found]
    trusted = loaded.trusted
    state = "on" if settings.check_edits else "off (check_edits = false)"
    table = Table(title=f"checks after an edit in {root.resolve()}: {state}; "
                        f"repository {'trusted' if trusted else 'not trusted'}",
                  title_justify="left")
    table.add_column("language")
    table.add_column("runs")
    for language, line in overview(root, languages, setting=settings.check,
                                   origin=loaded.sources.get("check", "config"),
                                   trusted=trusted):
        table.add_row(language, Text(line))
    if languages:
        table.add_row("all", f"the syntax gate (tree-sitter) for {', '.join(languages)}")
    else:
        table.add_row("-", "no source files here in a language codectx checks")
    return table


def _size(n: float) -> str:
    return f"{n / (1 << 30):.1f} GiB"


def _device(d: Device) -> str:
    return (f"{d.name}: {d.description}, {_size(d.free_bytes)} free of "
            f"{_size(d.total_bytes)}{' (shared with the system)' if d.unified else ''}")


def build_table(provider: LocalProvider) -> Table:
    import llama_cpp
    from rich.table import Table

    from codectx.models.runtime import devices

    settings = provider.loaded.settings
    cpus = devices.usable_cpus()
    cores = devices.physical_cores(cpus)
    table = Table("", "", show_header=False, box=None, title="codectx doctor")
    table.add_row("llama-cpp-python", llama_cpp.__version__)
    table.add_row("llama.cpp backends", ", ".join(devices.llama_backends()))
    table.add_row("CPU features", llama_cpp.llama_print_system_info().decode().strip(" |"))
    table.add_row("GPU offload", "yes" if devices.supports_offload() else
                  "no (a CPU build: docs/models.md says how to install for a GPU)")
    gpus = devices.llama_devices() if devices.supports_offload() else []
    table.add_row("GPUs llama.cpp uses", "\n".join(map(_device, gpus)) or "none")
    nvidia = devices.nvidia_devices()
    if nvidia:
        table.add_row("NVIDIA GPUs (driver)", "\n".join(map(_device, nvidia)))
    threads = settings.threads or cores
    table.add_row("CPU", f"{len(cpus)} logical CPUs for this process, {cores} physical "
                         f"core(s)")
    table.add_row("threads", f"{threads} ({'set' if settings.threads else 'the physical cores'})")
    resolved, info = provider.resolved()
    table.add_row("model", f"{resolved.name} ({info.path})")
    if provider.choice is not None:
        table.add_row("model = auto", f"{provider.choice.name}: {provider.choice.why}")
    return table


def placement_table(plan: ContextPlan) -> Table:
    from rich.table import Table

    table = Table("where", "layers", "weights", f"KV cache ({plan.kv_type})", "scratch",
                  title=f"{plan.n_ctx:,} tokens of context: prefill and generation run on "
                        f"{'the GPU' if plan.gpu_layers else 'the CPU'}")
    if plan.placement is not None:
        for share in (*plan.placement.gpus, plan.placement.ram):
            table.add_row(share.where, str(share.layers), _size(share.weights_bytes),
                          _size(share.kv_bytes), _size(share.compute_bytes))
    for note in plan.notes:
        table.add_row("note", note, "", "", "")
    return table


def tuning_table(found: Tuning) -> Table:
    import time

    from rich.table import Table

    from codectx.models.runtime import tuning

    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(found.measured_at))
    partial = "" if found.complete else \
        " (a first load's quick measurement: `codectx doctor --tune` tries every setting)"
    table = Table("", "flash attention", "n_batch", "prefill tok/s", "generation tok/s",
                  "typical question",
                  title=f"prefill settings: measured {when}: {found.describe()}{partial}")
    for trial in found.trials:
        chosen = (trial.flash_attn, trial.n_batch) == (found.flash_attn, found.n_batch)
        table.add_row("used" if chosen else "", "on" if trial.flash_attn else "off",
                      str(trial.n_batch), f"{trial.prefill_per_s:,.0f}",
                      f"{trial.generation_per_s:,.1f}", f"{trial.seconds:,.1f} s")
    table.caption = (f"typical question: {tuning.TYPICAL_PROMPT:,} prompt tokens evaluated, "
                     f"{tuning.TYPICAL_ANSWER} generated")
    return table


def sizes_table(provider: LocalProvider, speed: Speed) -> Table:
    """The speed model, and what the time targets make of it: the sizes of a turn's parts
    and the time each kind of turn is expected to take."""
    from rich.table import Table

    from codectx.models import sizing

    settings = provider.loaded.settings
    limit = sizing.repository_budget(provider.context_limit(), settings.max_answer_tokens)
    targets = sizing.Targets.of(settings)
    sizes = sizing.plan(speed, limit, targets)
    table = Table("turn", "sized", "expected", "target",
                  title=f"speed: {speed.describe()}", title_justify="left")

    def target(seconds: float) -> str:
        return f"{seconds:,.0f} s" if seconds else "none"

    expected = sizes.expected
    table.add_row("first answer", f"prefix of {sizes.prefix:,} tokens (repository that fits "
                  f"whole: {sizes.prefix_alone:,})", f"{expected.get('first_answer', 0):,.0f} s",
                  target(targets.first_answer))
    table.add_row("question", f"up to {sizes.retrieval:,} tokens retrieved",
                  f"{expected.get('question', 0):,.0f} s", target(targets.question))
    table.add_row("edit", f"up to {sizes.edit_view:,} tokens of files shown",
                  f"{expected.get('edit', 0):,.0f} s", target(targets.edit))
    table.caption = (f"within {limit:,} tokens of context for the repository; a question "
                     f"answers about {sizing.ANSWER_TOKENS} tokens; --budget and "
                     "retrieval_tokens override" + "".join(f"\nnote: {n}" for n in sizes.notes))
    return table


def warnings(provider: LocalProvider) -> list[str]:
    from codectx.models.runtime import devices

    said = []
    settings = provider.loaded.settings
    if devices.nvidia_devices() and not devices.supports_offload():
        said.append("an NVIDIA GPU is present but this llama-cpp-python build cannot use it: "
                    "reinstall it with CUDA (docs/models.md: Installing for a GPU)")
    cores = devices.physical_cores()
    if settings.threads and settings.threads > cores:
        said.append(f"threads = {settings.threads} is more than the {cores} physical core(s) "
                    "this process may use; extra threads contend for the same cores")
    return said
