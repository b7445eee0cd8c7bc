"""The models codectx knows by name, read from the catalog data file."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

EMBEDDED = "qwen2.5-coder-0.5b-instruct"


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

    @property
    def embedded(self) -> bool:
        return self.source == "embedded"


@cache
def catalog() -> dict[str, CatalogModel]:
    text = resources.files("codectx.models").joinpath("catalog.toml").read_text()
    return {name: CatalogModel(name=name, **entry)
            for name, entry in tomllib.loads(text)["models"].items()}
