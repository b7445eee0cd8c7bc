"""Where a setting named in an error is changed, as each front end says it.

The core's errors say what to change in words and name settings in backticks
(`budget`, `base_url`), never a command-line flag: a flag means nothing in
the chat or in an editor. Each front end adds its own way to change them:
the command line its flags, the chat and an editor the config files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from codectx.config import user_config_path
from codectx.errors import CodectxError
from codectx.settings import FIELDS

_NAMED = re.compile(r"`([a-z_]+)`")


def named_settings(exc: CodectxError) -> list[str]:
    """The settings an error's hint names, in order, each once."""
    found = [name for name in _NAMED.findall(exc.hint or "") if name in FIELDS]
    return list(dict.fromkeys(found))


def on_the_command_line(exc: CodectxError, flags: Mapping[str, str]) -> str | None:
    """A line for the command line: the flags of the settings named, and where the others
    are set; None when the error names none."""
    named = named_settings(exc)
    if not named:
        return None
    parts = [f"`{name}`: {flags[name]}" for name in named if name in flags]
    rest = [f"`{name}`" for name in named if name not in flags]
    if rest:
        parts.append(f"{', '.join(rest)}: in the config file ({config_files()})")
    return "On the command line, " + "; ".join(parts) + "."


def in_the_config(exc: CodectxError) -> str | None:
    """A line for the chat and an editor: where the settings named are set."""
    named = named_settings(exc)
    if not named:
        return None
    names = ", ".join(f"`{name}`" for name in named)
    return f"Set {names} in the config file ({config_files()}), then start again."


def error_in_the_chat(exc: BaseException) -> str:
    """An error as the chat and an editor show it: what went wrong, the hint, and where
    the settings it names are set."""
    if not isinstance(exc, CodectxError):
        return str(exc)
    where = in_the_config(exc)
    return f"{exc}\n{where}" if where else str(exc)


def config_files() -> str:
    """Where settings are set: the user's config file (platformdirs, or $CODECTX_CONFIG),
    or the repository's."""
    return (f"{user_config_path()}, or the repository's .codectx.toml once trusted; "
            "`codectx config show` lists every setting and where it comes from")
