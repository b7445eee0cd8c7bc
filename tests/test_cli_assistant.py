"""The model commands from the command line: cache and models."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_tree


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "codectx", *args], capture_output=True,
                          text=True, check=False, env={**os.environ, "COLUMNS": "200"})


@pytest.mark.model
def test_cache_warm_status_and_clear(tmp_path: Path) -> None:
    write_tree(tmp_path / "proj", {"a.py": "def f():\n    return 1\n"})
    warm = run("cache", "warm", str(tmp_path / "proj"))
    assert warm.returncode == 0, warm.stderr
    assert "0 reused" in warm.stderr and "saved in" in warm.stderr
    again = run("cache", "warm", str(tmp_path / "proj"))
    reused = re.search(r"tokens: ([\d,]+) reused, ([\d,]+) evaluated", again.stderr)
    assert reused is not None and int(reused.group(1).replace(",", "")) > 0
    assert reused.group(2) == "0"  # nothing: a warm-up generates nothing, needs no logits
    status = run("cache", "status")
    assert "1 saved prompt state(s)" in status.stdout and "proj" in status.stdout
    assert "qwen2.5-coder-0.5b-instruct" in status.stdout
    cleared = run("cache", "clear")
    assert "removed 1 saved prompt state(s)" in cleared.stderr
    assert "0 saved prompt state(s)" in run("cache", "status").stdout


@pytest.mark.model
def test_models_list_and_info() -> None:
    listing = run("models", "list").stdout
    assert "qwen2.5-coder-0.5b-instruct" in listing and "llama-3-8b-instruct-gradient-1048k" \
        in listing and "yes (embedded)" in listing
    info = run("models", "info", "llama-3-8b-instruct-gradient-1048k", "--ctx", "1048576",
               "--kv", "q4_0").stdout
    assert "KV 36.00 GiB" in info and "128.0 KiB" in info and "not downloaded" in info
    embedded = run("models", "info", "qwen2.5-coder-0.5b-instruct").stdout
    assert "qwen2: 24 layers, 2 KV heads of 64" in embedded and "f16 12.0 KiB" in embedded
    flat = " ".join(run("models", "info", "llama-3-8b-instruct-gradient-1048k", "--ctx",
                        "1048576", "--kv", "f16").stdout.split())
    # 128 GiB of KV cache: the plan says where it overflows.
    assert "does not fit" in flat and "RAM needs 133.83 GiB" in flat
    small = " ".join(run("models", "info", "qwen2.5-coder-0.5b-instruct", "--ctx", "8192")
                     .stdout.split())
    assert "RAM weights 0.46 GiB + KV 0.09 GiB" in small and "does not fit" not in small
    unknown = run("models", "info", "gpt-5")
    assert unknown.returncode == 2 and "unknown model 'gpt-5'" in unknown.stderr


def test_chat_lists_saved_conversations_and_refuses_a_missing_one(tmp_path: Path) -> None:
    import time as clock

    from codectx import config
    from codectx.assistant import conversations

    root = tmp_path / "proj"
    write_tree(root, {"a.py": "x = 1\n"})
    cache = config.load(root).cache_path()
    conversations.save(cache, root, conversations.Conversation(
        "20261128-010000-0001", clock.time(), (("What is x?", "One."),)))
    listed = run("chat", str(root), "--list")
    assert listed.returncode == 0 and "20261128-010000-0001" in listed.stdout
    assert "What is x?" in listed.stdout
    missing = run("chat", str(root), "--resume", "nope")
    assert missing.returncode == 2 and "no conversation 'nope'" in missing.stderr
    absent = run("chat", str(tmp_path / "absent"))
    assert absent.returncode == 2 and "absent: no such directory" in absent.stderr
