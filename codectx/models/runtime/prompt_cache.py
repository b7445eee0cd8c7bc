"""Saved prompt states on disk: prefill a repository once, reuse it in any process.

Each entry is a llama.cpp sequence state file plus the token list it holds,
under a directory keyed by everything that makes a state loadable (model
file, llama-cpp-python version, context size, KV types, flash attention).
The entry sharing the longest token prefix with a new prompt is the one to
load. Writes go to a temporary file renamed into place, with a sha256 kept
beside it and checked before loading; a file lock makes concurrent codectx
processes safe; least-recently-used entries are evicted over a size cap.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from codectx.models.runtime.reuse import Held, common_prefix, valid

_BLOCK = 8 << 20


@dataclass(frozen=True)
class Entry:
    directory: Path
    id: str
    tokens: tuple[int, ...]
    size_bytes: int
    last_used: float
    label: str
    model: str
    held: tuple[Held, ...] = ()
    """The state's span table (empty for a state saved without one: prefix reuse only)."""

    @property
    def stale(self) -> int:
        return sum(h.tokens for h in self.held if h.stale)

    @property
    def state_path(self) -> Path:
        return self.directory / f"{self.id}.state"

    @property
    def meta_path(self) -> Path:
        return self.directory / f"{self.id}.json"

    @property
    def tokens_path(self) -> Path:
        return self.directory / f"{self.id}.tokens"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


