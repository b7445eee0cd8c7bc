"""`codectx watch`: keep a repository's index and prompt cache warm while you work."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from codectx.cli.options import (
    friendly_errors,
    load_settings,
    model_options,
    require_directory,
    warm_now,
)

if TYPE_CHECKING:
    from codectx.assistant.watcher import WatchEvent


def _describe(event: WatchEvent) -> str | None:
    files = ", ".join(event.files[:3]) + (f" and {len(event.files) - 3} more"
                                           if len(event.files) > 3 else "")
    if event.kind == "changed":
        return f"changed: {files} ({event.parsed} file(s) parsed)"
    if event.kind == "unchanged":
        return f"  the prompt is as it was: nothing to evaluate ({event.elapsed_s:.2f} s)"
    if event.kind == "prefilling" and event.done == 0 and event.exact:
        return (f"  idle: making the cells reused at new positions exact ({event.tokens:,} "
                "tokens)")
    if event.kind == "ready" and event.exact:
        return f"  exact again in {event.elapsed_s:.1f} s"
    if event.kind == "prefilling" and event.done == 0:
        return f"  re-prefilling about {event.tokens:,} tokens"
    if event.kind == "ready":
        return (f"  warm again in {event.elapsed_s:.1f} s: {event.tokens:,} tokens evaluated, "
                "the rest reused")
    if event.kind in ("polling", "error", "stopped") and event.message:
        return f"{'error: ' if event.kind == 'error' else ''}{event.message}"
    return None


@click.command("watch")
@click.argument("path", type=click.Path(path_type=Path), default=".")
@model_options
@click.option("--poll", is_flag=True,
              help="Poll for changes instead of using the system's change notifications.")
@friendly_errors
def watch_cmd(path: Path, flags: dict[str, Any], poll: bool) -> None:
    """Follow the repository at PATH (default: .) and keep its prompt cache warm.

    On every change (debounced: a branch switch is one change), the repository
    is re-indexed incrementally and only the tokens after the first changed
    one are prefilled again and saved, so the next `codectx ask`, `chat` or
    editor question starts warm. Ignored files, .git/ and editor swap files
    cause nothing. Ctrl-C stops.
    """
    from codectx.assistant.session import Session
    from codectx.assistant.watcher import Watcher
    from codectx.cli import console

    require_directory(path)
    session = Session(path, load_settings(path, flags))
    warm_now(session)
    stopped = threading.Event()

    def on_event(event: WatchEvent) -> None:
        line = _describe(event)
        if line:
            console.err.print(line, markup=False, highlight=False, soft_wrap=True)
        if event.kind == "stopped":
            stopped.set()

    watcher = Watcher(session, on_event, poll=poll)
    watcher.start()
    console.err.print(f"watching {path.resolve()} (Ctrl-C stops)", markup=False)
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        console.err.print("stopping", markup=False)
    finally:
        watcher.stop()
