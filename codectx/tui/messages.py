"""What the workers tell the app, as messages (posted from worker threads)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from codectx.assistant.session import Answer, EditProposal, Review
from codectx.assistant.watcher import WatchEvent
from codectx.errors import CodectxError
from codectx.indexer.result import IndexResult


@dataclass
class Indexed(Message):
    index: IndexResult
    warm: bool = True
    """Prefill the prefix next (not after a re-index by the watcher, which prefills itself)."""


@dataclass
class Watched(Message):
    event: WatchEvent


@dataclass
class Progress(Message):
    stage: str
    done: int
    total: int


@dataclass
class Chunk(Message):
    text: str


@dataclass
class Answered(Message):
    answer: Answer


@dataclass
class Proposed(Message):
    proposal: EditProposal


@dataclass
class Reviewed(Message):
    review: Review


@dataclass
class Failed(Message):
    error: CodectxError
    turn: bool = False
    """From a turn's model work (not indexing, watching or warming)."""
