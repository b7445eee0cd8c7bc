"""One model per repository, however many editor sessions are open on it.

An editor may open several sessions on one repository (a new chat, a loaded
one). Each would otherwise load its own model: memory for two, and two
prefills of the same prefix. Sessions on the same repository with the same
settings share one provider and one turn lock (one model, one turn at a
time); the provider is closed, its model freed, with the last session.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from codectx.config import Loaded
from codectx.models.identity import RepoId
from codectx.models.provider import Provider, provider_for


@dataclass
class Lease:
    """A session's hold on a shared provider; `release` once, when the session ends."""

    provider: Provider
    turn_lock: threading.Lock
    _release: Callable[[], None]
    _released: bool = field(default=False)

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._release()


@dataclass
class _Shared:
    provider: Provider
    turn_lock: threading.Lock = field(default_factory=threading.Lock)
    holders: int = 0


class SharedProviders:
    def __init__(self, make: Callable[[Path, Loaded], Provider] = provider_for) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._shared: dict[tuple[str, str], _Shared] = {}

    def lease(self, root: Path, loaded: Loaded) -> Lease:
        """The provider for `root` with these settings, made on the first lease."""
        key = (RepoId.of(root).key, repr(loaded.settings))
        with self._lock:
            shared = self._shared.get(key)
            if shared is None:
                shared = self._shared[key] = _Shared(self._make(root, loaded))
            shared.holders += 1
        return Lease(shared.provider, shared.turn_lock, lambda: self._release(key))

    def _release(self, key: tuple[str, str]) -> None:
        with self._lock:
            shared = self._shared[key]
            shared.holders -= 1
            if shared.holders > 0:
                return
            del self._shared[key]
        shared.provider.close()

    def close_all(self) -> None:
        """Close every provider (the editor went away)."""
        with self._lock:
            shared, self._shared = list(self._shared.values()), {}
        for item in shared:
            item.provider.close()
