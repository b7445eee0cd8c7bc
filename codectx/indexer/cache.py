"""The incremental index cache: parse results, token counts and git history.

Keyed by content (a file's hash, a block's hash plus the tokenizer, a HEAD
commit), stored in one SQLite file per codectx version and storage schema
under the user cache directory, so re-indexing an unchanged repository re-parses and re-counts
nothing and a new codectx version never reads an old layout. A cache that
cannot be opened or is corrupt is rebuilt; indexing never fails because of it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from codectx import __version__

_CHUNK = 500
# Bump whenever the layout of a stored value, or what it holds, changes, so no release reads
# another's.
SCHEMA = 5


class IndexCache:
    def __init__(self, directory: Path | None) -> None:
        """A cache in `directory`; None keeps it in memory for this process only."""
        name = f"index-{__version__}-s{SCHEMA}.sqlite"
        self.path = directory / name if directory else None
        self.notes: list[str] = []
        self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                return self._init(sqlite3.connect(self.path, timeout=30))
            except sqlite3.DatabaseError:
                self.path.unlink(missing_ok=True)
                self.notes.append(f"index cache {self.path} was corrupt; rebuilt it")
                try:
                    return self._init(sqlite3.connect(self.path, timeout=30))
                except sqlite3.DatabaseError:
                    pass
            except OSError:
                pass
            self.notes.append(f"index cache {self.path} is not usable; nothing was cached")
            self.path = None
        return self._init(sqlite3.connect(":memory:"))

    @staticmethod
    def _init(db: sqlite3.Connection) -> sqlite3.Connection:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS kv (ns TEXT, key TEXT, value TEXT, "
            "PRIMARY KEY (ns, key)) WITHOUT ROWID"
        )
        return db

    def get_many(self, ns: str, keys: Iterable[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for chunk in _chunks(sorted(set(keys))):
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, value FROM kv WHERE ns = ? AND key IN ({marks})", (ns, *chunk)
            )
            keys_found, values = [], []
            for key, value in rows:
                keys_found.append(key)
                values.append(value)
            # One parse of a JSON array is far cheaper than a json.loads per row.
            found.update(zip(keys_found, json.loads("[" + ",".join(values) + "]"), strict=True))
        return found

    def get(self, ns: str, key: str) -> Any:
        return self.get_many(ns, [key]).get(key)

    def put_many(self, ns: str, items: dict[str, Any]) -> None:
        if not items:
            return
        rows = [(ns, key, json.dumps(value, separators=(",", ":"))) for key, value in items.items()]
        try:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO kv VALUES (?, ?, ?)", rows)
        except sqlite3.OperationalError as exc:  # locked for too long, disk full, read-only
            self.notes.append(f"index cache not updated: {exc}")

    def close(self) -> None:
        self._db.close()


def _chunks(keys: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start : start + _CHUNK]


def clear_index_caches(directory: Path) -> int:
    """Remove every index cache in `directory` (any version or schema); how many went."""
    removed = 0
    for path in directory.glob("index-*.sqlite*"):
        path.unlink(missing_ok=True)
        removed += path.suffix == ".sqlite"
    return removed
