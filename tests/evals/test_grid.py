"""Grids, reports and heatmaps, with a fake model that finds needles only above a depth."""

from __future__ import annotations

import io
import json
import random
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from codectx.assistant.prompts import build_prompt
from codectx.cli import main
from codectx.evals.heatmap import heatmap_png
from codectx.evals.runner import Run, ordered, run_cases
from codectx.evals.tasks import CaseMaker
from codectx.models.backend import Completion, GenerationParams, PrefillProgress, Prompt
from tests.conftest import use_scripted
from tests.evals.test_needles_haystack import make_repo
from tests.support.fake import FakeBackend

DEPTHS = [0.0, 0.25, 0.5, 0.75, 1.0]


class Oracle(FakeBackend):
    """Answers a value question right when the needle sits above `threshold` of the prompt."""

    def __init__(self, threshold: float, context_window: int = 1 << 20) -> None:
        super().__init__(context_window=context_window)
        self.threshold = threshold

    def stream(self, prompt: Prompt, params: GenerationParams,
               cancel: threading.Event | None = None,
               progress: PrefillProgress | None = None) -> Iterator[str | Completion]:
        prefix = bytes(prompt.prefix).decode()
        start = prefix.index("<repository")  # depth is measured in the haystack
        asked = re.search(r"constant (\w+) in", bytes(prompt.suffix).decode())
        found = re.search(rf"^{asked.group(1)} = (\d+)$", prefix, re.M) if asked else None
        right = (found is not None
                 and (found.start() - start) / (len(prefix) - start) < self.threshold)
        self.replies.append(f"It is {found.group(1)}." if right and found else "Not found.")
        return super().stream(prompt, params, cancel, progress)


def grid(root: Path, threshold: float) -> tuple[Run, Oracle]:
    result = make_repo(root)
    cases = list(CaseMaker(result, seed=5).niah([800, 1600], DEPTHS, samples=1))
    backend = Oracle(threshold)
    run = Run("niah", "oracle", "r", 5, [800, 1600], DEPTHS, 1)
    run.results = list(run_cases(cases, backend, threading.Event(), lambda *a: None))
    return run, backend


