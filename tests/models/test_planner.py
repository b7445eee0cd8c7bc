"""Memory planning arithmetic, checked against hand-computed values."""

from __future__ import annotations

import pytest

from codectx.errors import ModelError
from codectx.models.gguf import Architecture
from codectx.models.runtime import planner
from codectx.models.runtime.placement import Machine

LLAMA3_8B = Architecture("llama", layers=32, kv_heads=8, head_dim=128, trained_context=1 << 20)
QWEN_05B = Architecture("qwen2", layers=24, kv_heads=2, head_dim=64, trained_context=32768)
GIB = 1 << 30


def test_kv_bytes_per_token() -> None:
    # 2 (K and V) x 32 layers x 8 heads x 128 dims x 2 bytes = 131,072 = 128 KiB
    assert planner.kv_bytes_per_token(LLAMA3_8B, "f16") == 128 * 1024
    # q8_0: 34 bytes per 32 elements; q4_0: 18 per 32
    assert planner.kv_bytes_per_token(LLAMA3_8B, "q8_0") == 65536 * 34 // 32
    assert planner.kv_bytes_per_token(LLAMA3_8B, "q4_0") == 65536 * 18 // 32
    assert planner.kv_bytes_per_token(QWEN_05B, "f16") == 12 * 1024


def test_a_million_tokens_of_llama3_8b() -> None:
    full = planner.estimate(LLAMA3_8B, 0, 1 << 20, "f16")
    assert full.kv_bytes == 128 * GIB
    assert planner.estimate(LLAMA3_8B, 0, 1 << 20, "q8_0").kv_bytes == 68 * GIB
    assert planner.estimate(LLAMA3_8B, 0, 1 << 20, "q4_0").kv_bytes == 36 * GIB


@pytest.mark.parametrize(("needed", "n_ctx"), [(1, 4096), (4096, 4096), (4097, 8192),
                                                (9000, 12288), (70000, 81920),
                                                (600_000, 655_360)])
def test_context_is_rounded_in_coarse_steps(needed: int, n_ctx: int) -> None:
    assert planner.round_context(needed) == n_ctx


def test_plan_is_what_the_prompt_needs_plus_the_answer() -> None:
    plan = planner.plan_context(QWEN_05B, 500 << 20, 7000, 1024, "f16", Machine(16 * GIB))
    assert plan.n_ctx == 8192
    assert plan.kv_bytes == 8192 * 12 * 1024
    assert plan.total_bytes == (500 << 20) + plan.kv_bytes + plan.compute_bytes


def test_a_prompt_longer_than_the_trained_context_is_refused() -> None:
    with pytest.raises(ModelError, match=r"needs 40,024 tokens .* trained for 32,768") as info:
        planner.plan_context(QWEN_05B, 0, 39000, 1024, "f16", Machine(64 * GIB))
    assert info.value.hint is not None and "`budget`" in info.value.hint


def test_a_context_that_does_not_fit_in_memory_is_refused_with_the_numbers() -> None:
    with pytest.raises(ModelError) as info:
        planner.plan_context(LLAMA3_8B, 5 * GIB, 500_000, 1024, "f16", Machine(24 * GIB))
    assert "KV cache 64.00 GiB as f16" in info.value.message
    assert info.value.hint is not None and 'set `kv_type` to "q4_0"' in info.value.hint


def test_max_context_is_capped_by_training_and_memory() -> None:
    assert planner.max_context(QWEN_05B, 500 << 20, "f16", Machine(64 * GIB)) == 32768
    small = planner.max_context(LLAMA3_8B, 5 * GIB, "q4_0", Machine(24 * GIB))
    assert 400_000 < small < 500_000


def test_a_context_too_big_for_f16_gets_a_smaller_kv_type_when_chosen_automatically() -> None:
    plan = planner.plan_context(LLAMA3_8B, 5 * GIB, 200_000, 1024, "f16", Machine(24 * GIB),
                                auto_kv=True)
    assert plan.kv_type in ("q8_0", "q4_0")
    assert any("rather than f16" in note for note in plan.notes)
    with pytest.raises(ModelError):
        planner.plan_context(LLAMA3_8B, 5 * GIB, 200_000, 1024, "f16", Machine(24 * GIB))
