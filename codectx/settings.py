"""Every setting codectx reads, its type, default and help text (`Settings`).

Where each value comes from (defaults, the user's file, the repository's, the
environment, flags) is `codectx.config`'s work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    ValidationInfo,
    field_validator,
)

from codectx.models.catalog import catalog
from codectx.models.registry import PROVIDERS, known
from codectx.trust import Outside

BOOL_WORDS = {"true", "false", "1", "0", "yes", "no", "on", "off"}


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
    """Where the model runs: local (in this process), or openai (a server with an
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
        if info.field_name == "flash_attn" and str(value).lower() in BOOL_WORDS:
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

    review_seconds: NonNegativeFloat = 30.0
    """Seconds the model may spend on a review's changed definitions, one at a time, once the
    repository is prefilled; those it has no time for are named (0: no time limit)."""

    check: Annotated[str | dict[str, str] | None, Outside(
        "runs a command of its choosing on your machine after each edit")] = None
    """The command that checks an applied edit, `{files}` standing for the changed paths:
    one for every language, or a table of them by language ({python = "pytest -q {files}"});
    "" runs nothing. Unset (or a language the table leaves out): what is detected here
    (`codectx doctor` lists it)."""

    check_edits: bool = True
    """Run the checks after an edit, undo a change that fails them and give the model the
    failure once (`codectx edit --no-check` turns them off for one edit)."""

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
