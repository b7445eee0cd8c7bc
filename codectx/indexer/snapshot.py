"""A whole index remembered against the state of the tree, for instant re-indexing.

Re-indexing an unchanged repository should cost about what listing it costs.
The snapshot stores the last result for a directory together with a
fingerprint of everything it was made from: codectx's version, the options,
the tokenizer, the git HEAD, and every listed file's size, modification time
and inode. A matching fingerprint returns the stored result without reading a
file. As git does against "racy" timestamps, a snapshot is not trusted while
any file's modification time is not safely older than the run that made it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from codectx import __version__
from codectx.indexer.cache import IndexCache
from codectx.indexer.walk import Listing

NS = "snapshot"
RACY_NS = 2_000_000_000  # a write this close before a run may share its file's timestamp


def fingerprint(listing: Listing, options: object, tokenizer: str, head: str | None) -> str:
    state = [
        __version__, repr(options), tokenizer, head,
        [(c.path, c.size, c.mtime_ns, c.inode, c.blob) for c in listing.files],
        [(s.path, s.reason) for s in listing.skipped],
        listing.untracked,
    ]
    return hashlib.sha256(json.dumps(state).encode()).hexdigest()


def load(cache: IndexCache, key: str, digest: str, listing: Listing) -> dict[str, Any] | None:
    """The stored result if its fingerprint matches and no file is racily new."""
    stored = cache.get(NS, key)
    if not stored or stored["fingerprint"] != digest:
        return None
    newest = max((c.mtime_ns for c in listing.files), default=0)
    if newest >= stored["started_ns"] - RACY_NS:
        return None
    result: dict[str, Any] = stored["result"]
    return result


def save(cache: IndexCache, key: str, digest: str, started_ns: int,
         result: dict[str, Any]) -> None:
    cache.put_many(NS, {key: {"fingerprint": digest, "started_ns": started_ns, "result": result}})
