"""Haystacks of a repository of few large files: files cut on line boundaries to fill a
length shorter than any two of them, needles only in what is kept, and the real reason when
a length cannot be cut."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from codectx.cli import main
from codectx.evals.haystack import available, cut
from codectx.evals.tasks import CaseMaker
from codectx.indexer.result import IndexResult
from codectx.tokens import EstimateCounter
from tests.conftest import index, use_scripted, write_tree
from tests.evals.test_grid import Oracle

SIZES = (85, 95, 100)  # functions per file: about 2,000, 2,250 and 2,350 tokens


def module(i: int, functions: int) -> str:
    return f'"""Module {i}."""\n\n' + "".join(
        f"def f{i}_{k}(x):\n    y = x * {k + 2}\n    return y - {i}\n\n"
        for k in range(functions))


def large_repo(root: Path) -> IndexResult:
    """Three files of 2,000 to 2,500 tokens each, about 6,600 in all."""
    write_tree(root, {f"m{i}.py": module(i, n) for i, n in enumerate(SIZES)})
    result = index(root)
    files = [f.tokens for f in result.files]
    assert len(files) == 3 and all(2000 <= t <= 2500 for t in files), files
    return result


def body(block: str) -> str:
    """An xml file block's content."""
    return block[block.index("\n") + 1:block.rindex("</file>")]


@pytest.mark.parametrize("length", [1000, 2000, 3000])
def test_a_file_too_large_is_cut_on_a_line_boundary(tmp_path: Path, length: int) -> None:
    result = large_repo(tmp_path / "r")
    haystack = cut(result, length)
    assert 0.9 * length <= haystack.tokens <= length
    assert haystack.tokens == sum(s.tokens for s in haystack.segments)
    assert [s.start for s in haystack.segments] == [
        sum(s.tokens for s in haystack.segments[:i]) for i in range(len(haystack.segments))]
    files = [s for s in haystack.segments if s.kind == "file"]
    paths = [f.path for f in files]
    assert paths == [f.path for f in result.files if f.path in paths]  # the prompt's order
    excerpts = [f for f in files if 'mode="excerpt"' in f.text]
    assert len(excerpts) == 1
    excerpt = excerpts[0]
    content = body(excerpt.text)
    whole = (tmp_path / "r" / (excerpt.path or "")).read_text()
    assert content and whole.startswith(content) and content.endswith("\n")  # whole lines
    assert len(content) < len(whole)
    assert f'lines="{content.count(chr(10))}"' in excerpt.text
    assert excerpt.tokens == EstimateCounter().count(excerpt.text)
    for other in files:
        if other is not excerpt:  # the files that fit are whole
            assert body(other.text) == (tmp_path / "r" / (other.path or "")).read_text()


def test_needles_go_only_into_the_lines_kept(tmp_path: Path) -> None:
    result = large_repo(tmp_path / "r")
    maker = CaseMaker(result, seed=3, counter=EstimateCounter())
    cases = list(maker.niah([1000, 2000], [0.0, 0.5, 0.9, 1.0], samples=1))
    assert len(cases) == 8
    for case in cases:
        (placed,) = case.haystack.placed
        line = placed.needle.line("python")
        block = next(s for s in case.haystack.segments if line in s.text)
        assert block.text.index(line) < block.text.rindex("</file>")
        assert block.text[block.text.index(line) - 1] == "\n"
        # Taking the needle out gives back the cut haystack: it went into a kept part.
        without = case.haystack.text.replace(line + "\n", "", 1)
        assert without == maker.haystack(case.length).text
    deepest = [c for c in cases if c.depth == 1.0]
    for case in deepest:  # at the end of the last block, the excerpt's last kept line
        (placed,) = case.haystack.placed
        last = [s for s in case.haystack.segments if s.kind == "file"][-1]
        assert 'mode="excerpt"' in last.text
        assert last.text.endswith(f"{placed.needle.line('python')}\n</file>\n\n")


def test_eval_niah_runs_short_lengths_on_a_repository_of_large_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_scripted(monkeypatch, Oracle(1.1))  # finds every needle the prompt holds
    large_repo(tmp_path / "r")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["eval", "niah", str(tmp_path / "r"), "--lengths",
                                       "1k,2k", "--depths", "0,50,100", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "skipped" not in result.output
    data = json.loads((out / "eval-niah.json").read_text())
    assert data["lengths"] == [1000, 2000] and len(data["results"]) == 6
    for case in data["results"]:
        assert 0.9 * case["length"] <= case["haystack_tokens"] <= case["length"]
        assert case["score"] == 1.0, case  # each needle was in the prompt the model got


def test_a_length_that_cannot_be_cut_says_why(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    use_scripted(monkeypatch, Oracle(1.1))
    # Three files of one long line each: no line boundary to cut them on.
    write_tree(tmp_path / "r", {f"t{i}.py": "TABLE = [" + ", ".join(
        str(1000 + i * 7 + k) for k in range(700)) + "]\n" for i in range(3)})
    result = CliRunner().invoke(main, ["eval", "niah", str(tmp_path / "r"), "--lengths",
                                       "1k", "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    flat = " ".join(result.output.split())
    assert re.search(r"no length can be run: 1k: a haystack of it comes to only [\d,]+ "
                     r"tokens: the files that do not fit whole have lines too long to cut "
                     r"them on a line boundary to the [\d,]+ tokens left", flat), flat
    assert "the repository has only" not in flat


def test_a_repository_too_small_says_how_many_tokens_a_haystack_can_have(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_scripted(monkeypatch, Oracle(1.1))
    most = available(large_repo(tmp_path / "r"))
    result = CliRunner().invoke(main, ["eval", "niah", str(tmp_path / "r"), "--lengths",
                                       "2k,20k", "--depths", "50", "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert f"skipped 20k: the repository has only {most:,} tokens" in flat
    assert 6000 < most < 18000
