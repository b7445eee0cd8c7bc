"""`codectx ask` and `codectx chat`: questions about the repository, and what they print."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import click

from codectx.cli.console import err, out, print_answer_stats, write
from codectx.cli.options import (
    friendly_errors,
    in_background,
    load_settings,
    model_options,
    not_blank,
    require_directory,
)

if TYPE_CHECKING:
    from rich.live import Live

    from codectx.assistant.session import Answer


@click.command("ask")
@click.argument("question", callback=not_blank)
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
    from codectx.assistant.session import Answer, Session
    from codectx.cli.console import progress_bar

    session = Session(path, load_settings(path, flags))
    with progress_bar() as progress:
        stream = in_background(lambda cancel, p: session.ask(question, cancel=cancel, progress=p),
                                progress)
        answer: Answer | None = None
        with AnswerView(enabled=not as_json) as shown:
            for item in stream:
                if isinstance(item, Answer):
                    answer = item
                else:
                    shown.add(item)
    assert answer is not None
    if as_json:
        click.echo(json.dumps(answer_json(answer), indent=2))
    print_answer_stats(answer)
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
    from codectx import config
    from codectx.assistant import conversations
    from codectx.assistant.session import Session

    require_directory(path)
    loaded = config.load(path, flags)  # the app asks about the repository's own settings
    if list_saved:
        saved_ones = conversations.listing(loaded.cache_path(), path)
        for saved in saved_ones:
            out.print(f"{saved.id}  {len(saved.turns):3} turn(s)  {saved.title}",
                              markup=False, highlight=False)
        if not saved_ones:
            err.print("no saved conversations for this repository", markup=False)
        return
    resumed = None
    if resume is not None:
        resumed = conversations.load(loaded.cache_path(), path, resume or None)
    from codectx.tui.app import CodectxApp

    CodectxApp(Session(path, loaded), resumed, watch=not no_watch,
               reopen=lambda: Session(path, config.load(path, flags))).run()


class AnswerView:
    """Streams the answer: rendered markdown on a terminal, plain text when piped."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.text = ""
        self.live: Live | None = None

    def __enter__(self) -> AnswerView:
        from rich.live import Live
        from rich.markdown import Markdown

        if self.enabled and out.is_terminal:
            self.live = Live(Markdown(""), console=out, refresh_per_second=8,
                             vertical_overflow="visible")
            self.live.__enter__()
        return self

    def add(self, piece: str) -> None:
        if not self.enabled:
            return
        self.text += piece
        if self.live is not None:
            from rich.markdown import Markdown

            self.live.update(Markdown(self.text))
        else:
            write(piece)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.live is not None:
            self.live.__exit__(kind, exc, tb)
        elif self.enabled and self.text and not self.text.endswith("\n"):
            write("\n")


def answer_json(answer: Answer) -> dict[str, Any]:
    return {
        "answer": answer.text, "model": answer.model, "stop_reason": answer.stop_reason,
        "prompt_tokens": answer.prompt_tokens,
        # null when the backend (a server) does not report what it reused
        "reused_tokens": answer.reused_tokens if answer.reuse_reported else None,
        "evaluated_tokens": answer.evaluated_tokens if answer.reuse_reported else None,
        # of the reused, those kept at a new position; of the prompt, those computed
        # against text that has since changed (an approximation until an exact prefill)
        "shifted_tokens": answer.shifted_tokens if answer.reuse_reported else None,
        "stale_tokens": answer.stale_tokens if answer.reuse_reported else None,
        "load_s": round(answer.load_s, 3),
        "ttft_s": round(answer.ttft_s, 3), "total_s": round(answer.total_s, 3),
        "generated_tokens": answer.generated_tokens,
        "tokens_per_s": round(answer.tokens_per_s, 2), "notes": list(answer.notes),
        "retrieved": [r.to_json() for r in answer.retrieved],
        "split": {"prefix": answer.prefix_tokens, "retrieved": answer.retrieved_tokens,
                  "shown": answer.shown_tokens, "conversation": answer.conversation_tokens,
                  "question": answer.question_tokens},
        # what was evaluated (not reused) of each part, and the reply generated
        "evaluated": answer.evaluated_split,
        # what this machine's measured speed model expected for the turn as it ran
        "expected_s": answer.expected_s,
    }
