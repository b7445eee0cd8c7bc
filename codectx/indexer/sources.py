"""Reading files and getting their facts: from the cache by content hash, or by parsing.

Parsing is the one expensive step of a cold index; with enough files to
parse it runs in worker processes on every core.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from codectx.indexer.cache import IndexCache
from codectx.indexer.content import SNIFF_BYTES, decode, skip_reason
from codectx.indexer.gittree import BlobReader
from codectx.indexer.languages import language_of
from codectx.indexer.levels import Kind, kind_of
from codectx.indexer.parse import FileFacts, parse_batch
from codectx.indexer.walk import Candidate, Skipped
from codectx.progress import Progress

PARSE_BATCH = 100
PARALLEL_MIN = 400  # below this many files to parse, starting worker processes costs more


@dataclass
class Source:
    path: str
    language: str
    digest: str
    text: str
    invalid_utf8: bool
    kind: Kind = field(default_factory=lambda: Kind("source"))


def read_sources(
    candidates: list[Candidate], skipped: list[Skipped], progress: Progress,
    blobs: BlobReader | None = None,
) -> list[Source]:
    """Read each candidate; files that turn out binary, secret or unreadable go to `skipped`.

    Candidates listed from a git tree are read from their blobs, through `blobs`.
    """
    sources = []
    total = len(candidates)
    for i, cand in enumerate(candidates):
        if i % 200 == 0:
            progress("read", i, total)
        try:
            if cand.blob:
                assert blobs is not None, "a git tree's files need a blob reader"
                data = blobs.read(cand.blob)
            else:
                with open(cand.abspath, "rb") as fh:
                    data = fh.read()
        except OSError as exc:
            skipped.append(Skipped(cand.path, f"unreadable: {exc.strerror or exc}"))
            continue
        reason = skip_reason(data)
        if reason:
            skipped.append(Skipped(cand.path, reason))
            continue
        decoded = decode(data)
        language = language_of(cand.path)
        digest = hashlib.sha256(data).hexdigest()
        sources.append(Source(cand.path, language, digest, decoded.text, decoded.invalid_utf8,
                              kind_of(cand.path, language, len(data), data[:SNIFF_BYTES])))
    progress("read", total, total)
    return sources


def load_facts(
    sources: list[Source], cache: IndexCache, progress: Progress
) -> tuple[dict[str, FileFacts], int]:
    keys = {s.path: f"{s.digest}:{s.language}" for s in sources}
    cached = cache.get_many("facts", keys.values())
    missing = [s for s in sources if keys[s.path] not in cached]
    fresh: dict[str, dict[str, Any]] = {}
    items = [(s.language, s.text.encode("utf-8")) for s in missing]
    for src, parsed in zip(missing, parse_all(items, progress), strict=True):
        fresh[keys[src.path]] = parsed
    cache.put_many("facts", fresh)
    cached.update(fresh)
    return {s.path: FileFacts.from_json(cached[keys[s.path]]) for s in sources}, len(missing)


def parse_all(items: list[tuple[str, bytes]], progress: Progress) -> Iterator[dict[str, Any]]:
    """Parse (language, source) items in order, on every core when there is enough work."""
    total = len(items)
    batches = [items[i : i + PARSE_BATCH] for i in range(0, total, PARSE_BATCH)]
    workers = min(os.cpu_count() or 1, len(batches))
    done = 0
    progress("parse", 0, total)
    if total >= PARALLEL_MIN and workers >= 2 and _workers_can_start():
        try:
            for result in _parse_in_workers(batches, workers):
                yield from result
                done += 1
                progress("parse", min(done * PARSE_BATCH, total), total)
        except (BrokenProcessPool, OSError):
            # Workers could not start (a host program without a main guard, no /dev/shm,
            # a process limit): the rest is parsed here, just more slowly.
            pass
    for batch in batches[done:]:
        yield from parse_batch(batch)
        done += 1
        progress("parse", min(done * PARSE_BATCH, total), total)


def _workers_can_start() -> bool:
    """Spawned workers re-import the main script; one read from stdin cannot be."""
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    return main_file is None or os.path.isfile(main_file)


def _parse_in_workers(
    batches: list[list[tuple[str, bytes]]], workers: int
) -> Iterator[list[dict[str, Any]]]:
    context = multiprocessing.get_context("spawn")  # no fork: the caller may run threads
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        yield from pool.map(parse_batch, batches)
