"""Which repository a cached state belongs to.

Everything kept per repository (the prefill lock, a server's saved slot
state) is keyed by the repository's resolved path, hashed: two repositories
with the same folder name in different places never share one. The folder's
name is kept for display only (`codectx cache` lists it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RepoId:
    key: str
    """A hash of the resolved path: what locks and saved states are keyed by."""
    name: str
    """The folder's name, for people."""

    @classmethod
    def of(cls, root: Path) -> RepoId:
        resolved = root.resolve()
        return cls(_digest(str(resolved)), resolved.name or str(resolved))

    @classmethod
    def detached(cls, name: str) -> RepoId:
        """No repository (a measurement, `codectx doctor`): keyed by the name alone."""
        return cls(_digest(f"detached:{name}"), name)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
