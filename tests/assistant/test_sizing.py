"""Turn sizes from time targets and a speed model: pure, so a table of machines."""

from __future__ import annotations

import pytest

from codectx.models import sizing
from codectx.models.runtime.speed import CONSERVATIVE, Line, Speed, fit
from codectx.models.sizing import Targets, plan

# The embedded model on a 2-core CPU (DESIGN: prefill 110 tok/s at 2k, 80 at 8k; generation
# 30 and 17), a GPU, and a machine slower than any target allows.
CPU = Speed(fit([(2048, 1 / 110), (8192, 1 / 80)]), fit([(2048, 1 / 30), (8192, 1 / 17)]), "cpu")
GPU = Speed(Line(1 / 8000, 1e-10), Line(1 / 120, 1e-9), "gpu")
CRAWL = Speed(Line(1 / 5, 1 / 5 / 1000), Line(1 / 1, 1 / 1000), "crawl")
LIMIT = 31_000


def test_the_line_integrates() -> None:
    line = Line(0.01, 1e-6)
    assert line.span(0, 1000) == pytest.approx(0.01 * 1000 + 1e-6 * 1000 ** 2 / 2)
    assert line.span(500, 500) == 0.0
    assert line.span(1000, 2000) == pytest.approx(line.span(0, 2000) - line.span(0, 1000))
    assert Line(0.5).span(0, 20) == 10


def test_a_fit_recovers_a_line_and_treats_a_falling_one_as_flat() -> None:
    line = fit([(d, 0.008 + 5e-7 * d) for d in (256, 768, 1280, 1792)])
    assert line.base == pytest.approx(0.008) and line.slope == pytest.approx(5e-7)
    flat = fit([(0, 0.02), (1000, 0.01)])
    assert flat.slope == 0 and flat.base == pytest.approx(0.015)


def test_a_cpu_gets_a_prefix_whose_questions_meet_the_target() -> None:
    sizes = plan(CPU, LIMIT, Targets())
    assert sizes.by_time and not sizes.notes
    assert sizing.MIN_PREFIX < sizes.prefix < 16_000  # far below the context
    assert sizes.expected["question"] <= 30.0 and sizes.expected["first_answer"] <= 300.0
    assert sizes.retrieval >= sizing.MIN_RETRIEVAL
    # One more token of prefix or retrieval would miss the question's target.
    slower = CPU.turn_s(sizes.prefix, sizes.retrieval + 1 + sizing.QUESTION_TOKENS,
                        sizing.ANSWER_TOKENS)
    assert slower > 30.0
    assert sizes.expected["edit"] <= 120.0 and sizes.edit_view > sizes.retrieval
    assert sizes.prefix_alone >= sizes.prefix  # nothing retrieved: deeper


def test_a_gpu_gets_the_whole_context() -> None:
    sizes = plan(GPU, LIMIT, Targets())
    assert sizes.prefix_alone == LIMIT
    assert sizes.prefix == LIMIT - sizing.MIN_RETRIEVAL
    assert sizes.retrieval == LIMIT - sizes.prefix and sizes.edit_view == sizes.retrieval
    assert not sizes.notes


def test_a_machine_too_slow_for_any_target_gets_the_floor_and_says_so() -> None:
    sizes = plan(CRAWL, LIMIT, Targets())
    assert sizes.prefix == sizing.MIN_PREFIX and sizes.retrieval == sizing.MIN_RETRIEVAL
    assert sizes.edit_view == sizing.MIN_VIEW
    assert any("question is expected to take" in n and "over the 30 s target" in n
               for n in sizes.notes)


@pytest.mark.parametrize("speed", [None, CPU])
def test_no_speed_or_no_targets_size_by_the_context(speed: Speed | None) -> None:
    targets = Targets() if speed is None else Targets(0, 0, 0)
    sizes = plan(speed, LIMIT, targets)
    assert not sizes.by_time
    assert sizes.prefix == sizes.retrieval == sizes.edit_view == LIMIT


def test_sizes_never_pass_the_context_and_grow_with_the_targets() -> None:
    last = None
    for question in (10, 30, 60, 120, 600):
        sizes = plan(CPU, 12_000, Targets(first_answer=3600, question=question, edit=600))
        assert sizes.prefix + sizes.retrieval <= 12_000
        assert sizes.prefix + sizes.edit_view <= 12_000
        if last is not None:
            assert sizes.prefix >= last.prefix
        last = sizes


def test_the_conservative_default_is_slower_than_the_measured_cpu() -> None:
    assert plan(CONSERVATIVE, LIMIT, Targets()).prefix < plan(CPU, LIMIT, Targets()).prefix
    assert not CONSERVATIVE.measured and "not measured" in CONSERVATIVE.source
    assert Speed.from_json(CPU.to_json()) == CPU


def test_the_repository_gets_the_context_less_the_answer_the_request_and_a_retry() -> None:
    assert sizing.prompt_limit(32_768, 1_024) == 31_744
    assert sizing.repository_budget(32_768, 1_024) == (
        31_744 - sizing.PROMPT_OVERHEAD - sizing.RETRY_ROOM)
    assert sizing.prompt_limit(512, 1_024) == 1  # a context smaller than the answer
    assert sizing.repository_budget(512, 1_024) < 0  # no room: the caller says so
