"""Where layers, KV cache and scratch buffers go, on made-up machines with GPUs."""

from __future__ import annotations

import pytest

from codectx.errors import ModelError
from codectx.models.gguf import Architecture
from codectx.models.runtime import planner
from codectx.models.runtime.devices import Device
from codectx.models.runtime.placement import HEADROOM, GpuSettings, Machine

LLAMA3_8B = Architecture("llama", layers=32, kv_heads=8, head_dim=128, trained_context=1 << 20)
GIB = 1 << 30
WEIGHTS = 5 * GIB


def gpu(index: int, gib: int, *, unified: bool = False) -> Device:
    return Device(index, f"CUDA{index}", f"Test GPU {index}", gib * GIB, gib * GIB, unified)


def test_everything_goes_to_a_gpu_that_holds_it() -> None:
    machine = Machine(16 * GIB, (gpu(0, 80),), offload=True)
    plan = planner.plan_context(LLAMA3_8B, WEIGHTS, 120_000, 1024, "q4_0", machine)
    assert plan.placement is not None
    assert plan.gpu_layers == 33  # 32 layers and the output layer
    (share,) = plan.placement.gpus
    assert share.kv_bytes == plan.kv_bytes and plan.placement.ram.kv_bytes == 0
    assert share.compute_bytes == plan.compute_bytes
    assert plan.placement.ram.weights_bytes < WEIGHTS / 20  # the token embeddings only
    assert plan.notes == ()


def test_auto_puts_as_many_layers_on_a_small_gpu_as_fit_and_says_so() -> None:
    machine = Machine(64 * GIB, (gpu(0, 8),), offload=True)
    plan = planner.plan_context(LLAMA3_8B, WEIGHTS, 120_000, 1024, "f16", machine)
    assert plan.placement is not None
    assert 0 < plan.gpu_layers < 33
    (share,) = plan.placement.gpus
    assert share.total_bytes <= 8 * GIB * HEADROOM
    assert any(f"{plan.gpu_layers} of 33 layers fit on the GPU" in n for n in plan.notes)


def test_a_layer_count_that_does_not_fit_is_refused_with_each_devices_numbers() -> None:
    machine = Machine(64 * GIB, (gpu(0, 8), gpu(1, 8)), offload=True)
    with pytest.raises(ModelError) as info:
        planner.plan_context(LLAMA3_8B, WEIGHTS, 500_000, 1024, "f16", machine,
                             GpuSettings(layers=33))
    assert "GPU 0 (Test GPU 0) needs" in info.value.message
    assert "GPU 1 (Test GPU 1) needs" in info.value.message
    assert info.value.hint is not None and "gpu_layers" in info.value.hint


def test_more_layers_than_the_model_has_is_an_error() -> None:
    machine = Machine(64 * GIB, (gpu(0, 80),), offload=True)
    with pytest.raises(ModelError, match="gpu_layers = 40, but the model has 32 layers"):
        planner.plan_context(LLAMA3_8B, WEIGHTS, 8000, 1024, "f16", machine,
                             GpuSettings(layers=40))


def test_a_tensor_split_naming_more_gpus_than_exist_is_an_error() -> None:
    machine = Machine(64 * GIB, (gpu(0, 80),), offload=True)
    with pytest.raises(ModelError, match="tensor_split names 2 devices, but 1 GPU"):
        planner.plan_context(LLAMA3_8B, WEIGHTS, 8000, 1024, "f16", machine,
                             GpuSettings(tensor_split=(1.0, 1.0)))
    with pytest.raises(ModelError, match="main_gpu = 1"):
        planner.plan_context(LLAMA3_8B, WEIGHTS, 8000, 1024, "f16", machine,
                             GpuSettings(main_gpu=1))
    with pytest.raises(ModelError, match="tensor_split names 2 devices, but 0 GPU"):
        planner.plan_context(LLAMA3_8B, WEIGHTS, 8000, 1024, "f16", Machine(64 * GIB),
                             GpuSettings(tensor_split=(1.0, 1.0)))


def test_gpu_layers_on_a_build_without_a_gpu_backend_is_an_error() -> None:
    with pytest.raises(ModelError, match="has no GPU backend") as info:
        planner.plan_context(LLAMA3_8B, WEIGHTS, 8000, 1024, "f16", Machine(64 * GIB),
                             GpuSettings(layers=10))
    assert info.value.hint is not None and "Install llama-cpp-python built" in info.value.hint
    auto = planner.plan_context(LLAMA3_8B, WEIGHTS, 8000, 1024, "f16", Machine(64 * GIB))
    assert auto.gpu_layers == 0 and auto.notes == ()


def test_a_gpu_build_without_a_visible_gpu_falls_back_to_the_cpu_in_one_line() -> None:
    plan = planner.plan_context(LLAMA3_8B, WEIGHTS, 8000, 1024, "f16",
                                Machine(64 * GIB, (), offload=True), GpuSettings(layers=33))
    assert plan.gpu_layers == 0
    assert plan.notes == ("this llama-cpp-python build can offload to a GPU but sees none: "
                          "running on the CPU",)


def test_tensor_split_spreads_layers_and_the_main_gpu_takes_the_scratch_buffers() -> None:
    machine = Machine(64 * GIB, (gpu(0, 80), gpu(1, 80)), offload=True)
    plan = planner.plan_context(LLAMA3_8B, WEIGHTS, 8000, 1024, "f16", machine,
                                GpuSettings(main_gpu=1, tensor_split=(3.0, 1.0)))
    assert plan.placement is not None
    first, second = plan.placement.gpus
    assert first.layers + second.layers == 33
    assert 2.5 < first.layers / second.layers < 3.5
    assert first.compute_bytes == 0 and second.compute_bytes == plan.compute_bytes


def test_without_offload_kqv_the_kv_cache_stays_in_system_memory() -> None:
    machine = Machine(64 * GIB, (gpu(0, 80),), offload=True)
    plan = planner.plan_context(LLAMA3_8B, WEIGHTS, 8000, 1024, "f16", machine,
                                GpuSettings(offload_kqv=False))
    assert plan.placement is not None
    assert plan.placement.gpus[0].kv_bytes == 0
    assert plan.placement.ram.kv_bytes == plan.kv_bytes


def test_unified_memory_counts_against_system_memory_too() -> None:
    # Apple silicon: the GPU's 12 GiB are the system's 16.
    machine = Machine(16 * GIB, (gpu(0, 12, unified=True),), offload=True)
    ok = planner.plan_context(LLAMA3_8B, WEIGHTS, 8000, 1024, "f16", machine)
    assert ok.gpu_layers == 33
    with pytest.raises(ModelError, match="RAM needs"):
        planner.plan_context(LLAMA3_8B, WEIGHTS, 8000, 1024, "f16",
                             Machine(4 * GIB, (gpu(0, 12, unified=True),), offload=True),
                             GpuSettings(layers=33))


def test_a_gpu_raises_the_longest_context_that_fits() -> None:
    cpu_only = planner.max_context(LLAMA3_8B, WEIGHTS, "q4_0", Machine(16 * GIB))
    with_gpu = planner.max_context(LLAMA3_8B, WEIGHTS, "q4_0",
                                   Machine(16 * GIB, (gpu(0, 80),), offload=True))
    assert cpu_only < 300_000 < with_gpu
