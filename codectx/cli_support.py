"""Pieces every command shares: friendly errors and atomic writes."""

from __future__ import annotations

import functools
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from codectx.errors import CodectxError

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


def _new_file_mode(target: Path) -> int:
    """What an ordinary write would give: the old file's mode, else 0666 less the umask."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomic(target: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a file."""
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise CodectxError(f"cannot write {target}: directory {directory} does not exist",
                           "Create the directory first or choose another -o path.")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.chmod(tmp, _new_file_mode(target))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
