"""What a slash command returns (`commands.py`): plain data a front end renders.

A note to show, a refusal, model work to start, a change to show again, a cleared
conversation, or a change that needs a confirmation before it is applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from codectx.assistant.background import Work
from codectx.assistant.results import EditProposal


@dataclass(frozen=True)
class Note:
    """Text to show in the conversation."""

    text: str


@dataclass(frozen=True)
class Refusal:
    """The command was not carried out; say why (a warning, or an error that failed)."""

    text: str
    level: Literal["warning", "error"] = "warning"


@dataclass(frozen=True)
class Start:
    """Model work to run in the background: a question ("ask"), "edit" or "review".

    `label` is what the conversation shows as asked; `work` yields text pieces and
    ends with an Answer, EditProposal or Review.
    """

    kind: Literal["ask", "edit", "review"]
    label: str
    work: Work
    instruction: str = ""
    """For an edit: what was asked, as the user typed it."""


@dataclass(frozen=True)
class ShowChange:
    proposal: EditProposal


@dataclass(frozen=True)
class Cleared:
    """A new conversation started."""


@dataclass(frozen=True)
class Confirm:
    """The change on screen creates or deletes files: ask before applying it, apart from
    the changes to existing files (`/apply all` or `/apply existing`)."""

    proposal: EditProposal
    text: str


Outcome = Note | Refusal | Start | ShowChange | Cleared | Confirm
