"""Settings, and where each one came from.

Layers, lowest precedence first: built-in defaults, the user config file
(platformdirs, or `$CODECTX_CONFIG`), the repository's `.codectx.toml` or
`[tool.codectx]` in its `pyproject.toml`, `CODECTX_*` environment variables,
and command-line flags. A key no layer knows is an error that names the key,
so a typo never silently does nothing.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import ValidationError

from codectx.errors import ConfigError
from codectx.files import resolves_inside
from codectx.settings import FIELDS, Settings
from codectx.trust import Outside, RepoTrust, TrustStore, assess

ENV_PREFIX = "CODECTX_"
REPO_CONFIG = ".codectx.toml"


@dataclass(frozen=True)
class Loaded:
    """Effective settings plus, for every key, the layer that set it."""

    settings: Settings
    sources: dict[str, str]
    trust: RepoTrust | None = None
    """The repository's config and whether the user trusts it (None: no repository)."""
    key_layers: tuple[tuple[str, Mapping[str, str]], ...] = ()
    """Each layer's `keys` table and its source, lowest first (`codectx.tui.keymap` reads it)."""

    @property
    def trusted(self) -> bool:
        """Whether what the repository's config sets may act: it is trusted, or there is
        no repository."""
        return self.trust is None or self.trust.trusted

    def excluding(self, pattern: str) -> Loaded:
        """The same settings with one more exclude pattern."""
        exclude = [*self.settings.exclude, pattern]
        return replace(self, settings=self.settings.model_copy(update={"exclude": exclude}))

    def with_budget(self, budget: int | None) -> Loaded:
        return replace(self, settings=self.settings.model_copy(update={"budget": budget}))

    def cache_path(self) -> Path:
        if self.settings.cache_dir:
            return Path(self.settings.cache_dir).expanduser()
        return Path(platformdirs.user_cache_dir("codectx", appauthor=False))

    def prompts_path(self) -> Path:
        """Where saved prompt states live."""
        return self.cache_path() / "prompts"

    def models_path(self) -> Path:
        if self.settings.models_dir:
            return Path(self.settings.models_dir).expanduser()
        return self.cache_path() / "models"


def user_config_path() -> Path:
    override = os.environ.get(f"{ENV_PREFIX}CONFIG")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir("codectx", appauthor=False)) / "config.toml"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})", "Fix the file's syntax.") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from exc


def _check_keys(layer: Mapping[str, Any], source: str) -> None:
    for key in layer:
        if key not in Settings.model_fields:
            close = difflib.get_close_matches(key, FIELDS, n=1)
            hint = f"Did you mean '{close[0]}'?" if close else None
            raise ConfigError(f"unknown setting '{key}' in {source}",
                              hint or f"Known settings: {', '.join(FIELDS)}.")


def repo_layer(root: Path) -> tuple[str, dict[str, Any]] | None:
    """The repository's own settings: `.codectx.toml`, else `[tool.codectx]` (never read
    through a symlink leading out of the repository)."""
    dotfile = root / REPO_CONFIG
    if dotfile.is_file() and resolves_inside(root, REPO_CONFIG):
        return REPO_CONFIG, _read_toml(dotfile)
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and resolves_inside(root, "pyproject.toml"):
        try:
            data = _read_toml(pyproject)
        except ConfigError:
            return None  # a broken pyproject.toml is the project's business, not a codectx setting
        table = data.get("tool", {}).get("codectx")
        if isinstance(table, dict):
            return "pyproject.toml [tool.codectx]", table
    return None


def trust_store() -> TrustStore:
    """The user's record of trusted repositories, beside their config file."""
    return TrustStore(user_config_path().with_name("trusted.json"))


def outside_settings() -> dict[str, Outside]:
    """The settings that reach outside the repository, each with what it would allow."""
    return {key: mark for key, field in Settings.model_fields.items()
            for mark in field.metadata if isinstance(mark, Outside)}


def _env_value(key: str, raw: str) -> Any:
    annotation = str(Settings.model_fields[key].annotation)
    if "list" in annotation:
        return [part.strip() for part in raw.split(",") if part.strip()]
    if raw == "" and "None" in annotation:
        return None
    return raw


def env_layer(environ: Mapping[str, str]) -> dict[str, Any]:
    """`CODECTX_<KEY>` for every known key; lists are comma-separated."""
    layer: dict[str, Any] = {}
    for key in FIELDS:
        name = ENV_PREFIX + key.upper()
        if name in environ:
            layer[key] = _env_value(key, environ[name])
    return layer


def load(
    root: Path | None = None,
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Loaded:
    """Merge every layer into validated settings; raise `ConfigError` on any bad key or value."""
    environ = os.environ if environ is None else environ
    layers: list[tuple[str, Mapping[str, Any]]] = []
    user_path = user_config_path()
    if user_path.is_file():
        layers.append((f"user config {user_path}", _read_toml(user_path)))
    trust = None
    if root is not None:
        own = repo_layer(root)
        if own is not None:
            _check_keys(own[1], own[0])
        trust = assess(root, own, outside_settings(), trust_store())
        if own is not None:
            layers.append((own[0], {key: value for key, value in own[1].items()
                                    if key not in trust.ignored}))
    layers.append(("environment", env_layer(environ)))
    if flags:
        layers.append(("command line", {k: v for k, v in flags.items() if v is not None}))

    merged: dict[str, Any] = {}
    sources = {key: "default" for key in FIELDS}
    key_layers: list[tuple[str, dict[str, str]]] = []
    for source, layer in layers:
        _check_keys(layer, source)
        for key, value in layer.items():
            sources[key] = f"{ENV_PREFIX}{key.upper()}" if source == "environment" else source
            if key == "keys" and isinstance(value, dict):  # a keymap adds binding by binding
                key_layers.append((sources[key], value))
                value = {name: keys for _, table in key_layers for name, keys in table.items()}
            merged[key] = value
    if trust is not None and trust.ignored:  # a wrong value is an error, applied or not
        _validate({**merged, **trust.ignored}, {**sources, **dict.fromkeys(
            trust.ignored, str(trust.source))})
    return Loaded(_validate(merged, sources), sources, trust, tuple(key_layers))


def _validate(merged: dict[str, Any], sources: Mapping[str, str]) -> Settings:
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = str(err["loc"][0]) if err["loc"] else "?"
        field = Settings.model_fields.get(key)
        raise ConfigError(f"setting '{key}' from {sources.get(key, 'config')}: {err['msg']}",
                          f"Help for '{key}': {field.description}" if field else None) from exc
