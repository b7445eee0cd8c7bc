"""The allocator: every file covered at its cheapest level first, then deepened in order
of importance; monotone in the budget, deterministic; and through the real index."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from codectx.errors import BudgetError
from codectx.indexer.budget import Allocation, Ladder, TreeCosts, directories, fit, outermost
from codectx.indexer.levels import DEEPEST_LAST, Level
from tests.conftest import index, write_tree

DEPTH = {level: i for i, level in enumerate((Level.COLLAPSED, *DEEPEST_LAST))}


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


def flat(paths: list[str] | dict[str, Ladder]) -> TreeCosts:
    """Tree costs as the old tests had them: a header of 50, nothing for a file's line,
    2 for a listed mark, and a one-line root of 5."""
    return tree_costs(list(paths), line=0, mark=2, folder=0, summary=5)


def tree_costs(paths: list[str], line: int = 3, mark: int = 2, folder: int = 2,
               summary: int = 12) -> TreeCosts:
    return TreeCosts(50, dict.fromkeys(paths, line), dict.fromkeys(paths, line + mark),
                     {d: folder if d else 0 for d in directories(paths)},
                     dict.fromkeys(directories(paths), summary))


def total(ladders: dict[str, Ladder], got: Allocation, costs: TreeCosts) -> int:
    """The prompt's tokens under an allocation, summed as the renderer lays it out."""
    cost = {p: dict(ladder.rungs) for p, ladder in ladders.items()}
    outer = set(got.collapsed)
    blocks = sum(cost[p].get(level, 0) for p, level in got.levels.items())
    if "" in outer:
        return costs.fixed + blocks + costs.summary[""]
    lines = sum(costs.listed[p] if level is Level.LISTED else costs.line[p]
                for p, level in got.levels.items() if outermost(p, outer) is None)
    folders = [d for d in directories(got.levels) if d and outermost(d + "/x", outer) is None]
    return (costs.fixed + blocks + lines + sum(costs.directory[d] for d in folders)
            + sum(costs.summary[d] for d in outer))


def test_a_ladder_keeps_only_levels_cheaper_than_every_deeper_one() -> None:
    ladder = Ladder.of({Level.FULL: 10, Level.SKELETON: 12, Level.OUTLINE: 4, Level.NAMES: 4})
    assert ladder.rungs == ((Level.OUTLINE, 4), (Level.FULL, 10))


@pytest.mark.parametrize("seed", range(5))
def test_coverage_first_then_monotone_and_deterministic(seed: int) -> None:
    rng = random.Random(seed)
    ladders = random_ladders(rng, 60)
    ranked = sorted(ladders, key=lambda p: rng.random())
    costs = flat(ladders)
    cheapest = sum(ladder.rungs[0][1] for ladder in ladders.values()) + 50
    everything = sum(ladder.rungs[-1][1] for ladder in ladders.values()) + 50
    budgets = sorted({cheapest // 2, cheapest, *(rng.randint(cheapest, everything)
                                                  for _ in range(30)), everything})
    previous: dict[str, Level] | None = None
    for budget in budgets:
        got = fit(ladders, ranked, costs, budget)
        levels = got.levels
        assert got == fit(ladders, ranked, costs, budget)  # deterministic
        assert total(ladders, got, costs) <= budget
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
    assert fit(ladders, ranked, flat(ladders), 50 + 5 + 100).levels == {
        "src.py": Level.FULL, "big.json": Level.NAMES}
    assert fit(ladders, ranked, flat(ladders), 50 + 100 + 100).levels["big.json"] is Level.FULL


def test_the_least_important_drop_to_listed_then_the_root_collapses_to_the_floor() -> None:
    ladders = {f"f{i}.py": Ladder.of({Level.FULL: 100, Level.NAMES: 10}) for i in range(5)}
    ranked = sorted(ladders)
    levels = fit(ladders, ranked, flat(ladders), 50 + 30 + 2 * 2).levels
    assert [levels[p] for p in ranked] == [Level.NAMES] * 3 + [Level.LISTED] * 2
    listed = fit(ladders, ranked, flat(ladders), 60)  # every file listed: 50 + 5 * 2
    assert set(listed.levels.values()) == {Level.LISTED} and listed.collapsed == ()
    floor = fit(ladders, ranked, flat(ladders), 59)  # the header and the root's one line
    assert floor.collapsed == ("",) and set(floor.levels.values()) == {Level.COLLAPSED}
    with pytest.raises(BudgetError, match="one-line summary") as info:
        fit(ladders, ranked, flat(ladders), 54)
    assert info.value.hint is not None and "at least 55" in info.value.hint


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


