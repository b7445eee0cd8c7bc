"""The budget ladder: full, then skeletons of the lowest-ranked, then omitted, then an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from codectx.errors import BudgetError
from codectx.indexer.serialize import Mode
from tests.conftest import index, write_tree

BODY = "\n".join(f"    total += {i}" for i in range(40))
FILES = {
    "core.py": '"""The core."""\n\n\ndef base(x: int) -> int:\n    """Base."""\n'
    f"    total = x\n{BODY}\n    return total\n",
    "mid.py": "from core import base\n\n\ndef mid() -> int:\n"
    f"    total = base(1)\n{BODY}\n    return total\n",
    "leaf.py": "from mid import mid\n\n\ndef leaf() -> int:\n"
    f"    total = mid()\n{BODY}\n    return total\n",
    "notes.md": "# Notes\n" + "word " * 300 + "\n",
}


def modes(root: Path, budget: int) -> dict[str, Mode]:
    result = index(root, budget=budget)
    assert result.total_tokens <= budget
    return {f.path: f.mode for f in result.files}


def test_the_ladder(tmp_path: Path) -> None:
    write_tree(tmp_path, FILES)
    full = index(tmp_path)
    assert all(f.mode is Mode.FULL for f in full.files)
    assert modes(tmp_path, full.total_tokens) == {p: Mode.FULL for p in FILES}

    tight = modes(tmp_path, full.total_tokens - 50)
    # leaf.py ranks lowest (nothing depends on it): it goes first.
    assert tight["leaf.py"] is Mode.SKELETON and tight["core.py"] is Mode.FULL

    tighter = index(tmp_path, budget=full.total_tokens // 3)
    assert tighter.total_tokens <= full.total_tokens // 3
    by_mode = {f.path: f.mode for f in tighter.files}
    assert by_mode["notes.md"] is Mode.OMITTED  # no skeleton for prose: omitted
    assert by_mode["core.py"] is not Mode.OMITTED
    for path, mode in by_mode.items():
        if mode is not Mode.FULL:
            assert f"{path} ({mode.value})" in tighter.text  # never dropped silently
        if mode is Mode.SKELETON:
            assert 'mode="skeleton"' in tighter.text


def test_skeleton_keeps_signatures_and_docstrings(tmp_path: Path) -> None:
    write_tree(tmp_path, FILES)
    result = index(tmp_path, budget=index(tmp_path).total_tokens // 3)
    assert 'def base(x: int) -> int:\n    """Base."""\n    ...' in result.text
    assert "total += 39" not in result.text.split('<file path="core.py"')[1].split("</file>")[0]


def test_a_budget_too_small_for_even_the_skeletons_is_an_error(tmp_path: Path) -> None:
    write_tree(tmp_path, FILES)
    with pytest.raises(BudgetError, match="cannot hold even the skeletons") as info:
        index(tmp_path, budget=20)
    assert info.value.hint is not None and "Raise --budget to at least" in info.value.hint
