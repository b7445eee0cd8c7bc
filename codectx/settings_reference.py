"""The configuration reference (docs/configuration.md), rendered from `Settings`.

Every setting's name, type, default and help come from the `Settings` model in
`settings.py` (its field annotations, defaults and attribute docstrings), and the mark
*trust* from its `Outside` metadata, so the page cannot drift from the code:
`make docs` writes it, and a test fails when the page differs from what this renders.
"""

from __future__ import annotations

import sys
import types
import typing
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo

from codectx.config import ENV_PREFIX, outside_settings
from codectx.models.registry import PROVIDERS
from codectx.settings import Settings

PAGE = Path("docs") / "configuration.md"

# Settings whose allowed values a validator checks rather than the annotation.
CHOICES: dict[str, tuple[str, ...]] = {"backend": tuple(PROVIDERS)}
# What of a trust-marked setting a repository may still set on its own.
HARMLESS = {"backend": " (other than `local`)", "model": " as a path (a catalog name is fine)"}

INTRO = """\
# Configuration

<!-- Generated from codectx/settings.py's Settings by codectx/settings_reference.py:
     edit those and run `make docs`, never this file. -->

Settings, lowest precedence first: defaults, the user config file
(`~/.config/codectx/config.toml`, or `$CODECTX_CONFIG`), the repository's
`.codectx.toml` (or `[tool.codectx]` in its `pyproject.toml`), `CODECTX_<KEY>`
environment variables (lists comma-separated), and flags. `codectx config
show` prints every setting, its value and where it came from. An unknown key
is an error that names it and suggests the closest known one.

```toml
# ~/.config/codectx/config.toml (or a repository's .codectx.toml, once you trust it)
model = "qwen2.5-coder-1.5b-instruct"
first_answer_seconds = 120
exclude = ["docs/eval/"]
```

## What a repository may set on its own

A repository you clone is someone else's input, so its own config (`.codectx.toml`,
`[tool.codectx]`) may set how it is indexed and shown (`format`, `budget`, `include`,
`exclude`, `retrieval_tokens`, `max_answer_tokens`, `kv_type`, and every other key
below not marked *trust*) but not the settings marked *trust*, which reach outside the
repository:

{outside}

Those are ignored, with one line naming them, until you trust the repository:

```sh
codectx trust .            # prints exactly what the config sets, then applies it
codectx trust --list       # the repositories you trust
codectx trust --forget .   # ignore them again
```

`codectx chat` asks once instead, in a dialog that lists each setting and what
it would allow. Trust is kept per repository (its resolved path) and per
content of its config, in `trusted.json` beside your config file: when the
config changes, its trust-marked settings are ignored again until you confirm.
The pre-commit hook and `codectx acp` never ask: they go on without those
settings and say so in one line. Your own config file, `CODECTX_*` variables
and flags always apply. `codectx config show` marks each ignored setting and
why. [security.md](security.md) lists what a repository can and cannot make
codectx do.

## Every setting

Each key is also the environment variable `CODECTX_<KEY>` (`{example}`).

| key | type | default | what it does |
| --- | --- | --- | --- |
"""

OUTRO = """
## More on some settings

- `budget`: unset, `codectx index` shows every file in full, and `ask`, `chat`, `edit`,
  `review` and `acp` give the repository what the model's context leaves and the time
  targets (`first_answer_seconds`, `question_seconds`, `edit_seconds`) allow: see
  [prompt.md](prompt.md#sized-by-time).
- `check`: one command for every language, or a table by language, e.g.
  `check = {python = "pytest -q {files}"}`; `""` runs nothing. Unset: what is detected
  here ([usage.md](usage.md#edits-that-check-themselves); `codectx doctor` lists it).
- `cache_dir` holds the index cache, the saved prompt states (`prompts/`), catalog
  models (`models/`, unless `models_dir` is set), the embedded model joined from its
  packages, saved conversations and the measured prefill settings and speed
  (`tuning.json`): see [cache.md](cache.md).
- `threads`, `flash_attn`, `n_batch` and the GPU settings (`gpu_layers`, `main_gpu`,
  `tensor_split`, `offload_kqv`):
  [models.md](models.md#the-machine-gpu-threads-prefill-settings).
- `cache_reuse`, `stale_limit`, `recompute_tokens` and `prompt_cache_gb`:
  [cache.md](cache.md).
- `backend`, `base_url`, `api_key_env` and the `server_*` settings:
  [servers.md](servers.md).
- `keys`: the binding ids are `cancel`, `new_chat`, `toggle_panel`, `quit`,
  `diff.apply`, `diff.reject`, `diff.revise`, `confirm.all`, `confirm.existing`,
  `confirm.none`, `trust.yes` and `trust.no` ([usage.md](usage.md#chatting-codectx-chat)).
  A repository's own table waits for your trust, and never rebinds a confirmation
  (`diff.*`, `confirm.*`, `trust.*`) nor takes a key that answers one
  ([security.md](security.md#its-key-bindings)).
"""


