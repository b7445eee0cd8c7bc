"""Pieces every command shares: friendly errors and atomic writes."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from codectx.errors import CodectxError
from codectx.files import write_bytes_atomic

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(func: F) -> F:
    """User mistakes become one line and a hint on stderr, exit status 2; no traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CodectxError as exc:
            click.echo(f"codectx: error: {exc.message}", err=True)
            if exc.hint:
                click.echo(f"  {exc.hint}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("codectx: interrupted; nothing was written", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def path_inside(root: Path, target: Path) -> str | None:
    """target relative to root (POSIX), or None when it lies outside."""
    try:
        return target.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def write_atomic(target: Path, text: str) -> None:
    """Write text atomically, with a clear error when the directory is missing."""
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise CodectxError(f"cannot write {target}: directory {directory} does not exist",
                           "Create the directory first or choose another -o path.")
    write_bytes_atomic(target, text.encode("utf-8"))
