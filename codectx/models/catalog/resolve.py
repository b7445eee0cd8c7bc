"""Which model file a setting names: a path, a catalog name, or the embedded default.

First match wins: an existing file at the given path; a catalog name (a model
whose chunk packages are installed, the embedded one always, is joined from
them on first use; others are looked for in the models directory); with
nothing set, the embedded default.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codectx.errors import ModelError
from codectx.models.catalog import (
    AUTO,
    DEFAULT_EDIT_FORMAT,
    EMBEDDED,
    CatalogModel,
    catalog,
    unknown_model,
)
from codectx.models.catalog.embedded import packaged_for, packaged_model_path
from codectx.models.catalog.pull import download_url


@dataclass(frozen=True)
class ResolvedModel:
    path: Path
    name: str
    entry: CatalogModel | None

    @property
    def edit_format(self) -> str:
        """The edit format this model writes best (the default for one the catalog does
        not know)."""
        return self.entry.edit_format if self.entry else DEFAULT_EDIT_FORMAT


def resolve_model(spec: str | None, cache_dir: Path, models_dir: Path) -> ResolvedModel:
    spec = EMBEDDED if not spec or spec == AUTO else spec  # auto's choice: catalog.auto
    path = Path(spec).expanduser()
    if path.is_file():
        known = next((m for m in catalog().values() if m.file == path.name), None)
        return ResolvedModel(path, known.name if known else path.stem, known)
    entry = catalog().get(spec)
    if entry is not None:
        packaged = packaged_for(entry.package)
        if packaged is not None and (entry.embedded or packaged.installed()):
            return ResolvedModel(packaged_model_path(packaged, cache_dir), entry.name, entry)
        local = models_dir / entry.file
        if local.is_file():
            return ResolvedModel(local, entry.name, entry)
        by_hand = download_url(entry) if entry.repo else entry.source
        extra = f"install it with `{packaged.install}`, or " if packaged else ""
        raise ModelError(
            f"model '{spec}' is not downloaded: {local} does not exist",
            f"Get it with `codectx models pull {entry.name}`, or {extra}download {entry.file} "
            f"from {by_hand} into {models_dir} by hand, or set `model` to the file's path.",
        )
    if "/" in spec or spec.endswith(".gguf"):
        raise ModelError(f"model file not found: {path}",
                         "Check the path, or use a name from `codectx models list`.")
    raise unknown_model(spec)
