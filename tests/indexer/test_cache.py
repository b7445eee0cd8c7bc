"""Incremental indexing: unchanged content is never parsed or counted twice."""

from __future__ import annotations

from pathlib import Path

from codectx import __version__
from codectx.indexer.cache import SCHEMA, IndexCache
from codectx.tokens import EstimateCounter
from tests.conftest import copy_fixture, index, write_tree


class CountingCounter(EstimateCounter):
    """Counts like the estimate but says it is exact, so its counts are worth caching."""

    name = "counting"
    exact = True

    def __init__(self) -> None:
        self.calls = 0

    def count(self, text: str) -> int:
        self.calls += 1
        return super().count(text)


def test_reindexing_an_unchanged_repository_parses_nothing(tmp_path: Path) -> None:
    root = copy_fixture("rust", tmp_path / "rust")
    first = index(root)
    assert first.parsed == len(first.files)
    second = index(root)
    assert second.parsed == 0
    assert second.text == first.text


def test_touching_one_file_reparses_only_that_file(tmp_path: Path) -> None:
    root = copy_fixture("typescript", tmp_path / "ts")
    index(root)
    (root / "src" / "util.ts").write_text("export const sum = 1;\n")
    again = index(root)
    assert again.parsed == 1
    util = next(f for f in again.files if f.path == "src/util.ts")
    assert util.imports == ()


def test_token_counts_come_from_the_cache(tmp_path: Path, isolated_env: Path) -> None:
    from codectx.indexer.pipeline import IndexOptions, build_index

    write_tree(tmp_path / "r", {f"m{i}.py": f"X = {i}\n" for i in range(10)})
    cache = IndexCache(isolated_env / "cache")
    counter = CountingCounter()
    build_index(tmp_path / "r", IndexOptions(), counter, cache)
    cold = counter.calls
    counter.calls = 0
    build_index(tmp_path / "r", IndexOptions(), counter, cache)
    assert cold >= 12 and counter.calls == 0
    write_tree(tmp_path / "r", {"m3.py": "X = 'changed'\n"})
    build_index(tmp_path / "r", IndexOptions(), counter, cache)
    assert counter.calls == 1  # only the changed file's block: the header and tree are unchanged


def test_estimates_are_recomputed_not_stored(tmp_path: Path, isolated_env: Path) -> None:
    from codectx.indexer.pipeline import IndexOptions, build_index

    write_tree(tmp_path / "r", {"a.py": "A = 1\n"})
    cache = IndexCache(isolated_env / "cache")
    build_index(tmp_path / "r", IndexOptions(), EstimateCounter(), cache)
    assert cache.get_many(f"tokens:{EstimateCounter.name}", []) == {}
    rows = cache._db.execute("SELECT COUNT(*) FROM kv WHERE ns LIKE 'tokens:%'").fetchone()
    assert rows == (0,)


def test_the_cache_is_keyed_by_version_and_survives_corruption(
    tmp_path: Path, isolated_env: Path
) -> None:
    write_tree(tmp_path / "r", {"a.py": "A = 1\n"})
    index(tmp_path / "r")
    db = isolated_env / "cache" / f"index-{__version__}-s{SCHEMA}.sqlite"
    assert db.is_file()
    for leftover in db.parent.glob(db.name + "-*"):
        leftover.unlink()
    db.write_bytes(b"this is not a database" * 100)
    result = index(tmp_path / "r")
    assert result.parsed == 1
    assert any("corrupt" in note for note in result.notes)
    assert index(tmp_path / "r").parsed == 0


def test_an_unwritable_cache_directory_does_not_stop_indexing(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    write_tree(tmp_path / "r", {"a.py": "A = 1\n"})
    result = index(tmp_path / "r", cache_dir=str(blocker / "sub"))
    assert [f.path for f in result.files] == ["a.py"]
    assert any("not usable" in note for note in result.notes)
