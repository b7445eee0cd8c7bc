"""`model = auto`, the default: the strongest model this machine affords, by measurement.

Among the installed models (the embedded one, those whose chunk packages are installed,
those downloaded into the models directory), auto takes the largest whose planned turns
meet the time targets (`first_answer_seconds`, `question_seconds`, `edit_seconds`) at
the speed measured here: the plan of `models.sizing` finds sizes for every part of a
turn with no target left over. Each model's speed is measured once and kept, as for any
model. If none meets the targets, auto takes the smallest and says so in one line.

A listing (`codectx doctor`, `codectx models list`) measures nothing: a model whose
speed has not been measured here yet is named as such, with how to measure it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from codectx.config import Loaded
from codectx.errors import ModelError
from codectx.models.catalog import catalog
from codectx.models.catalog.embedded import packaged_for
from codectx.models.runtime.speed import Speed
from codectx.models.sizing import Targets, plan, repository_budget
from codectx.progress import Progress, no_progress


@dataclass(frozen=True)
class Measured:
    """One installed model, as auto weighs it."""

    name: str
    size: int
    """Its file's bytes: larger is stronger."""
    speed: Speed | None
    """Its speed here (None: not measured yet)."""
    limit: int
    """Tokens its context leaves for the repository and a turn."""


@dataclass(frozen=True)
class Choice:
    name: str
    why: str
    """One line: why this model."""
    meets: bool
    """Whether its turns meet the time targets here."""


def missed(model: Measured, loaded: Loaded) -> str | None:
    """The first time target `model`'s planned turns miss here (None: they meet all)."""
    if model.speed is None:
        return None
    notes = plan(model.speed, model.limit, Targets.of(loaded.settings)).notes
    return notes[0] if notes else None


def pick(models: Sequence[Measured], loaded: Loaded) -> Choice:
    """The largest model that meets the targets, else the smallest; `models` are the
    installed ones, each with its speed here if measured."""
    if not models:
        raise ModelError("no model is installed",
                         "Install the embedded model with `pip install 'codectx[model]'`, or "
                         "set `model` to a GGUF file.")
    ordered = sorted(models, key=lambda m: -m.size)
    if len(ordered) == 1:
        only = ordered[0]
        miss = missed(only, loaded)
        return Choice(only.name, "the only model installed here"
                      + (f"; {miss}" if miss else ""), miss is None)
    passed: list[str] = []
    for model in ordered:
        if model.speed is None:
            passed.append(f"{model.name} not measured here yet (`codectx doctor --tune "
                          f"--model {model.name}`)")
            continue
        miss = missed(model, loaded)
        if miss is None:
            larger = f" ({'; '.join(passed)})" if passed else ""
            return Choice(model.name, "the largest installed model whose turns meet the "
                                      f"time targets here{larger}", True)
        passed.append(f"{model.name}: {miss}")
    smallest = ordered[-1]
    return Choice(smallest.name, "no installed model is known to meet the time targets "
                                 f"here, so auto takes the smallest ({'; '.join(passed)})",
                  False)


@dataclass(frozen=True)
class Installed:
    """A catalog model that is here without a download."""

    name: str
    size: int
    """Its file's bytes (0: not known until it is joined)."""
    ready: bool
    """Whether its file is there to read as it is (a packaged model is joined at its first
    use, so one never joined has never been measured either)."""


def installed(loaded: Loaded) -> list[Installed]:
    """The catalog's models that are here without a download, largest first."""
    found = []
    for entry in catalog().values():
        packaged = packaged_for(entry.package)
        if packaged is not None and (entry.embedded or packaged.installed()):
            joined = loaded.cache_path() / "models" / packaged.file
            ready = joined.is_file()
        else:
            joined = loaded.models_path() / entry.file
            if not joined.is_file():
                continue
            ready = True
        size = entry.size or (joined.stat().st_size if ready else 0)
        found.append(Installed(entry.name, size, ready))
    return sorted(found, key=lambda m: -m.size)


def measure(loaded: Loaded, model: Installed, now: bool, progress: Progress) -> Measured:
    """`model` weighed: its speed measured now if need be (`now`), else as kept."""
    from codectx.models.identity import RepoId
    from codectx.models.runtime.local import LocalProvider

    if not now and not model.ready:
        return Measured(model.name, model.size, None, 1)
    one = replace(loaded, settings=loaded.settings.model_copy(update={"model": model.name}))
    provider = LocalProvider(one, RepoId.detached("auto"), persist=False)
    speed = provider.speed(progress) if now else provider.measured_speed()
    limit = repository_budget(provider.context_limit(), loaded.settings.max_answer_tokens)
    return Measured(model.name, model.size, speed if speed and speed.measured else None,
                    max(limit, 1))


def choose(loaded: Loaded, *, now: bool = True, progress: Progress = no_progress) -> Choice:
    """What auto takes here. `now`: measure the speed of a model not measured yet (once,
    kept), largest first, stopping at the first that meets the targets; else use what
    is kept (a listing, which measures and joins nothing)."""
    models = installed(loaded)
    if not models:
        return pick([], loaded)
    if len(models) == 1:  # nothing to weigh
        return Choice(models[0].name, "the only model installed here", True)
    weighed: list[Measured] = []
    for model in models:
        weighed.append(measure(loaded, model, now, progress))
        if now and weighed[-1].speed is not None and missed(weighed[-1], loaded) is None:
            break
    return pick(weighed, loaded)


def describe(choice: Choice) -> str:
    return f"auto: {choice.name}, {choice.why}"
