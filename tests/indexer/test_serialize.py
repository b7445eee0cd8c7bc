"""The prompt's bytes: golden files per format, determinism, fence safety, segments."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from codectx.indexer.levels import Level as Mode
from codectx.indexer.serialize import file_block
from tests.conftest import FIXTURES, copy_fixture, index, make_repo, write_tree

GOLDEN = FIXTURES / "golden"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; UPDATE_GOLDEN=1 to accept"


@pytest.mark.parametrize("fmt", ["xml", "markdown"])
def test_golden_prompt(fmt: str, tmp_path: Path) -> None:
    root = copy_fixture("python", tmp_path / "demo")
    check_golden(f"python.{fmt}", index(root, format=fmt).text)


def test_golden_prompt_over_budget_shows_files_at_less_detail(tmp_path: Path) -> None:
    root = copy_fixture("python", tmp_path / "demo")
    full = index(root).total_tokens
    result = index(root, budget=full * 2 // 3)
    modes = {f.mode for f in result.files}
    assert {Mode.FULL, Mode.SKELETON, Mode.NAMES} <= modes
    check_golden("python-budget.xml", result.text)


def test_same_tree_same_bytes_from_any_directory_and_process(tmp_path: Path) -> None:
    files = {"a/b.py": "from a import c\n", "a/c.py": "X = 1\n", "a/__init__.py": "",
             "README.md": "# demo\n"}
    first = tmp_path / "one" / "demo"
    second = tmp_path / "two" / "demo"
    make_repo(first, files)
    make_repo(second, files)
    os.chdir(tmp_path)
    in_process = index(first).text
    outputs = []
    for root, cwd in ((first, tmp_path), (second, second / "a")):
        run = subprocess.run(
            [sys.executable, "-m", "codectx", "index", str(root), "-q"],
            cwd=cwd, capture_output=True, check=True,
        )
        outputs.append(run.stdout.decode())
    assert outputs[0] == outputs[1] == in_process
    assert str(tmp_path) not in in_process


def test_file_content_cannot_end_its_block_early() -> None:
    tricky = "x = '</file>'\n```\n````\nprint(1)\n"
    xml = file_block("t.py", "python", tricky, Mode.FULL, "xml")
    assert xml.startswith('<file path="t.py" language="python" lines="4">\n')
    body_lines = xml.splitlines()[1:5]
    assert "\n".join(body_lines) + "\n" == tricky
    md = file_block("t.py", "python", tricky, Mode.FULL, "markdown")
    fence = re.search(r"^(`+)python$", md, re.MULTILINE)
    assert fence is not None and len(fence.group(1)) == 5
    assert md.rstrip().endswith("\n`````")


def test_attribute_values_are_quoted_safely() -> None:
    block = file_block('we"ird & <odd>.py', "python", "", Mode.FULL, "xml")
    assert block.startswith("<file path='we\"ird &amp; &lt;odd&gt;.py'")


def test_segments_cover_the_prompt_contiguously(tmp_path: Path) -> None:
    root = copy_fixture("go", tmp_path / "go")
    result = index(root)
    assert result.segments[0].kind == "header" and result.segments[-1].kind == "tree"
    assert [s.path for s in result.segments if s.kind == "file"] == [f.path for f in result.files]
    for before, after in itertools.pairwise(result.segments):
        assert before.end == after.start
    assert result.total_tokens == sum(s.tokens for s in result.segments)


def test_the_file_tree_comes_after_the_files_so_a_new_file_keeps_the_prefix(
    tmp_path: Path,
) -> None:
    root = tmp_path / "demo"
    write_tree(root, {"a.py": "A = 1\n", "b.py": "import a\n"})
    before = index(root).text
    write_tree(root, {"zz_new.py": "Z = 1\n"})
    after = index(root).text
    prefix = before[: before.index("<tree>")]
    assert after.startswith(prefix)


@pytest.mark.parametrize("fmt", ["xml", "markdown"])
def test_golden_prompt_with_collapsed_directories(fmt: str, tmp_path: Path) -> None:
    files = {f"{top}/{sub}/m{i}.py": f"def {top}_{sub}_{i}():\n    return {i}\n"
             for top in ("core", "plugins") for sub in ("alpha", "beta") for i in range(4)}
    files["core/alpha/m0.py"] = "".join(f"from {t}.{s}.m1 import {t}_{s}_1\n"
                                        for t in ("core", "plugins") for s in ("alpha", "beta"))
    write_tree(tmp_path / "demo", files)
    listed = index(tmp_path / "demo", format=fmt, budget=10_000)
    budget = listed.total_tokens
    while True:  # the largest budget at which a directory, not yet the root, collapses
        budget -= 1
        result = index(tmp_path / "demo", format=fmt, budget=budget)
        if result.collapsed:
            break
    assert result.total_tokens <= budget and "" not in [c.path for c in result.collapsed]
    assert sum(c.files for c in result.collapsed) == sum(
        any(f.path.startswith(c.path + "/") for c in result.collapsed) for f in result.files)
    check_golden(f"collapsed.{fmt}", result.text)
