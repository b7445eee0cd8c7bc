"""Prefill settings measured on this machine with the embedded model, and cancelling a
prefill inside one evaluation call."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from codectx import config
from codectx.models.backend import Completion, GenerationParams, Prompt
from codectx.models.gguf import read_info
from codectx.models.identity import RepoId
from codectx.models.runtime import devices, kv_cells, tuning
from codectx.models.runtime.llama_cpp import LlamaCppBackend, LlamaOptions
from codectx.models.runtime.local import LocalProvider


def setup_for(model: Path) -> tuning.Setup:
    return tuning.Setup(model, devices.default_threads(), 0, 0, (), True, "f16")


def test_a_measurement_tries_both_attention_kinds_then_the_batch_sizes(
        embedded_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tuning, "PROBE_FULL", 256)
    steps: list[tuple[int, int]] = []
    result = tuning.measure(setup_for(embedded_gguf), (True, False), (128, 256),
                            lambda done, total: steps.append((done, total)), full=True)
    tried = [(t.flash_attn, t.n_batch) for t in result.trials]
    assert tried[:2] == [(True, 128), (False, 128)]  # the first size given (512 is not)
    faster = min(result.trials[:2], key=lambda t: t.seconds).flash_attn
    assert tried[2] == (faster, 256)
    assert all(t.prefill_per_s > 0 and t.generation_per_s > 0 for t in result.trials)
    (chosen,) = [t for t in result.trials
                 if (t.flash_attn, t.n_batch) == (result.flash_attn, result.n_batch)]
    assert all(chosen.seconds <= t.seconds for t in result.trials)  # none was quicker
    assert result.complete and steps[-1] == (3, 3)


def test_a_first_load_measures_within_its_time_limit(
        embedded_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tuning, "PROBE", 128)
    monkeypatch.setattr(tuning, "FIRST_BATCH", 128)
    monkeypatch.setattr(tuning, "BUDGET_S", 0.0)  # no trial after the first
    result = tuning.measure(setup_for(embedded_gguf), (True, False), (128, 256))
    assert [(t.flash_attn, t.n_batch) for t in result.trials] == [(True, 128)]
    assert not result.complete and (result.flash_attn, result.n_batch) == (True, 128)
    # Calls longer than the probe are tried only where prefill is fast.
    monkeypatch.setattr(tuning, "BUDGET_S", 600.0)
    monkeypatch.setattr(tuning, "FAST", 1e9)
    slow = tuning.measure(setup_for(embedded_gguf), (True, False), (64, 128, 256))
    assert {t.n_batch for t in slow.trials} == {64, 128} and not slow.complete


def test_the_choice_is_kept_and_measured_again_only_when_asked(
        embedded_gguf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[tuple[bool, ...], tuple[int, ...]]] = []

    def measured(setup: tuning.Setup, fas: tuple[bool, ...], batches: tuple[int, ...],
                 step: tuning.Step | None = None, *, full: bool = False) -> tuning.Tuning:
        calls.append((tuple(fas), tuple(batches)))
        trial = tuning.Trial(fas[-1], batches[0], 100.0 + len(calls), 20.0)
        return tuning.Tuning(trial.flash_attn, trial.n_batch, (trial,), float(len(calls)))

    monkeypatch.setattr(tuning, "measure", measured)
    setup = setup_for(embedded_gguf)
    first = tuning.tune(setup, tmp_path)
    assert calls == [((True, False), tuning.BATCHES)]
    assert tuning.tune(setup, tmp_path) == first and len(calls) == 1  # from the cache
    assert (tmp_path / "tuning.json").is_file()
    assert tuning.tune(setup, tmp_path, again=True).measured_at == 2.0
    assert tuning.tune(setup, tmp_path).measured_at == 2.0 and len(calls) == 2
    # A setting that is given is not measured; the other one is, and kept apart.
    given = tuning.tune(setup, tmp_path, flash_attn=False)
    assert calls[-1] == ((False,), tuning.BATCHES) and given.flash_attn is False
    tuning.tune(setup, tmp_path, flash_attn=False)
    assert len(calls) == 3
    # A quantized KV cache needs flash attention: only the batch size is measured.
    tuning.tune(tuning.Setup(embedded_gguf, setup.threads, 0, 0, (), True, "q8_0"), tmp_path)
    assert calls[-1][0] == (True,)
    # Another thread count is another measurement.
    tuning.tune(tuning.Setup(embedded_gguf, setup.threads + 1, 0, 0, (), True, "f16"),
                tmp_path)
    assert len(calls) == 5


def test_a_damaged_tuning_file_is_measured_again(embedded_gguf: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tuning.json").write_text("{not json")
    monkeypatch.setattr(tuning, "measure", lambda *a, **k: tuning.Tuning(True, 256, (), 0.0))
    assert tuning.tune(setup_for(embedded_gguf), tmp_path).n_batch == 256


@pytest.mark.model
def test_the_provider_uses_the_measured_settings_and_reports_the_measurement(
        tmp_path: Path, isolated_env: Path, quick_tuning: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    stages: list[str] = []
    provider = LocalProvider(config.load(tmp_path), RepoId.detached("repo"), persist=False)
    backend = provider.backend(500, 100, lambda stage, done, total: stages.append(stage))
    assert "tune" in stages and stages.index("tune") < stages.index("load")
    assert isinstance(backend, LlamaCppBackend)
    kept = tuning.cached(setup_for(provider.resolved()[1].path),
                         isolated_env / "cache")
    assert kept is not None
    assert (backend.options.flash_attn, backend.options.n_batch) == (kept.flash_attn,
                                                                    kept.n_batch)
    assert backend.options.threads == devices.default_threads()


def test_a_cancel_stops_a_prefill_inside_one_evaluation_call(embedded_gguf: Path) -> None:
    info = read_info(embedded_gguf)
    backend = LlamaCppBackend(info, LlamaOptions(n_ctx=4096, n_batch=2048))
    text = "".join(f"def f{i}(x):\n    return x * {i}\n\n" for i in range(300))
    tokens = backend.tokenize(text)[:2000]
    cancel = threading.Event()
    done: list[int] = []
    timer = threading.Timer(0.5, cancel.set)  # one call of 2,000 tokens takes seconds
    timer.start()
    prompt = Prompt(tuple(tokens[:1900]), tuple(tokens[1900:]))
    *_, last = backend.stream(prompt, GenerationParams(max_tokens=4), cancel,
                              lambda n, total: done.append(n))
    timer.cancel()
    assert isinstance(last, Completion) and last.stop_reason == "cancelled"
    assert done == []  # the call was stopped, not finished
    assert kv_cells.positions(backend._llm) == (-1, -1)  # and left no cells behind
    short = tokens[:100]
    *_, again = backend.stream(Prompt(tuple(short), (short[0],)), GenerationParams(max_tokens=4))
    assert isinstance(again, Completion) and again.stop_reason != "cancelled"
    assert again.evaluated_tokens == 101


def test_settings_are_compared_by_the_time_of_a_typical_question() -> None:
    # Flash attention on a small CPU: a little faster prompt, much slower generation.
    on = tuning.Trial(True, 512, prefill_per_s=126.0, generation_per_s=25.0)
    off = tuning.Trial(False, 256, prefill_per_s=124.0, generation_per_s=32.0)
    assert off.seconds < on.seconds
    # A typical question: 2,048 prompt tokens, then 256 generated.
    assert on.seconds == pytest.approx(26.49, abs=0.01)  # 16.25 s prefill + 10.24 s
    assert off.seconds == pytest.approx(24.52, abs=0.01)  # 16.52 s prefill + 8.00 s
    instant = 1e12
    assert tuning.Trial(True, 512, 2048.0, instant).seconds == pytest.approx(1.0)
    assert tuning.Trial(True, 512, instant, 256.0).seconds == pytest.approx(1.0)
    # Where generation runs at the same speed, the faster prefill wins.
    assert tuning.Trial(True, 512, 130.0, 25.0).seconds < on.seconds