def _bound(metadata: list[Any], integer: bool) -> str:
    """Words for pydantic's bounds (annotated-types' Gt, Ge, Le), read by their attributes."""
    low = high = None
    for mark in metadata:
        if (above := getattr(mark, "gt", None)) is not None:
            low = f"{above + 1}" if integer else None
            if low is None:
                return f" over {above:g}"
        if (least := getattr(mark, "ge", None)) is not None:
            low = f"{least:g}"
        if (most := getattr(mark, "le", None)) is not None:
            high = f"{most:g}"
    if low is not None and high is not None:
        return f" from {low} to {high}"
    return f" at least {low}" if low is not None else f" at most {high}" if high else ""


_WORDS = {bool: "`true` or `false`", int: "whole number", float: "number", str: "string"}


def type_text(annotation: Any, metadata: list[Any] | None = None, plural: bool = False) -> str:
    """A setting's type in words: `xml` or `markdown`, whole number at least 1, ..."""
    metadata = list(metadata or [])
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return type_text(args[0], [*metadata, *args[1:]], plural)
    if origin is typing.Literal:
        return " or ".join(f"`{value}`" for value in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_text(arg) for arg in args if arg is not type(None))
    if origin is list:
        return f"list of {type_text(args[0], plural=True)}"
    if origin is dict:
        return f"table of {type_text(args[1], plural=True)}"
    if annotation in _WORDS:
        word = _WORDS[annotation] + ("s" if plural and annotation is not bool else "")
        return word + (_bound(metadata, integer=annotation is int) if annotation in (
            int, float) else "")
    return str(annotation)


def default_text(value: Any) -> str:
    """A default as it would be written in the config file (TOML); None is unset."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, (list, dict)) and not value:
        return "`[]`" if isinstance(value, list) else "`{}`"
    return f"`{value!r}`"


def _cell(text: str) -> str:
    """One table cell: one line, `|` escaped, and `<` too outside code spans."""
    spans = " ".join(text.split()).replace("|", "\\|").split("`")
    return "`".join(span if n % 2 else span.replace("<", "&lt;") for n, span in enumerate(spans))


def row(name: str, field: FieldInfo) -> str:
    kind = (" or ".join(f"`{value}`" for value in CHOICES[name]) if name in CHOICES
            else type_text(field.annotation, field.metadata))
    help_text = _cell(field.description or "")
    outside = outside_settings().get(name)
    if outside is not None:
        help_text += f" *trust*: {_cell(outside.why)}."
    return f"| `{name}` | {_cell(kind)} | {default_text(field.default)} | {help_text} |"


def render() -> str:
    """The whole configuration page."""
    outside = "\n".join(f"- `{name}`{HARMLESS.get(name, '')}: {mark.why}"
                        for name, mark in outside_settings().items())
    intro = INTRO.replace("{outside}", outside).replace(
        "{example}", f"{ENV_PREFIX}MAX_ANSWER_TOKENS=2048")
    rows = [row(name, field) for name, field in Settings.model_fields.items()]
    return intro + "\n".join(rows) + "\n" + OUTRO


def main(argv: list[str]) -> int:
    """`python -m codectx.settings_reference [FILE]`: write the page (default: stdout)."""
    text = render()
    if len(argv) > 1:
        Path(argv[1]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
