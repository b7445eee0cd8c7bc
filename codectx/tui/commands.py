"""Slash commands typed in the chat input: what exists and how a line parses."""

from __future__ import annotations

from dataclasses import dataclass

COMMANDS: dict[str, str] = {
    "/help": "show the commands and key bindings",
    "/files": "list the files in the prompt, in order, with their tokens and mode",
    "/tokens": "show how the context is used",
    "/add": "/add PATH: pin a file's full text after the repository (for every question)",
    "/drop": "/drop PATH: unpin a file",
    "/edit": "/edit INSTRUCTION: ask for a change to the repository (shown as a diff first)",
    "/revise": "/revise TEXT: ask for a different version of the change on screen",
    "/apply": "apply the change on screen",
    "/diff": "show the change on screen again",
    "/undo": "undo the last applied change",
    "/review": "/review [--staged]: review the uncommitted (or staged) changes",
    "/cache": "show the saved prompt states",
    "/model": "show the model in use",
    "/clear": "start a new conversation",
}


@dataclass(frozen=True)
class Command:
    name: str
    argument: str


def parse_command(line: str) -> Command | None:
    """A slash command, or None for an ordinary question."""
    text = line.strip()
    if not text.startswith("/"):
        return None
    name, _, argument = text.partition(" ")
    return Command(name.lower(), argument.strip())


def complete(prefix: str) -> list[str]:
    """Commands starting with what was typed so far."""
    return sorted(name for name in COMMANDS if name.startswith(prefix.lower()))
