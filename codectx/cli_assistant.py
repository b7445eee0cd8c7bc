"""Commands that use the model: `ask`, `cache status|warm|clear`, `models list|info`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from codectx.cli_support import (
    friendly_errors,
    in_background,
    model_options,
    require_directory,
    warm_now,
)


def _flags(flags: dict[str, Any]) -> dict[str, Any]:
    return flags


@click.command("ask")
@click.argument("question")
@click.argument("path", type=click.Path(path_type=Path), default=".")
@model_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the answer "
              "and timings instead of streaming the answer.")
@friendly_errors
def ask_cmd(question: str, path: Path, flags: dict[str, Any],
            as_json: bool) -> None:
    """Ask QUESTION about the repository at PATH (default: .).

    The whole repository is in the prompt. Its prefill is saved to disk, so the
    next question, in this process or the next, only evaluates its own tokens.
    The answer streams to stdout; prefill progress and how many prompt tokens
    were reused go to stderr. Ctrl-C stops cleanly and keeps what was prefilled.
    """
    from codectx import config, console
    from codectx import console_assistant as view
    from codectx.assistant.session import Answer, Session

    session = Session(path, config.load(path, flags))
    with console.progress_bar() as progress:
        stream = in_background(lambda cancel, p: session.ask(question, cancel=cancel, progress=p),
                                progress)
        answer: Answer | None = None
        with view.AnswerView(enabled=not as_json) as shown:
            for item in stream:
                if isinstance(item, Answer):
                    answer = item
                else:
                    shown.add(item)
    assert answer is not None
    if as_json:
        click.echo(json.dumps(view.answer_json(answer), indent=2))
    view.print_answer_stats(answer)
    if answer.stop_reason == "cancelled":
        sys.exit(130)
    if answer.stop_reason == "error":
        sys.exit(1)  # the answer broke off; what came was printed


@click.command("chat")
@click.argument("path", type=click.Path(path_type=Path), default=".")
@model_options
@click.option("--resume", "resume", is_flag=False, flag_value="", default=None, metavar="[ID]",
              help="Continue the newest saved conversation, or the one with this ID.")
@click.option("--list", "list_saved", is_flag=True,
              help="List the saved conversations of this repository and exit.")
@click.option("--no-watch", is_flag=True,
              help="Do not follow the repository's changes while the app is open.")
@friendly_errors
def chat_cmd(path: Path, flags: dict[str, Any], resume: str | None,
             list_saved: bool, no_watch: bool) -> None:
    """Chat about the repository at PATH (default: .) in the terminal UI.

    Questions stream their answers; /edit proposes a change shown as a diff,
    applied only on your keypress; /help lists the commands. Esc cancels.
    Conversations are saved; --resume continues one. While the app is open,
    changes to the repository are followed: the index and the prompt cache
    are kept warm (--no-watch turns this off).
    """
    from codectx import config, console
    from codectx.assistant import conversations
    from codectx.assistant.session import Session

    require_directory(path)
    loaded = config.load(path, flags)
    if list_saved:
        saved_ones = conversations.listing(loaded.cache_path(), path)
        for saved in saved_ones:
            console.out.print(f"{saved.id}  {len(saved.turns):3} turn(s)  {saved.title}",
                              markup=False, highlight=False)
        if not saved_ones:
            console.err.print("no saved conversations for this repository", markup=False)
        return
    resumed = None
    if resume is not None:
        resumed = conversations.load(loaded.cache_path(), path, resume or None)
    from codectx.tui.app import CodectxApp

    CodectxApp(Session(path, loaded), resumed, watch=not no_watch).run()


@click.group("cache")
def cache_group() -> None:
    """Saved prompt states: see, prefill or remove them."""


@cache_group.command("status")
@friendly_errors
def cache_status() -> None:
    """List the saved prompt states: repository, tokens covered, size, last use."""
    from codectx import config, console
    from codectx import console_assistant as view
    from codectx.models.prompt_cache import PromptCache

    loaded = config.load(Path("."))
    root = loaded.prompts_path()
    cap = int(loaded.settings.prompt_cache_gb * (1 << 30))
    entries = PromptCache(root, None, cap).all_entries() if root.is_dir() else []
    console.out.print(view.cache_table(entries, root, cap))


@cache_group.command("warm")
@click.argument("path", type=click.Path(path_type=Path), default=".")
@model_options
@friendly_errors
def cache_warm(path: Path, flags: dict[str, Any]) -> None:
    """Prefill the repository at PATH now and save it, so the next question starts warm."""
    from codectx import config
    from codectx.assistant.session import Session

    warm_now(Session(path, config.load(path, flags)))


@cache_group.command("clear")
@click.option("--index", "and_index", is_flag=True, help="Also remove the index cache.")
@friendly_errors
def cache_clear(and_index: bool) -> None:
    """Remove every saved prompt state (and, with --index, the index cache)."""
    from codectx import config, console
    from codectx.models.prompt_cache import PromptCache

    loaded = config.load(Path("."))
    root = loaded.prompts_path()
    removed = PromptCache(root, None, 0).clear() if root.is_dir() else 0
    console.err.print(f"removed {removed} saved prompt state(s) from {root}", markup=False)
    if and_index:
        for db in loaded.cache_path().glob("index-*.sqlite*"):
            db.unlink(missing_ok=True)
        console.err.print("removed the index cache", markup=False)


@click.group("models")
def models_group() -> None:
    """Models codectx knows, and what they need."""


@models_group.command("list")
@friendly_errors
def models_list() -> None:
    """The models known by name, and whether each is available here."""
    from codectx import config, console
    from codectx import console_assistant as view

    loaded = config.load(Path("."))
    console.out.print(view.models_table(loaded.models_path()))


@models_group.command("info")
@click.argument("model")
@click.option("--ctx", type=click.IntRange(min=1), default=None, metavar="N",
              help="Context length to plan for (default: the model's trained context).")
@click.option("--kv", type=click.Choice(["f16", "q8_0", "q4_0"]), default=None,
              help="KV cache type to plan for (default: the catalog's recommendation or f16).")
@friendly_errors
def models_info(model: str, ctx: int | None, kv: str | None) -> None:
    """What MODEL (a name or a GGUF file) is, and the memory a context needs.

    \b
    Example:
      codectx models info llama-3-8b-instruct-gradient-1048k --ctx 1048576 --kv q4_0
    """
    from codectx import config, console
    from codectx import console_assistant as view

    loaded = config.load(Path("."))
    console.out.print(view.model_info(model, ctx, kv, loaded.cache_path(),
                                         loaded.models_path()))
