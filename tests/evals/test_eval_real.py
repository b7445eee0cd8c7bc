"""One small real run of `codectx eval niah` with the embedded model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from codectx.cli import main
from tests.evals.test_needles_haystack import make_repo

pytestmark = pytest.mark.model


def test_a_small_grid_with_the_embedded_model(tmp_path: Path) -> None:
    make_repo(tmp_path / "r")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["eval", "niah", str(tmp_path / "r"), "--lengths",
                                       "400,700", "--depths", "0,50,100", "--seed", "3",
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "eval-niah.json").read_text())
    assert data["model"] == "qwen2.5-coder-0.5b-instruct" and data["lengths"] == [400, 700]
    assert len(data["results"]) == 6 and len(data["cells"]) == 6
    for case in data["results"]:
        assert 0.0 <= case["score"] <= 1.0 and case["answer"].strip()
        assert 0.85 * case["length"] <= case["haystack_tokens"] <= case["length"]
    # At the shortest length the embedded model finds every needle, wherever it is: each
    # answer holds the number that was planted.
    shortest = [case for case in data["results"] if case["length"] == 400]
    assert sorted(case["depth"] for case in shortest) == [0.0, 0.5, 1.0]
    for case in shortest:
        assert case["score"] == 1.0, case
        assert case["expected"] and all(value in case["answer"] for value in case["expected"])
    # After the first, each case reuses the prefill before its needle (the instructions at
    # least), and the grid as a whole evaluates a good deal less than it holds.
    assert all(case["reused_tokens"] > 0 for case in data["results"][1:])
    assert 0.3 < data["prefill"]["saved"] < 1.0
    assert (out / "eval-niah.png").read_bytes().startswith(b"\x89PNG")


def test_eval_reuse_answers_from_shifted_cells_and_exactly(tmp_path: Path) -> None:
    make_repo(tmp_path / "r")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["eval", "reuse", str(tmp_path / "r"), "--lengths",
                                       "700", "--depths", "0,50", "--tasks", "niah",
                                       "--seed", "3", "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "eval-reuse.json").read_text())
    assert data["kind"] == "reuse" and data["depths"] == [0.0, 0.5]
    # two edits, each answered twice: the task's question and one about the edit
    assert len(data["results"]) == 4
    assert {r["question"] for r in data["results"]} == {"task", "edited"}
    for r in data["results"]:
        assert r["shifted_answer"].strip() and r["exact_answer"].strip()
        assert r["agree"] == (r["shifted_answer"].strip() == r["exact_answer"].strip())
    for r in data["results"]:
        if r["question"] == "task" and r["edit_depth"] == 0.0:
            # the shifted run evaluates the edited file and the question, the exact one
            # everything after the edit
            assert r["shifted_evaluated"] < r["exact_evaluated"]
    first = [r for r in data["results"] if r["edit_depth"] == 0.0]
    assert all(r["stale_tokens"] > 0 for r in first if r["question"] == "task")
    summary = data["summary"]
    assert summary["answers"] == 4 and 0.0 <= summary["agreement"] <= 1.0
    assert "agreement" in result.output