def test_a_budget_below_the_floor_is_an_error(tmp_path: Path) -> None:
    write_tree(tmp_path, FILES)
    with pytest.raises(BudgetError, match="one-line summary") as info:
        index(tmp_path, budget=20)
    assert info.value.hint is not None
    assert "Raise the `budget` setting to at least" in info.value.hint


def generated(n: int, seed: int) -> list[str]:
    """`n` file paths in a random tree of directories up to four deep."""
    rng = random.Random(seed)
    folders = [""]
    while len(folders) < max(2, n // 12):
        base = rng.choice(folders)
        if base.count("/") < 3:
            folders.append(f"{base}/d{len(folders)}" if base else f"d{len(folders)}")
    paths: set[str] = set()
    while len(paths) < n:
        folder = rng.choice(folders)
        paths.add(f"{folder}/f{len(paths)}.py" if folder else f"f{len(paths)}.py")
    return sorted(paths)


@pytest.mark.parametrize("n", [10, 1000, 20000])
def test_the_tree_collapses_within_every_budget_monotone_and_nothing_is_lost(n: int) -> None:
    rng = random.Random(n)
    paths = generated(n, n)
    ladders = {p: ladder for p, ladder in zip(paths, random_ladders(rng, n).values(),
                                             strict=True)}
    ranked = sorted(paths, key=lambda p: rng.random())
    costs = tree_costs(paths)
    floor = costs.fixed + costs.summary[""]
    everything = total(ladders, Allocation(dict.fromkeys(paths, Level.FULL)), costs)
    samples = 12 if n > 1000 else 40
    budgets = sorted({floor, floor + 1, everything, *(
        int(floor * (everything / floor) ** rng.random()) for _ in range(samples))})
    with pytest.raises(BudgetError):
        fit(ladders, ranked, costs, floor - 1)
    previous: Allocation | None = None
    for budget in budgets:
        got = fit(ladders, ranked, costs, budget)
        assert total(ladders, got, costs) <= budget
        for path, level in got.levels.items():  # shown, listed, or in a collapsed directory
            hidden = outermost(path, set(got.collapsed)) is not None
            assert level is not Level.COLLAPSED or hidden
            assert level is not Level.LISTED or not hidden
        if previous is not None:  # a larger budget never shows less
            assert all(DEPTH[got.levels[p]] >= DEPTH[previous.levels[p]] for p in paths)
            assert all(outermost(d + "/x", set(previous.collapsed)) is not None
                       or d in previous.collapsed for d in got.collapsed)
        previous = got
    assert fit(ladders, ranked, costs, budgets[1]) == fit(ladders, ranked, costs, budgets[1])


def test_through_the_index_every_budget_from_the_floor_fits_and_is_monotone(
        tmp_path: Path) -> None:
    paths = generated(300, 7)
    write_tree(tmp_path, {p: f"def {p.replace('/', '_')[:-3]}(x):\n    return x\n"
                          for p in paths})
    with pytest.raises(BudgetError) as info:
        index(tmp_path, budget=10)
    floor = info.value.needed
    assert floor is not None and floor < 300  # the header and one line
    full = index(tmp_path).total_tokens
    previous = None
    for budget in sorted({floor, floor + 1, *range(floor, full, max(1, (full - floor) // 25)),
                          full}):
        result = index(tmp_path, budget=budget)
        assert result.total_tokens <= budget
        levels = {f.path: f.mode for f in result.files}
        inside = sum(outermost(p, {c.path for c in result.collapsed}) is not None
                     for p in levels)
        assert sum(c.files for c in result.collapsed) == inside  # every file accounted for
        assert all(levels[p] is not Level.LISTED or f"{p.rpartition('/')[2]} (listed)"
                   in result.text for p in levels if levels[p] is Level.LISTED)
        if previous is not None:
            assert all(DEPTH[levels[p]] >= DEPTH[previous[p]] for p in levels), budget
        previous = levels
    assert set(previous.values()) == {Level.FULL}  # type: ignore[union-attr]


def test_a_large_flat_directory_collapses_and_keeps_its_best_files_blocks() -> None:
    paths = [f"big/f{i:04}.py" for i in range(2000)] + ["main.py"]
    ladders = {p: Ladder.of({Level.FULL: 200, Level.NAMES: 6}) for p in paths}
    ranked = ["main.py", *paths[:-1]]
    costs = tree_costs(paths, line=6)
    got = fit(ladders, ranked, costs, 4000)
    assert got.collapsed == ("big",)  # 2,000 lines of it would not fit
    shown = [p for p in paths if got.levels[p] is Level.NAMES]
    assert "big/f0000.py" in shown and len(shown) > 100  # its best files keep their names
    assert total(ladders, got, costs) <= 4000
