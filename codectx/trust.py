"""Which repositories the user trusts with settings that reach outside them.

A repository someone clones is untrusted input. Its own config (`.codectx.toml`,
`[tool.codectx]`) may shape how it is indexed, but a setting that would send
data off the machine, read a file outside the repository, run a command or change
what the user's keys do (marked `Outside` in `settings.Settings`) is taken from it
only once the user has said so: in the chat's confirmation or with `codectx trust`.
The decision is kept per repository (its resolved path) and per content of its
config, so a config that changes after it was trusted is held back again until
confirmed.

The record lives beside the user's config file (`trusted.json`), written
atomically under a lock: two processes granting trust at once lose neither.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock

from codectx.errors import ConfigError
from codectx.files import write_bytes_atomic


@dataclass(frozen=True)
class Outside:
    """Marks a setting that reaches outside the repository (sends data off the machine, reads
    a file elsewhere, runs a command, changes what the user's keys do): a repository's own
    config sets it only once the user trusts that repository. `harmless` says which values
    need no trust."""

    why: str
    harmless: Callable[[Any], bool] | None = None

    def asks_trust(self, value: Any) -> bool:
        return self.harmless is None or not self.harmless(value)


def config_digest(source: str | None, table: Mapping[str, Any]) -> str:
    """The identity of a repository's config: where it is and every key it sets."""
    text = json.dumps({"source": source, "table": table}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RepoTrust:
    """What a repository's own config asks for, and whether the user has allowed it."""

    root: Path
    """The repository, resolved: trust is per place, not per folder name."""
    source: str | None
    """The repository's config (".codectx.toml" or "pyproject.toml [tool.codectx]"), if any."""
    digest: str
    trusted: bool
    asked: Mapping[str, Any] = field(default_factory=dict)
    """The settings reaching outside the repository that its config sets, with their values."""
    why: Mapping[str, str] = field(default_factory=dict)
    """For each key in `asked`: what it would let the repository do."""

    @property
    def ignored(self) -> dict[str, Any]:
        """What was asked for and not applied."""
        return {} if self.trusted else dict(self.asked)

    def lines(self) -> list[str]:
        """Exactly what the repository asks for, one setting a line."""
        return [f"{key} = {value!r}: {self.why[key]}" for key, value in self.asked.items()]

    def notice(self) -> str | None:
        """One line for an untrusted repository whose config was partly ignored."""
        if not self.ignored:
            return None
        return (f"{self.source} sets {', '.join(self.ignored)}, which reach outside the "
                f"repository: ignored until you trust it (`codectx trust {self.root}`)")


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: the record of trusted repositories cannot be read ({exc})",
                          "Fix or delete the file; `codectx trust PATH` writes it again.") from exc
    repos = data.get("repositories") if isinstance(data, dict) else None
    return repos if isinstance(repos, dict) else {}


class TrustStore:
    """The user's decisions, one entry per repository path."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def trusts(self, root: Path, digest: str) -> bool:
        entry = _read(self.path).get(str(root))
        return isinstance(entry, dict) and entry.get("digest") == digest

    def entries(self) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in _read(self.path).items() if isinstance(v, dict)}

    def grant(self, trust: RepoTrust) -> None:
        """Trust this repository with this content of its config."""
        entry = {"digest": trust.digest, "config": trust.source, "settings": dict(trust.asked),
                 "at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        self._update(str(trust.root), entry)

    def revoke(self, root: Path) -> bool:
        """Forget a repository; False when it was not trusted."""
        found = str(root) in _read(self.path)
        if found:
            self._update(str(root), None)
        return found

    def _update(self, root: str, entry: dict[str, Any] | None) -> None:
        """Record (or, with None, forget) one repository, under the lock."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.path) + ".lock", timeout=30):
            repos = _read(self.path)
            if entry is None:
                repos.pop(root, None)
            else:
                repos[root] = entry
            text = json.dumps({"repositories": repos}, indent=2, sort_keys=True, default=str)
            write_bytes_atomic(self.path, (text + "\n").encode("utf-8"))


def assess(root: Path, layer: tuple[str, Mapping[str, Any]] | None,
           marks: Mapping[str, Outside], store: TrustStore) -> RepoTrust:
    """What the repository's config asks for that reaches outside it, and whether the user
    has trusted this repository with this content of its config."""
    source, table = layer if layer is not None else (None, {})
    real = root.resolve()
    digest = config_digest(source, table)
    asked = {key: value for key, value in table.items()
             if key in marks and marks[key].asks_trust(value)}
    return RepoTrust(real, source, digest, store.trusts(real, digest), asked,
                     {key: marks[key].why for key in asked})