def colour_share(png: bytes, rgb: tuple[int, int, int]) -> int:
    import matplotlib.image

    pixels = (matplotlib.image.imread(io.BytesIO(png))[:, :, :3] * 255).astype(int)
    pixels = pixels[:, : pixels.shape[1] * 7 // 10]  # the cells, not the colour bar
    return int((np.abs(pixels - np.array(rgb)).sum(axis=2) < 30).sum())


def test_the_heatmap_shows_where_the_model_finds_the_needle(tmp_path: Path) -> None:
    run, _ = grid(tmp_path / "r", threshold=0.6)
    cells = run.cells()
    assert {row: cells[(row, 800)][0] for row in run.rows()} == {
        "0%": 1.0, "25%": 1.0, "50%": 1.0, "75%": 0.0, "100%": 0.0}
    assert all(cells[(row, 800)] == cells[(row, 1600)] for row in run.rows())
    png = heatmap_png(run)
    assert png.startswith(b"\x89PNG")
    green, red = colour_share(png, (0, 104, 55)), colour_share(png, (165, 0, 38))
    assert 1.2 < green / red < 1.8  # six right cells against four wrong ones
    perfect, _ = grid(tmp_path / "s", threshold=1.1)
    assert colour_share(heatmap_png(perfect), (165, 0, 38)) == 0


def test_the_grid_reuses_prefill_across_depths(tmp_path: Path) -> None:
    run, _ = grid(tmp_path / "r", threshold=1.1)
    assert run.saved > 0.4
    # In a shuffled order, a case shares with the one before it only up to the
    # shallower of their needles.
    cases = list(CaseMaker(make_repo(tmp_path / "n"), seed=5).niah([800, 1600], DEPTHS, 1))
    plan = ordered(cases)
    assert [c.first_position for c in plan] == sorted((c.first_position for c in plan),
                                                      reverse=True)
    random.Random(1).shuffle(plan)
    shuffled = FakeBackend()
    for case in plan:
        shuffled.replies.append("x")
        list(shuffled.stream(build_prompt(shuffled.chat, shuffled.tokenize,
                                          case.haystack.segments, case.question),
                             GenerationParams(max_tokens=4)))
    assert run.evaluated_tokens < sum(len(t) for t in shuffled.evaluated)


def test_a_cancel_keeps_the_results_so_far(tmp_path: Path) -> None:
    result = make_repo(tmp_path / "r")
    cases = list(CaseMaker(result, seed=5).niah([800], DEPTHS, samples=1))
    cancel = threading.Event()
    seen: list[Any] = []
    for item in run_cases(cases, Oracle(1.1), cancel, lambda *a: None):
        seen.append(item)
        if len(seen) == 2:
            cancel.set()
    assert len(seen) == 2 and all(r.score == 1.0 for r in seen)


@pytest.fixture
def oracle(monkeypatch: pytest.MonkeyPatch) -> None:
    use_scripted(monkeypatch, Oracle(0.6, context_window=3000))


def test_eval_niah_writes_the_table_json_and_heatmap(tmp_path: Path, oracle: None) -> None:
    make_repo(tmp_path / "r")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["eval", "niah", str(tmp_path / "r"), "--lengths",
                                       "800,1600,4k", "--depths", "0,50,100", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "skipped 4k: beyond the 2,872 tokens the model takes here" in result.output
    data = json.loads((out / "eval-niah.json").read_text())
    assert data["lengths"] == [800, 1600] and data["depths"] == [0.0, 0.5, 1.0]
    scores = {(c["row"], c["length"]): c["score"] for c in data["cells"]}
    assert scores[("0%", 800)] == 1.0 and scores[("100%", 1600)] == 0.0
    assert len(data["results"]) == 6 and not data["interrupted"]
    assert data["command"] == (f"codectx eval niah {tmp_path / 'r'} --lengths 800,1600,4k "
                               "--depths 0,50,100 --samples 1 --seed 0")
    assert data["prefill"]["saved"] > 0
    assert (out / "eval-niah.png").read_bytes().startswith(b"\x89PNG")
    assert "1600" in result.output or "1,600" in result.output


def test_eval_ruler_runs_each_task(tmp_path: Path, oracle: None) -> None:
    make_repo(tmp_path / "r")
    result = CliRunner().invoke(main, ["eval", "ruler", str(tmp_path / "r"), "--lengths",
                                       "1600", "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "out" / "eval-ruler.json").read_text())
    assert sorted(r["task"] for r in data["results"]) == ["multikey", "multivalue",
                                                          "vartrack"]


@pytest.mark.parametrize("args,message", [
    (["--depths", "0,150"], "150 is not between 0 and 100"),
    (["--lengths", "2k,lots"], "'lots' is not a length"),
    (["--lengths", "50k"], "no length can be run: 50k: beyond"),
])
def test_eval_refuses_bad_input_clearly(tmp_path: Path, oracle: None, args: list[str],
                                        message: str) -> None:
    make_repo(tmp_path / "r")
    result = CliRunner().invoke(main, ["eval", "niah", str(tmp_path / "r"), *args,
                                       "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "out" / "eval-niah.json").exists()


def test_a_repository_smaller_than_a_length_is_skipped(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    use_scripted(monkeypatch, Oracle(1.1))
    make_repo(tmp_path / "r")
    result = CliRunner().invoke(main, ["eval", "niah", str(tmp_path / "r"), "--lengths",
                                       "800,20k", "--depths", "50", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert re.search(r"skipped 20k: the repository has only [\d,]+ tokens", result.output)


def test_eval_without_matplotlib_names_the_extra_and_runs_nothing(
        tmp_path: Path, oracle: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    found = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else found(name, *a))
    make_repo(tmp_path / "r")
    result = CliRunner().invoke(main, ["eval", "niah", str(tmp_path / "r"), "--lengths",
                                       "800", "-o", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert "pip install 'codectx[plot]'" in result.output
    assert not (tmp_path / "out" / "eval-niah.json").exists()
