"""The slash commands every front end offers.

One table: each command's name, argument, help, the front ends that offer it
and its handler. A handler takes the `Chat` (`chat.py`, the conversation) and the
argument and returns plain data (an `Outcome`, `outcomes.py`): a note to show, a
refusal, model work to start, a change to show again, or a cleared conversation.
The terminal UI and the editor agent only render outcomes; neither decides what a
command does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from codectx.advice import error_in_the_chat
from codectx.assistant import editing, reviewing
from codectx.assistant.chat import Chat, FrontEnd
from codectx.assistant.edits import show
from codectx.assistant.edits.paths import readable_path
from codectx.assistant.outcomes import Cleared, Confirm, Note, Outcome, Refusal, ShowChange, Start
from codectx.assistant.review import change as changes
from codectx.errors import CodectxError
from codectx.progress import Progress


@dataclass(frozen=True)
class Command:
    name: str
    argument: str | None
    """The argument's hint, e.g. "INSTRUCTION"; None when the command takes none."""
    help: str
    handler: Callable[[Chat, str], Outcome]
    front_ends: frozenset[FrontEnd] = frozenset({"chat", "acp"})


def _failed(exc: CodectxError) -> Refusal:
    return Refusal(error_in_the_chat(exc), "error")


def _help(chat: Chat, argument: str) -> Outcome:
    lines = [f"{c.name:8} {c.help}" for c in offered(chat.front_end)]
    keys = f"\n\nkeys: {chat.keys_help}" if chat.keys_help else ""
    return Note("\n".join(lines) + keys)


def _files(chat: Chat, argument: str) -> Outcome:
    listed = (("\n".join(f"{f.path}  {f.tokens:,}  {f.mode.value}" for f in chat.index.files))
              if chat.index is not None else "still indexing")
    pinned = f"\npinned: {', '.join(chat.pinned)}" if chat.pinned else ""
    return Note(listed + pinned)


def tokens_text(chat: Chat) -> str:
    """How the context is used: the repository, and the last turn."""
    lines = []
    if chat.index is not None:
        index = chat.index
        full = sum(f.mode.value == "full" for f in index.files)
        lines.append(f"Repository: {len(index.files)} files ({full} in full), "
                     f"{index.total_tokens:,} tokens.")
    window = chat.session.context_window
    if chat.last_answer is not None:
        last = chat.last_answer
        of = f" of a {window:,}-token context" if window else ""
        lines.append(f"Last turn: {last.prompt_tokens:,} prompt tokens{of}, "
                     f"{last.reused_tokens:,} reused from the cache, "
                     f"{last.evaluated_tokens:,} evaluated, {last.generated_tokens} generated.")
        if last.shifted_tokens or last.stale_tokens:
            lines.append(f"Reuse: {last.shifted_tokens:,} of the reused tokens at a new "
                         f"position; {last.stale_tokens:,} computed against text that has "
                         "since changed (approximate until the next exact prefill).")
        lines.append(f"Split: prefix {last.prefix_tokens:,}, retrieved "
                     f"{last.retrieved_tokens:,} ({len(last.retrieved)} files), files shown "
                     f"{last.shown_tokens:,}, conversation {last.conversation_tokens:,}, "
                     f"question {last.question_tokens:,}.")
        evaluated = ", ".join(f"{part} {n:,}" for part, n in last.evaluated_split.items())
        expected = (f" (this machine's speed model expected {last.expected_s:,.1f} s)"
                    if last.expected_s is not None else "")
        lines.append(f"Evaluated: {evaluated}; {last.total_s:,.1f} s in all{expected}.")
        if last.retrieved:
            lines.append("Retrieved: " + ", ".join(f"{r.path} ({r.why})"
                                                   for r in last.retrieved))
    return "\n".join(lines) or "Nothing indexed yet."


def _tokens(chat: Chat, argument: str) -> Outcome:
    return Note(tokens_text(chat))


def _add(chat: Chat, path: str) -> Outcome:
    root = chat.session.root
    try:
        safe = readable_path(root, path, f"/add {path}")
    except CodectxError as exc:
        return _failed(exc)
    if not (root / safe).is_file():
        return Refusal(f"/add {path}: no such file", "error")
    if safe not in chat.pinned:
        chat.pinned.append(safe)
    return Note(f"pinned {safe}: its full text goes with every question")


def _drop(chat: Chat, path: str) -> Outcome:
    if path not in chat.pinned:
        return Refusal(f"{path} is not pinned")
    chat.pinned.remove(path)
    return Note(f"unpinned {path}")


def _edit(chat: Chat, instruction: str) -> Outcome:
    if not instruction:
        return Refusal("/edit needs an instruction: /edit rename foo to bar")
    files = list(chat.pinned)
    return Start("edit", f"edit: {instruction}", lambda cancel, progress: editing.edit(
        chat.session, instruction, files=files, cancel=cancel, progress=progress), instruction)


def _revise(chat: Chat, text: str) -> Outcome:
    earlier = chat.last_proposal
    if earlier is None or not text:
        return Refusal("/revise TEXT changes the edit on screen")
    files = list(chat.pinned)
    return Start("edit", f"revise: {text}", lambda cancel, progress: editing.edit(
        chat.session, text, files=files, revising=earlier, cancel=cancel, progress=progress), text)


