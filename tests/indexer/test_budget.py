"""The allocator: every file covered at its cheapest level first, then deepened in order
of importance; monotone in the budget, deterministic; and through the real index."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from codectx.errors import BudgetError
from codectx.indexer.budget import Ladder, fit
from codectx.indexer.levels import DEEPEST_LAST, Level
from tests.conftest import index, write_tree

DEPTH = {level: i for i, level in enumerate(DEEPEST_LAST)}


def random_ladders(rng: random.Random, n: int) -> dict[str, Ladder]:
    ladders = {}
    for i in range(n):
        full = rng.randint(20, 2000)
        costs = {Level.FULL: full}
        for level, share in ((Level.SKELETON, 0.4), (Level.OUTLINE, 0.15), (Level.NAMES, 0.03)):
            if rng.random() < 0.8:
                costs[level] = max(3, int(full * share * rng.uniform(0.5, 1.5)))
        ladders[f"f{i:03}.py"] = Ladder.of(costs, data=rng.random() < 0.1)
    return ladders


def overhead(listed: set[str]) -> int:
    return 50 + 2 * len(listed)  # a header, and a mark per listed file


def total(ladders: dict[str, Ladder], levels: dict[str, Level]) -> int:
    costs = {p: dict(ladder.rungs) for p, ladder in ladders.items()}
    return sum(costs[p].get(level, 0) for p, level in levels.items()) + overhead(
        {p for p, level in levels.items() if level is Level.LISTED})


def test_a_ladder_keeps_only_levels_cheaper_than_every_deeper_one() -> None:
    ladder = Ladder.of({Level.FULL: 10, Level.SKELETON: 12, Level.OUTLINE: 4, Level.NAMES: 4})
    assert ladder.rungs == ((Level.OUTLINE, 4), (Level.FULL, 10))


@pytest.mark.parametrize("seed", range(5))
def test_coverage_first_then_monotone_and_deterministic(seed: int) -> None:
    rng = random.Random(seed)
    ladders = random_ladders(rng, 60)
    ranked = sorted(ladders, key=lambda p: rng.random())
    cheapest = sum(ladder.rungs[0][1] for ladder in ladders.values()) + overhead(set())
    everything = sum(ladder.rungs[-1][1] for ladder in ladders.values()) + overhead(set())
    budgets = sorted({cheapest // 2, cheapest, *(rng.randint(cheapest, everything)
                                                  for _ in range(30)), everything})
    previous: dict[str, Level] | None = None
    for budget in budgets:
        levels = fit(ladders, ranked, overhead, budget)
        assert levels == fit(ladders, ranked, overhead, budget)  # deterministic
        assert total(ladders, levels) <= budget
        upgraded = [p for p, level in levels.items()
                    if DEPTH[level] > DEPTH[ladders[p].rungs[0][0]]]
        if upgraded:  # coverage first: nobody is deepened while anybody is only listed
            assert Level.LISTED not in levels.values()
        if budget >= cheapest:
            assert Level.LISTED not in levels.values()
        if previous is not None:  # monotone: a larger budget never shows a file at less
            assert all(DEPTH[levels[p]] >= DEPTH[previous[p]] for p in levels)
        previous = levels
    assert set(previous.values()) == {Level.FULL}  # type: ignore[union-attr]


def test_data_is_deepened_only_after_everything_else_is_full() -> None:
    ladders = {"src.py": Ladder.of({Level.FULL: 100, Level.NAMES: 5}),
               "big.json": Ladder.of({Level.FULL: 100, Level.NAMES: 5}, data=True)}
    ranked = ["big.json", "src.py"]  # even when ranked first
    assert fit(ladders, ranked, overhead, 50 + 5 + 100) == {
        "src.py": Level.FULL, "big.json": Level.NAMES}
    assert fit(ladders, ranked, overhead, 50 + 100 + 100)["big.json"] is Level.FULL


def test_the_least_important_drop_to_listed_and_only_the_tree_is_a_floor() -> None:
    ladders = {f"f{i}.py": Ladder.of({Level.FULL: 100, Level.NAMES: 10}) for i in range(5)}
    ranked = sorted(ladders)
    levels = fit(ladders, ranked, overhead, 50 + 30 + 2 * 2)
    assert [levels[p] for p in ranked] == [Level.NAMES] * 3 + [Level.LISTED] * 2
    with pytest.raises(BudgetError, match="cannot hold the header and the file list") as info:
        fit(ladders, ranked, overhead, 40)
    assert info.value.hint is not None and "at least 60" in info.value.hint


BODY = "\n".join(f"    total += {i}" for i in range(40))
FILES = {
    "core.py": '"""The core."""\n\n\ndef base(x: int) -> int:\n    """Base.\n\n    More.\n    """\n'
    f"    total = x\n{BODY}\n    return total\n",
    "mid.py": "from core import base\n\n\ndef mid() -> int:\n"
    f"    total = base(1)\n{BODY}\n    return total\n",
    "leaf.py": "from mid import mid\n\n\ndef leaf() -> int:\n"
    f"    total = mid()\n{BODY}\n    return total\n",
    "notes.md": "# Notes\n" + "word " * 300 + "\n\n## Later\n",
    "tests/test_core.py": "from core import base\n\n\ndef test_base() -> None:\n"
    f"    total = base(1)\n{BODY}\n    assert total\n",
}


def test_through_the_index(tmp_path: Path) -> None:
    write_tree(tmp_path, FILES)
    full = index(tmp_path)
    assert all(f.mode is Level.FULL for f in full.files)
    assert {f.path: f.mode for f in index(tmp_path, budget=full.total_tokens).files} == {
        p: Level.FULL for p in FILES}
    small = index(tmp_path, budget=full.total_tokens // 3)
    assert small.total_tokens <= full.total_tokens // 3
    levels = {f.path: f.mode for f in small.files}
    # Most depended upon: at least as deep as any other file.
    assert all(DEPTH[levels["core.py"]] >= DEPTH[level] for level in levels.values())
    assert levels["core.py"] is not Level.NAMES
    assert levels["notes.md"] in (Level.NAMES, Level.OUTLINE)  # its headings
    assert "Notes, Later" in small.text or "Notes\n  Later" in small.text
    assert DEPTH[levels["leaf.py"]] >= DEPTH[levels["tests/test_core.py"]]  # source first
    # The file order stays the dependency order; only the levels change.
    assert [f.path for f in small.files] == [f.path for f in full.files]
    tiny = index(tmp_path, budget=150)
    assert {f.path: f.mode for f in tiny.files}["core.py"] is not Level.LISTED
    for f in tiny.files:
        if f.mode is Level.LISTED:
            assert f"{f.path.rpartition('/')[2]} (listed)" in tiny.text  # never silently


def test_skeletons_keep_signatures_and_a_docstring_s_first_line(tmp_path: Path) -> None:
    write_tree(tmp_path, FILES)
    full = index(tmp_path)
    for budget in range(full.total_tokens // 4, full.total_tokens, 20):
        text = index(tmp_path, budget=budget).text
        if 'path="core.py" language="python" mode="skeleton"' in text:
            break
    else:
        pytest.fail("core.py never appeared as a skeleton")
    assert 'def base(x: int) -> int:\n    """Base."""\n    ...' in text
    assert "More." not in text.split('<file path="core.py"')[1].split("</file>")[0]


def test_a_budget_smaller_than_the_file_tree_is_an_error(tmp_path: Path) -> None:
    write_tree(tmp_path, FILES)
    with pytest.raises(BudgetError, match="cannot hold the header and the file list") as info:
        index(tmp_path, budget=20)
    assert info.value.hint is not None and "Raise --budget to at least" in info.value.hint
