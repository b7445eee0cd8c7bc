"""What every command shares: model options, friendly errors, model work in the background
(Ctrl-C cancels), directory checks and atomic writes."""

from __future__ import annotations

import functools
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from codectx.advice import on_the_command_line
from codectx.cli.console import echo
from codectx.errors import CodectxError, RepositoryError
from codectx.files import write_bytes_atomic
from codectx.models.registry import PROVIDERS

if TYPE_CHECKING:
    from codectx.assistant.background import Work
    from codectx.assistant.session import Session
    from codectx.config import Loaded
    from codectx.progress import Progress

F = TypeVar("F", bound=Callable[..., Any])


MODEL_FLAGS = ("model", "budget", "backend", "base_url", "api_key_env", "server_model",
               "server_context", "exact")


def model_options(func: F) -> F:
    """The options that choose the model and the prompt's size, passed on as `flags`,
    a dict of config settings (None: not given, the config decides)."""
    options = [
        click.option("--model", default=None, metavar="NAME|GGUF",
                     help="A model name from `codectx models list` or a GGUF file (default: the "
                          "embedded Qwen2.5-Coder-0.5B-Instruct). With --backend openai: a local "
                          "copy of the server's model, for its chat template and tokenizer."),
        click.option("--budget", type=click.IntRange(min=1), default=None, metavar="N",
                     help="Token budget for the repository (default: what the context and "
                          "memory hold)."),
        click.option("--backend", type=click.Choice(list(PROVIDERS)), default=None,
                     help="Where the model runs: " + "; ".join(
                         f"{name}: {entry.help}" for name, entry in PROVIDERS.items())
                     + " (default: local)."),
        click.option("--base-url", default=None, metavar="URL",
                     help="The server's address, e.g. http://127.0.0.1:8080."),
        click.option("--api-key-env", default=None, metavar="NAME",
                     help="The environment variable holding the server's API key."),
        click.option("--server-model", default=None, metavar="NAME",
                     help="The server's name for the model (default: the first it lists)."),
        click.option("--server-context", type=click.IntRange(min=1), default=None, metavar="N",
                     help="The server's context size, for a server that does not report it "
                          "(llama-cpp-python's)."),
        click.option("--exact", is_flag=True, default=False,
                     help="Reuse the saved prompt state only as an exact common prefix for this "
                          "run (cache_reuse = prefix): no file's cells are reused at a new "
                          "position."),
    ]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        flags = {name: kwargs.pop(name) for name in MODEL_FLAGS}
        flags["cache_reuse"] = "prefix" if flags.pop("exact") else None
        return func(*args, flags=flags, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


def load_settings(path: Path, flags: Mapping[str, Any] | None = None) -> Loaded:
    """The settings for the repository at `path`, with one line on stderr when its own config
    sets something that reaches outside it and the user has not trusted it (so it was ignored)."""
    from codectx import config

    loaded = config.load(path, flags)
    notice = loaded.trust.notice() if loaded.trust is not None else None
    if notice:
        echo(f"codectx: note: {notice}", stderr=True)
    return loaded


def friendly_errors(func: F) -> F:
    """User mistakes become one line and a hint on stderr, exit status 2; no traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CodectxError as exc:
            # A message can quote a repository's path, setting or file: cleaned like the rest.
            echo(f"codectx: error: {exc.message}", stderr=True)
            if exc.hint:
                echo(f"  {exc.hint}", stderr=True)
            if where := on_the_command_line(exc, _flags()):
                echo(f"  {where}", stderr=True)
            sys.exit(2)
        except KeyboardInterrupt:
            echo("codectx: interrupted; nothing was written", stderr=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def _flags() -> dict[str, str]:
    """The settings the running command takes as flags, and each one's flag."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return {}
    return {param.name: param.opts[0] for param in ctx.command.params
            if isinstance(param, click.Option) and param.name and param.opts}


def in_background(work: Work, on_progress: Progress) -> Iterator[Any]:
    """Run `work` in a thread so Ctrl-C can cancel it cleanly instead of tearing it down.

    While it runs, the first Ctrl-C only sets the cancel event (a prefill in progress
    is saved as far as it got, generation stops); a second one interrupts at once.
    The items `work` yields are passed through.
    """
    from codectx.assistant.background import iterate

    cancel = threading.Event()

    def on_sigint(signum: int, frame: Any) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()

    previous = signal.signal(signal.SIGINT, on_sigint) if _main_thread() else None
    try:
        yield from iterate(work, cancel, on_progress)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def not_blank(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A click callback: an argument that must say something (a question, an instruction)."""
    if not value.strip():
        raise click.BadParameter("it is empty: say what you want, in words")
    return value


def require_directory(path: Path) -> None:
    """A clear error when the repository path is missing or not a directory."""
    if not path.is_dir():
        problem = "not a directory" if path.exists() else "no such directory"
        raise RepositoryError(f"{path}: {problem}", "Pass the path of a repository.")


def warm_now(session: Session) -> None:
    """Prefill a session's repository with a progress bar (Ctrl-C stops), then say what it did."""
    from codectx.assistant.results import Answer
    from codectx.assistant.streams import last
    from codectx.cli import console

    with console.progress_bar() as progress:
        answer = last(in_background(
            lambda cancel, p: iter([session.warm(cancel=cancel, progress=p)]), progress),
            Answer)
    console.print_answer_stats(answer, warm=True)


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
