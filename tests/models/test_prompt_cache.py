"""The on-disk prompt cache: longest-prefix lookup, integrity, eviction, concurrency."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest

from codectx.models.runtime.prompt_cache import PromptCache


def writer(payload: bytes):  # type: ignore[no-untyped-def]
    def write(path: Path) -> None:
        path.write_bytes(payload)

    return write


def test_the_longest_common_prefix_wins(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path, "k", 1 << 30)
    cache.save([1, 2, 3], writer(b"a"))
    cache.save([1, 2, 9, 9], writer(b"b"))
    cache.save([5, 6], writer(b"c"))
    found = cache.best([1, 2, 9, 9, 7])
    assert found is not None and found[0].tokens == (1, 2, 9, 9) and found[1] == 4
    assert cache.best([8]) is None


def test_an_entry_that_is_a_prefix_of_a_new_one_is_dropped(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path, "k", 1 << 30)
    cache.save([1, 2], writer(b"a"))
    cache.save([1, 2, 3], writer(b"b"))
    assert [e.tokens for e in cache.entries()] == [(1, 2, 3)]


def test_a_damaged_state_fails_verification(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path, "k", 1 << 30)
    entry = cache.save([1, 2, 3], writer(b"state bytes"))
    assert cache.verify(entry)
    entry.state_path.write_bytes(b"state byteZ")
    assert not cache.verify(entry)
    entry.state_path.write_bytes(b"state")  # truncated
    assert not cache.verify(entry)
    cache.discard(entry)
    assert cache.entries() == []


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path, "k", 1 << 30)

    def broken(path: Path) -> None:
        path.write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        cache.save([1, 2], broken)
    assert sorted(p.name for p in (tmp_path / "k").iterdir()) == []


def test_clear_also_removes_half_written_files(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path, "k", 1 << 30)
    cache.save([1], writer(b"x"))
    (tmp_path / "k" / "dead.state.tmp123").write_bytes(b"from a killed process")
    assert PromptCache(tmp_path, None, 0).clear() == 1
    assert list((tmp_path / "k").iterdir()) == []


def test_least_recently_used_entries_are_evicted_over_the_cap(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path, "k", 3000)
    old = cache.save([1], writer(b"x" * 1000))
    newer = cache.save([2], writer(b"x" * 1000))
    time.sleep(0.01)
    cache.touch(old)  # used again: now the newer of the two
    cache.save([3], writer(b"x" * 1000))
    left = {e.tokens for e in cache.entries()}
    assert (1,) in left and (3,) in left and newer.tokens not in left


def test_the_cap_counts_every_configuration(tmp_path: Path) -> None:
    first = PromptCache(tmp_path, "a", 1500)
    first.save([1], writer(b"x" * 1000))
    time.sleep(0.01)
    PromptCache(tmp_path, "b", 1500).save([2], writer(b"x" * 1000))
    assert first.entries() == []
    assert PromptCache(tmp_path, None, 0).clear() == 1


def _save_many(root: str, offset: int) -> None:
    cache = PromptCache(Path(root), "k", 1 << 30)
    for i in range(20):
        cache.save([offset, i], writer(os.urandom(2000)))


def test_concurrent_processes_leave_only_whole_entries(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_save_many, args=(str(tmp_path), n)) for n in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
        assert w.exitcode == 0
    cache = PromptCache(tmp_path, "k", 1 << 30)
    entries = cache.entries()
    assert len(entries) == 60
    assert all(cache.verify(e) for e in entries)
    assert not [p for p in (tmp_path / "k").iterdir() if ".tmp" in p.name]