class PromptCache:
    def __init__(self, root: Path, key: str | None, max_bytes: int) -> None:
        """Entries for one loadable configuration (`key`) under `root`, all keys sharing the cap.

        Without a key, only the operations over every entry make sense (status, clear).
        """
        self.root = root
        self.directory = root / key if key else root
        self.max_bytes = max_bytes
        self.directory.mkdir(parents=True, exist_ok=True)
        self.lock = FileLock(str(root / ".lock"))

    # -- reading ----------------------------------------------------------------

    def entries(self, directory: Path | None = None) -> list[Entry]:
        found = []
        for meta_path in sorted((directory or self.directory).glob("*.json")):
            entry = self._read_entry(meta_path)
            if entry is not None:
                found.append(entry)
        return found

    def all_entries(self) -> list[Entry]:
        return [e for d in sorted(self.root.iterdir()) if d.is_dir() for e in self.entries(d)]

    def _read_entry(self, meta_path: Path) -> Entry | None:
        try:
            meta = json.loads(meta_path.read_text())
            tokens = array("i")
            with meta_path.with_suffix(".tokens").open("rb") as fh:
                tokens.frombytes(fh.read())
            state = meta_path.with_suffix(".state")
            size = state.stat().st_size + meta_path.stat().st_size + len(tokens) * 4
        except (OSError, ValueError, KeyError):
            return None
        if len(tokens) != meta.get("n_tokens"):
            return None
        try:
            held = tuple(Held.from_json(item) for item in meta.get("spans", []))
        except (TypeError, ValueError):
            held = (Held("unreadable", 0, 0),)  # tiles nothing: `best` removes the entry
        return Entry(meta_path.parent, meta_path.stem, tuple(tokens), size,
                     float(meta.get("last_used", 0)), str(meta.get("label", "")),
                     str(meta.get("model", "")), held)

    def best(self, tokens: Sequence[int],
             score: Callable[[Entry], int] | None = None) -> tuple[Entry, int] | None:
        """The entry that keeps the most of `tokens`, and how many: by default the longest
        common token prefix; `score` says otherwise (segment-level reuse). An entry whose
        span table does not tile its tokens is damaged and removed."""
        with self.lock:
            entries = self.entries()
            for entry in [e for e in entries if e.held and not valid(e.held, len(e.tokens))]:
                self._remove(entry)
                entries.remove(entry)
        measure = score or (lambda e: common_prefix(e.tokens, tokens))
        scored = [(n, e) for n, e in ((measure(e), e) for e in entries) if n > 0]
        if not scored:
            return None
        n, entry = max(scored, key=lambda item: (item[0], -len(item[1].tokens)))
        return entry, n

    def verify(self, entry: Entry) -> bool:
        """The state file is whole: its sha256 is the one recorded when it was written."""
        try:
            meta = json.loads(entry.meta_path.read_text())
            return bool(meta.get("sha256") == _sha256(entry.state_path))
        except (OSError, ValueError):
            return False

    # -- writing ----------------------------------------------------------------

    def save(self, tokens: Sequence[int], write_state: Callable[[Path], None],
             label: str = "", model: str = "", held: Sequence[Held] = ()) -> Entry:
        """Write a state (through `write_state(path)`) for `tokens`, atomically."""
        data = array("i", tokens).tobytes()
        entry_id = hashlib.sha256(data).hexdigest()[:24]
        suffix = f".tmp{os.getpid()}"
        state_tmp = self.directory / f"{entry_id}.state{suffix}"
        tokens_tmp = self.directory / f"{entry_id}.tokens{suffix}"
        meta_tmp = self.directory / f"{entry_id}.json{suffix}"
        try:
            write_state(state_tmp)
            tokens_tmp.write_bytes(data)
            meta = {"n_tokens": len(tokens), "sha256": _sha256(state_tmp),
                    "created": time.time(), "last_used": time.time(), "label": label,
                    "model": model, "spans": [h.to_json() for h in held]}
            meta_tmp.write_text(json.dumps(meta))
            with self.lock:
                # The meta file goes last: an entry without it is never read.
                os.replace(state_tmp, self.directory / f"{entry_id}.state")
                os.replace(tokens_tmp, self.directory / f"{entry_id}.tokens")
                os.replace(meta_tmp, self.directory / f"{entry_id}.json")
                entry = self._read_entry(self.directory / f"{entry_id}.json")
                assert entry is not None
                self._drop_dominated(entry)
                self._evict()
        finally:
            for tmp in (state_tmp, tokens_tmp, meta_tmp):
                tmp.unlink(missing_ok=True)
        return entry

    def touch(self, entry: Entry) -> None:
        with self.lock:
            try:
                meta = json.loads(entry.meta_path.read_text())
                meta["last_used"] = time.time()
                tmp = entry.meta_path.with_suffix(f".json.tmp{os.getpid()}")
                tmp.write_text(json.dumps(meta))
                os.replace(tmp, entry.meta_path)
            except (OSError, ValueError):
                pass

    def discard(self, entry: Entry) -> None:
        with self.lock:
            self._remove(entry)

    @staticmethod
    def _remove(entry: Entry) -> None:
        for path in (entry.meta_path, entry.state_path, entry.tokens_path):
            path.unlink(missing_ok=True)

    def _drop_dominated(self, new: Entry) -> None:
        """An entry whose tokens are a prefix of the new one's can never be the best again
        (unless the new one is approximate where the old one is exact)."""
        for entry in self.entries():
            if entry.id != new.id and len(entry.tokens) <= len(new.tokens) \
                    and new.tokens[: len(entry.tokens)] == entry.tokens \
                    and (new.stale == 0 or entry.stale > 0):
                self._remove(entry)

    def _evict(self) -> None:
        self._remove_stale_temporaries()
        entries = sorted(self.all_entries(), key=lambda e: e.last_used)
        total = sum(e.size_bytes for e in entries)
        for entry in entries[:-1]:  # never the newest
            if total <= self.max_bytes:
                break
            self._remove(entry)
            total -= entry.size_bytes

    def clear(self) -> int:
        with self.lock:
            entries = self.all_entries()
            for entry in entries:
                self._remove(entry)
            self._remove_stale_temporaries(max_age_s=0)
        return len(entries)

    def _remove_stale_temporaries(self, max_age_s: float = 3600) -> None:
        """Half-written files of processes killed while saving (a live save is younger)."""
        now = time.time()
        for tmp in self.root.glob("*/*.tmp*"):
            with contextlib.suppress(OSError):
                if now - tmp.stat().st_mtime >= max_age_s:
                    tmp.unlink()
