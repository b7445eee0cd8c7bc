"""The models codectx knows by name, read from the catalog data file."""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from codectx.errors import ModelError

EMBEDDED = "qwen2.5-coder-0.5b-instruct"
AUTO = "auto"
"""The `model` setting that picks among the installed models by speed (`catalog.auto`)."""
DEFAULT_EDIT_FORMAT = "search-replace"
"""The edit format of a model the catalog does not know (a path, a server's own)."""



def is_auto(spec: str | None) -> bool:
    """Whether the `model` setting leaves the choice to auto (unset is auto)."""
    return spec is None or spec == AUTO

@dataclass(frozen=True)
class CatalogModel:
    name: str
    description: str
    file: str
    source: str
    context: int
    kv: str
    edit_format: str
    layers: int
    kv_heads: int
    head_dim: int
    # Where `codectx models pull` gets `file`: a Hugging Face repository and revision.
    repo: str | None = None
    revision: str = "main"
    # The file's size in bytes: shown, planned with, and checked after a download.
    size: int | None = None
    sha256: str | None = None
    # The codectx extra whose chunk packages also carry the file (`catalog.embedded.PACKAGES`);
    # when they are installed, the file is joined from them instead of read from the models
    # directory.
    package: str | None = None

    @property
    def embedded(self) -> bool:
        return self.source == "embedded"


@cache
def catalog() -> dict[str, CatalogModel]:
    text = resources.files("codectx.models.catalog").joinpath("catalog.toml").read_text()
    return {name: CatalogModel(name=name, **entry)
            for name, entry in tomllib.loads(text)["models"].items()}


def unknown_model(name: str) -> ModelError:
    """The error for a name the catalog does not have, with the closest one it does."""
    close = difflib.get_close_matches(name, list(catalog()), n=1)
    return ModelError(
        f"unknown model '{name}'",
        f"Did you mean '{close[0]}'?" if close else "See `codectx models list` for known names.",
    )


def lookup(name: str) -> CatalogModel:
    """The catalog entry called `name`, or a ModelError suggesting the closest name."""
    entry = catalog().get(name)
    if entry is None:
        raise unknown_model(name)
    return entry
