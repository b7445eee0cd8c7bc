"""`codectx doctor`: the build, the machine, the placement and the prefill settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from codectx.cli import main
from codectx.models.runtime import devices

# Each of these reads the model (its layers, where it runs) or measures with it.
pytestmark = pytest.mark.model


def run(*args: str, env: dict[str, str] | None = None,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "codectx", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, cwd=cwd)


def test_doctor_names_the_backends_cores_threads_and_where_the_model_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODECTX_THREADS")
    proc = run("doctor", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert "llama.cpp backends CPU" in text
    cores = devices.physical_cores()
    assert f"{cores} physical core(s)" in text
    assert f"threads {cores} (the physical cores)" in text
    if not devices.supports_offload():
        assert "prefill and generation run on the CPU" in text
        assert "GPU offload no" in text
    # The test environment sets both prefill settings.
    assert "prefill settings: set: flash attention False, n_batch 512" in text


def test_more_threads_than_cores_is_a_warning(tmp_path: Path) -> None:
    proc = run("doctor", env={"CODECTX_THREADS": "64"}, cwd=tmp_path)
    assert proc.returncode == 0
    assert "threads 64 (set)" in " ".join(proc.stdout.split())
    assert "warning: threads = 64 is more than the" in proc.stderr


@pytest.mark.parametrize(("env", "message"), [
    ({"CODECTX_GPU_LAYERS": "10"}, "has no GPU backend"),
    ({"CODECTX_GPU_LAYERS": "99"}, "gpu_layers = 99, but the model has 24 layers"),
    ({"CODECTX_TENSOR_SPLIT": "1,1"}, "tensor_split names 2 devices"),
])
def test_gpu_settings_that_cannot_work_here_are_one_line_errors(
        tmp_path: Path, env: dict[str, str], message: str) -> None:
    if devices.supports_offload() and "GPU backend" in message:
        pytest.fail("this test expects a CPU build of llama-cpp-python")
    proc = run("doctor", env=env, cwd=tmp_path)
    assert proc.returncode != 0
    assert message in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow  # every prefill setting measured: about two minutes on two cores
def test_doctor_tune_measures_and_keeps_the_faster_settings(
        tmp_path: Path, isolated_env: Path, quick_tuning: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    before = CliRunner().invoke(main, ["doctor"])
    assert before.exit_code == 0, before.output
    assert "not measured yet" in before.output
    info = CliRunner().invoke(main, ["models", "info", "qwen2.5-coder-0.5b-instruct"])
    assert "speed: not measured yet here" in " ".join(info.output.split()), info.output
    result = CliRunner().invoke(main, ["doctor", "--tune"])
    assert result.exit_code == 0, result.output
    kept = json.loads((isolated_env / "cache" / "tuning.json").read_text())
    (entry,) = [v for k, v in kept.items() if not k.startswith("speed:")]
    (speed,) = [v for k, v in kept.items() if k.startswith("speed:")]  # measured too
    assert speed["measured"] and speed["prefill"][0] > 0
    depth = int(speed["source"].split(" over ")[1].split()[0].replace(",", ""))
    assert depth >= 768  # doctor --tune measures as deep as DEPTH_FULL (768 in quick_tuning)
    assert "speed: prefill" in " ".join(result.output.split())
    assert "question" in result.output and "first answer" in result.output
    info = CliRunner().invoke(main, ["models", "info", "qwen2.5-coder-0.5b-instruct"])
    plan = " ".join(info.output.split())  # the same plan, from the speed kept
    assert "speed: prefill" in plan and "first answer" in plan and "edit" in plan, plan
    assert len(entry["trials"]) == 3
    assert f"n_batch {entry['n_batch']}" in result.output
    used = [line.split() for line in result.output.splitlines() if "used" in line.split()]
    assert len(used) == 1  # the row of the chosen settings
    words = [w for w in used[0] if w not in "│┃|"]
    assert words[1:3] == ["on" if entry["flash_attn"] else "off", str(entry["n_batch"])]