def _apply(chat: Chat, argument: str) -> Outcome:
    if chat.proposal is None:
        return Refusal("no change to apply")
    if argument not in ("", "all", "existing"):
        return Refusal("/apply applies the change on screen; /apply all also creates and "
                       "deletes the files it names, /apply existing changes only files that "
                       "exist")
    plan = chat.proposal.plan
    made_or_removed = show.made_or_removed(plan)
    if made_or_removed and not argument:
        return Confirm(chat.proposal, f"This change {made_or_removed}. /apply all applies "
                                      "that too; /apply existing changes only the files "
                                      "that exist.")
    if argument == "existing":
        plan = plan.only("modify")
        if not plan.changes:
            return Refusal("the change only creates or deletes files: /apply all applies it")
    try:
        paths = editing.apply(chat.session.root, chat.session.loaded, plan)
    except CodectxError as exc:
        return _failed(exc)
    chat.applied(chat.proposal)
    return Note(f"applied to {', '.join(paths)} (/undo restores)")


def _check(chat: Chat, argument: str) -> Outcome:
    proposal = chat.proposal
    if proposal is None:
        return Refusal("no change on screen to check")
    return Start("edit", "check the change", lambda cancel, progress: editing.recheck(
        chat.session, proposal, cancel=cancel, progress=progress), proposal.instruction)


def _diff(chat: Chat, argument: str) -> Outcome:
    return ShowChange(chat.proposal) if chat.proposal else Note("no change on screen")


def _undo(chat: Chat, argument: str) -> Outcome:
    try:
        paths = editing.undo(chat.session.root, chat.session.loaded)
    except CodectxError as exc:
        return _failed(exc)
    return Note(f"restored {', '.join(paths)}")


def _review(chat: Chat, argument: str) -> Outcome:
    if argument not in ("", "--staged"):
        return Refusal("/review reviews the uncommitted changes; /review --staged what "
                       "would be committed")
    staged = bool(argument)

    def work(cancel: threading.Event, progress: Progress) -> Iterator[Any]:
        root = chat.session.root  # in the worker: git may be slow
        change = changes.staged(root) if staged else changes.worktree(root)
        return reviewing.review(chat.session, change, cancel=cancel, progress=progress)

    return Start("review", f"review{' (staged)' if staged else ''}", work)


def _model(chat: Chat, argument: str) -> Outcome:
    try:
        return Note(chat.session.provider.description())
    except CodectxError as exc:  # a model that cannot be read, a server that cannot be reached
        return _failed(exc)


def _cache(chat: Chat, argument: str) -> Outcome:
    return Note(chat.session.provider.cache_description())


def _clear(chat: Chat, argument: str) -> Outcome:
    chat.new_conversation()
    return Cleared()


_CHAT: frozenset[FrontEnd] = frozenset({"chat"})
COMMANDS: dict[str, Command] = {c.name: c for c in (
    Command("/help", None, "show the commands and key bindings", _help),
    Command("/files", None, "list the files in the prompt, in order, with their tokens and "
            "mode", _files),
    Command("/tokens", None, "show how the context is used", _tokens),
    Command("/add", "PATH", "/add PATH: pin a file's full text after the repository (for "
            "every question)", _add, _CHAT),
    Command("/drop", "PATH", "/drop PATH: unpin a file", _drop, _CHAT),
    Command("/edit", "INSTRUCTION", "/edit INSTRUCTION: ask for a change to the repository "
            "(shown as a diff first)", _edit),
    Command("/revise", "TEXT", "/revise TEXT: ask for a different version of the change on "
            "screen", _revise, _CHAT),
    Command("/apply", "all|existing", "/apply [all|existing]: apply the change on screen "
            "(one that creates or deletes files asks first)", _apply, _CHAT),
    Command("/diff", None, "show the change on screen again", _diff, _CHAT),
    Command("/check", None, "run the project's checks on the change on screen (applied, "
            "checked, put back)", _check, _CHAT),
    Command("/undo", None, "undo the last applied change", _undo, _CHAT),
    Command("/review", "--staged", "/review [--staged]: review the uncommitted (or staged) "
            "changes", _review),
    Command("/cache", None, "show the saved prompt states", _cache),
    Command("/model", None, "show the model in use", _model),
    Command("/clear", None, "start a new conversation", _clear, _CHAT),
)}


def offered(front_end: FrontEnd) -> list[Command]:
    """The commands a front end offers, in the table's order."""
    return [c for c in COMMANDS.values() if front_end in c.front_ends]


def parse(line: str) -> tuple[str, str] | None:
    """(name, argument) of a slash command, or None for an ordinary question."""
    text = line.strip()
    if not text.startswith("/"):
        return None
    name, _, argument = text.partition(" ")
    return name.lower(), argument.strip()


def complete(prefix: str, front_end: FrontEnd = "chat") -> list[str]:
    """Commands starting with what was typed so far."""
    return sorted(c.name for c in offered(front_end) if c.name.startswith(prefix.lower()))


# Where a line that starts with "/" but names no command is a question: an editor's prompt
# may well begin with a path ("/etc/app.conf: why is this read twice?").
QUESTIONS_ON_UNKNOWN: frozenset[FrontEnd] = frozenset({"acp"})


def describe(command: Command) -> str:
    """A command's help without its usage prefix ("/edit INSTRUCTION: ...")."""
    usage, sep, rest = command.help.partition(": ")
    return rest if sep and usage.startswith(command.name) else command.help


def run(chat: Chat, line: str, *, buffers: Mapping[str, str] | None = None,
        pinned: Sequence[str] | None = None) -> Outcome:
    """What a line typed in the chat's front end does: a slash command it offers, else a
    question (with `pinned` files, default the chat's, and unsaved `buffers`)."""
    parsed = parse(line)
    command = COMMANDS.get(parsed[0]) if parsed else None
    if command is not None and chat.front_end not in command.front_ends:
        command = None
    if parsed is None or (command is None and chat.front_end in QUESTIONS_ON_UNKNOWN):
        return chat.question(line, pinned=pinned, buffers=buffers)
    if command is None:
        return Refusal(f"unknown command {parsed[0]}: /help lists them")
    return command.handler(chat, parsed[1])
