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
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from codectx.errors import ConfigError
from codectx.files import resolves_inside
from codectx.models.catalog import catalog
from codectx.models.registry import PROVIDERS, known
from codectx.trust import Outside, RepoTrust, TrustStore, assess

ENV_PREFIX = "CODECTX_"
_BOOL_WORDS = {"true", "false", "1", "0", "yes", "no", "on", "off"}
REPO_CONFIG = ".codectx.toml"


def _catalog_name(value: Any) -> bool:
    return value is None or (isinstance(value, str) and (value in catalog() or value == "auto")
                             and not Path(value).expanduser().exists())


_SERVER = Outside("a server of its choosing would be sent the repository and your questions",
                  lambda value: value in (None, "local"))


class Settings(BaseModel):
    """Every setting codectx reads; the docstring under a field is its help text."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    format: Literal["xml", "markdown"] = "xml"
    """Prompt format written by `codectx index`: xml or markdown."""

    budget: PositiveInt | None = None
    """Token budget for the repository's prefix; over it, files are shown at less detail
    (skeleton, outline, names, listed), the least important first."""

    max_file_size: PositiveInt = 1_000_000
    """Files larger than this many bytes are skipped."""

    include: list[str] = []
    """Glob patterns (gitignore syntax); when given, only matching files are indexed."""

    exclude: list[str] = []
    """Glob patterns (gitignore syntax) of files to leave out."""

    submodules: bool = False
    """Descend into git submodules instead of only listing them."""

    include_dirs: list[str] = []
    """Extra C/C++ include directories, relative to the repository root."""

    model: Annotated[str | None, Outside(
        "loads a model file from a path of its choosing", _catalog_name)] = None
    """A GGUF file, a name from `codectx models list`, or auto (unset is auto): the largest
    installed model whose turns meet the time targets here. `index` counts exactly if named."""

    models_dir: Annotated[str | None,
                          Outside("reads models from a directory of its choosing")] = None
    """Where models named from the catalog are looked for; default: <cache_dir>/models."""

    backend: Annotated[str, _SERVER] = "local"
    """How the model is had: local (in this process), or openai (a server with an
    OpenAI-compatible API, e.g. llama.cpp's llama-server or vLLM, at base_url)."""

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if value not in known():
            raise ValueError(f"must be one of {', '.join(PROVIDERS)}, not {value!r}")
        return value

    base_url: Annotated[str | None, _SERVER] = None
    """The server's address for backend = "openai", e.g. http://127.0.0.1:8080."""

    api_key_env: Annotated[str | None, Outside(
        "sends the value of one of your environment variables to the server")] = None
    """The environment variable that holds the server's API key (the key never goes in a file)."""

    server_model: Annotated[str | None, Outside("chooses the model a server runs")] = None
    """The server's name for the model; default: the first one it lists. With this backend,
    `model` may name a local GGUF copy of the same model, for its chat template and tokenizer."""

    server_context: PositiveInt | None = None
    """The server's context size, for a server that does not report it (llama-cpp-python's)."""

    server_timeout: PositiveFloat = 1800.0
    """Seconds to wait for the server's next bytes; a long prefill comes before the first."""

    server_slot: Annotated[NonNegativeInt, Outside(
        "chooses which of the server's saved prompts is used")] = 0
    """llama.cpp's server: the slot that keeps the prompt (saved with --slot-save-path)."""

    kv_type: Literal["auto", "f16", "q8_0", "q4_0"] = "auto"
    """KV cache type; auto: the catalog's recommendation for the model, else f16."""

    flash_attn: Literal["auto"] | bool = "auto"
    """Flash attention: auto (whichever prefills faster here, measured once per model and
    machine: `codectx doctor --tune`), true or false. Always on with a quantized KV cache."""

    n_batch: Literal["auto"] | PositiveInt = "auto"
    """Prompt tokens per evaluation call: auto (measured with flash_attn), or a number."""

    threads: PositiveInt | None = None
    """CPU threads for the model (generation and prompt); default: the physical cores this
    process may run on."""

    gpu_layers: Literal["auto"] | NonNegativeInt = "auto"
    """Model layers offloaded to the GPU: auto (all of them when this llama-cpp-python build
    has a GPU backend and a GPU is visible, fewer if they do not fit; else none), or a
    number (0: CPU only)."""

    main_gpu: NonNegativeInt = 0
    """The GPU that holds the scratch buffers (and everything, with one GPU)."""

    tensor_split: list[NonNegativeFloat] = []
    """How offloaded layers are spread over several GPUs, as proportions, e.g. [3, 1];
    empty: in proportion to each GPU's free memory."""

    offload_kqv: bool = True
    """Keep each offloaded layer's KV cache on its GPU (false: in system memory)."""

    @field_validator("flash_attn", "n_batch", "gpu_layers", mode="before")
    @classmethod
    def _auto_or_value(cls, value: Any, info: ValidationInfo) -> Any:
        """Say what is wanted in one line (the union's own error names only "auto")."""
        if value == "auto":
            return value
        if info.field_name == "flash_attn" and str(value).lower() in _BOOL_WORDS:
            return value  # pydantic reads it as a bool
        wanted = {"flash_attn": "auto, true or false",
                  "n_batch": "auto or a whole number of at least 1",
                  "gpu_layers": "auto or a whole number of at least 0"}[str(info.field_name)]
        least = {"n_batch": 1, "gpu_layers": 0}.get(str(info.field_name))
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = None
        if least is None or number is None or number < least or str(number) != str(value):
            raise ValueError(f"must be {wanted}, not {value!r}")
        return number

    cache_reuse: Literal["shift", "prefix"] = "shift"
    """How a saved prompt state is reused: shift (every unchanged file's cells are kept
    wherever the file now stands, so a change costs about its own tokens; cells after a
    change are an approximation until the next exact prefill) or prefix (only the common
    prefix of the prompt is kept: exact, but a change costs everything after it). --exact
    or CODECTX_CACHE_REUSE=prefix forces prefix for one run."""

    stale_limit: float = Field(default=0.5, ge=0.0, le=1.0)
    """With cache_reuse = shift: a saved state with more than this share of its tokens
    computed against text that has since changed is not shifted again: the next change is
    prefilled exactly (approximations compound)."""

    recompute_tokens: NonNegativeInt = 0
    """With cache_reuse = shift: tokens evaluated again at the head of each file moved past
    a change (0: none)."""

    max_answer_tokens: PositiveInt = 1024
    """The longest answer generated, in tokens (room for it is kept in the context)."""

    retrieval_tokens: NonNegativeInt | None = None
    """Tokens of files retrieved in full for each question when the repository does not fit
    in full; default: a quarter of the room, no more than question_seconds allows; 0: none."""

    first_answer_seconds: NonNegativeFloat = 300.0
    """Seconds the first answer on a repository may take, its prefill included: with the
    speed measured here, this sizes the repository's prefix (0: the context alone does)."""

    question_seconds: NonNegativeFloat = 30.0
    """Seconds a question on a prefilled repository may take: this sizes what it retrieves,
    and keeps the prefix shallow enough for it (0: no time limit)."""

    edit_seconds: NonNegativeFloat = 120.0
    """Seconds an edit may take: this sizes how much of the files it changes is shown
    (0: no time limit)."""

    hook_timeout: PositiveFloat = 120.0
    """Seconds the pre-commit review may take; past that the commit goes ahead unreviewed."""

    check: Annotated[str | dict[str, str] | None, Outside("runs a command after each edit")] = None
    """Command checking an edit ({files}: its paths) or a table by language; unset: detected."""

    check_edits: bool = True
    """Check each edit, giving the model a failure once (`edit --no-check`: not this once)."""

    check_timeout: PositiveFloat = 120.0
    """Seconds one check may run; past that it is stopped, with everything it started."""

    prompt_cache_gb: PositiveFloat = 10.0
    """Size cap of the saved prompt states; the least recently used are evicted."""

    tokenizer: Literal["auto", "estimate"] = "auto"
    """auto: the model's exact tokenizer when a model is set; estimate: a fast approximation."""

    history_commits: NonNegativeInt = 500
    """How many recent commits measure how often each file changes."""

    theme: str = "textual-dark"
    """Theme of `codectx chat`: textual-dark, textual-light, nord, gruvbox, dracula, ..."""

    keys: Annotated[dict[str, str], Outside(
        "changes what your keys do in the chat", lambda table: not table)] = {}
    """Key rebindings for `codectx chat`, binding id to keys, e.g. {new_chat = "ctrl+k"}, each
    layer's over the one below; a repository's never touch a confirmation or its keys."""

    cache_dir: Annotated[str | None, Outside(
        "reads and writes caches in a directory of its choosing")] = None
    """Where caches live; defaults to the platform's user cache directory."""


FIELDS: tuple[str, ...] = tuple(Settings.model_fields)


@dataclass(frozen=True)
class Loaded:
    """Effective settings plus, for every key, the layer that set it."""

    settings: Settings
    sources: dict[str, str]
    trust: RepoTrust | None = None
    """The repository's config and whether the user trusts it (None: no repository)."""
    key_layers: tuple[tuple[str, Mapping[str, str]], ...] = ()
    """Each layer's `keys` table and its source, lowest first (`codectx.tui.keymap` reads it)."""

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
