"""What the agent keeps per editor session."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

from acp import Client

from codectx.agent.providers import Lease
from codectx.assistant.chat import Chat
from codectx.assistant.session import Session
from codectx.assistant.watcher import Watcher

StopReason = Literal["end_turn", "max_tokens", "max_turn_requests", "refusal", "cancelled"]
T = TypeVar("T")


@dataclass
class SessionState:
    """One editor session: its conversation, and what its turns and prefill need."""

    id: str
    chat: Chat
    cancel: threading.Event = field(default_factory=threading.Event)
    """Stops the current turn; a new one per prompt."""
    stop_prefill: threading.Event = field(default_factory=threading.Event)
    """Stops the session's first prefill (a cancel stops it too: what it did is saved)."""
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    prefill: str | None = None  # the id of the prefill tool call, while it runs
    edits: int = 0
    watcher: Watcher | None = None
    refreshes: int = 0
    retrievals: int = 0
    lease: Lease | None = None
    """The session's hold on its repository's shared model."""
    ended: bool = False

    @property
    def session(self) -> Session:
        return self.chat.session

    def end(self) -> None:
        """Stop the session's work and watcher, and let go of its model."""
        self.ended = True
        self.cancel.set()
        self.stop_prefill.set()
        if self.watcher is not None:
            self.watcher.stop()
        if self.lease is not None:
            self.lease.release()


class Agent(Protocol):
    """What a turn's helpers need of the agent."""

    @property
    def client(self) -> Client: ...

    @property
    def can_write(self) -> bool:
        """Whether the editor offers fs/write_text_file."""

    async def say(self, state: SessionState, text: str) -> StopReason: ...

    async def final(self, state: SessionState, kind: type[T],
                    work: Callable[[threading.Event, Any], Iterator[Any]]) -> T: ...
