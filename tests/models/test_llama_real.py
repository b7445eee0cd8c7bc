"""The real llama-cpp-python backend with the embedded model: the prompt cache end to end.

Prompts are kept to a few hundred tokens and decoding is greedy, so answers
can be compared exactly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codectx import config
from codectx.assistant.prompts import INSTRUCTIONS, build_prompt
from codectx.assistant.session import Answer, Session
from codectx.indexer.repository import index_repository
from codectx.models.backend import Completion, GenerationParams, Prompt
from codectx.models.gguf import read_info
from codectx.models.runtime.llama_cpp import LlamaCppBackend, LlamaOptions, cache_key
from codectx.models.runtime.prompt_cache import PromptCache
from codectx.models.runtime.tokenizer import GGUFCounter
from codectx.tokens import EstimateCounter
from tests.conftest import write_tree

CODE = {
    "units.py": '"""Unit conversions."""\n\nINCH_CM = 2.54\n\n\n'
                "def inches_to_cm(inches: float) -> float:\n    return inches * INCH_CM\n",
    "report.py": "from units import inches_to_cm\n\n\n"
                 "def describe(height_in: float) -> str:\n"
                 '    return f"{inches_to_cm(height_in):.1f} cm"\n',
}
QUESTION = "What is the value of INCH_CM? Reply with the number only."


def complete(backend: LlamaCppBackend, prompt: Prompt) -> Completion:
    *_, last = backend.stream(prompt, GenerationParams(max_tokens=12))
    assert isinstance(last, Completion)
    return last


def ask(session: Session, question: str = QUESTION) -> Answer:
    *_, last = session.ask(question)
    assert isinstance(last, Answer)
    return last


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    write_tree(tmp_path / "repo", CODE)
    return tmp_path / "repo"


def test_a_restored_state_answers_as_a_fresh_prefill_does(
    repo: Path, tmp_path: Path, embedded_gguf: Path
) -> None:
    info = read_info(embedded_gguf)
    options = LlamaOptions(n_ctx=4096)
    cache = PromptCache(tmp_path / "prompts", cache_key(info, options), 1 << 30)
    first = LlamaCppBackend(info, options, cache)
    index = index_repository(repo, config.load(repo), GGUFCounter(embedded_gguf))
    prompt = build_prompt(first.chat, first.tokenize, index.segments, QUESTION)
    fresh = complete(first, prompt)
    assert fresh.reused_tokens == 0 and fresh.evaluated_tokens == len(prompt.tokens)
    assert "2.54" in fresh.text
    assert [len(e.tokens) for e in cache.entries()] == [len(prompt.prefix)]

    second = LlamaCppBackend(info, options, cache)  # a new model instance: nothing in memory
    restored = complete(second, prompt)
    assert restored.reused_tokens == len(prompt.prefix)
    assert restored.evaluated_tokens == len(prompt.suffix)
    assert restored.text == fresh.text


def test_repository_text_never_becomes_a_special_token(embedded_gguf: Path) -> None:
    backend = LlamaCppBackend(read_info(embedded_gguf), LlamaOptions(n_ctx=4096))
    im_end = backend.tokenize("<|im_end|>", special=True)
    assert len(im_end) == 1
    assert im_end[0] not in backend.tokenize("x = '<|im_end|>'")


@pytest.mark.model
def test_a_second_process_reuses_the_first_ones_state(repo: Path) -> None:
    def ask_json() -> dict[str, Any]:
        proc = subprocess.run([sys.executable, "-m", "codectx", "ask", QUESTION, str(repo),
                               "--json"], capture_output=True, text=True, env=os.environ)
        assert proc.returncode == 0, proc.stderr
        data: dict[str, Any] = json.loads(proc.stdout)
        return data

    first, second = ask_json(), ask_json()
    assert first["reused_tokens"] == 0
    assert isinstance(second["reused_tokens"], int) and second["reused_tokens"] > 0
    assert second["evaluated_tokens"] == first["prompt_tokens"] - second["reused_tokens"]
    assert second["answer"] == first["answer"]
    assert set(first) >= {"answer", "model", "prompt_tokens", "reused_tokens",
                          "evaluated_tokens", "load_s", "ttft_s", "total_s",
                          "generated_tokens", "tokens_per_s"}


@pytest.mark.model
def test_editing_the_last_file_re_evaluates_only_what_follows_it(repo: Path) -> None:
    session = Session(repo, config.load(repo))
    ask(session)
    order = [f.path for f in index_repository(repo, config.load(repo), EstimateCounter()).files]
    assert order[-1] == "report.py"
    write_tree(repo, {"report.py": CODE["report.py"] + "\n\nUNUSED = 1\n"})
    again = ask(session)
    backend = session.provider.current
    assert backend is not None
    # Tokens before report.py's block: chat header, instructions, every earlier segment.
    expected = len(backend.tokenize(backend.chat.system_before, special=True))
    expected += len(backend.tokenize(INSTRUCTIONS))
    for segment in index_repository(repo, session.loaded, session.provider.counter()).segments:
        if segment.path == "report.py":
            last_block = len(backend.tokenize(segment.text))
            break
        expected += len(backend.tokenize(segment.text))
    # Re-evaluation starts inside report.py's block (its opening tag is unchanged).
    assert expected <= again.reused_tokens < expected + last_block
    assert again.evaluated_tokens == again.prompt_tokens - again.reused_tokens


@pytest.mark.model
def test_a_damaged_saved_state_is_discarded_and_rebuilt(repo: Path, isolated_env: Path) -> None:
    first = ask(Session(repo, config.load(repo)))
    states = list((isolated_env / "cache" / "prompts").rglob("*.state"))
    assert len(states) == 1
    with states[0].open("r+b") as fh:
        fh.truncate(states[0].stat().st_size // 2)
    again = ask(Session(repo, config.load(repo)))
    assert again.reused_tokens == 0
    assert any("damaged" in note for note in again.notes)
    assert again.text == first.text
    third = ask(Session(repo, config.load(repo)))
    assert third.reused_tokens > 0 and not third.notes


@pytest.mark.parametrize("content", [None, b"GGUF\x03\x00\x00\x00" + b"\x00" * 64])
def test_a_missing_or_corrupt_model_file_is_a_clear_error(
    repo: Path, tmp_path: Path, content: bytes | None
) -> None:
    model = tmp_path / "model.gguf"
    if content is not None:
        model.write_bytes(content)
    proc = subprocess.run([sys.executable, "-m", "codectx", "ask", "hi", str(repo), "--model",
                           str(model)], capture_output=True, text=True)
    assert proc.returncode == 2
    message = "model file not found" if content is None else "is not a readable GGUF model"
    assert message in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.model
def test_ctrl_c_during_prefill_keeps_what_was_evaluated(
        tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import signal
    import time

    # Short calls: several are done before the signal (a call under way when it comes is
    # stopped inside, and its tokens are not kept).
    monkeypatch.setenv("CODECTX_N_BATCH", "64")

    body = "\n".join(f"VALUE_{i} = {i * 7}  # constant number {i}" for i in range(60))
    write_tree(tmp_path / "big", {"values.py": body + "\n"})
    proc = subprocess.Popen([sys.executable, "-m", "codectx", "ask", "Which is VALUE_3?",
                             str(tmp_path / "big"), "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    states = isolated_env / "cache" / "prompts"
    deadline = time.monotonic() + 60
    while not list((isolated_env / "cache").glob("index-*.sqlite")):  # indexed: loading next
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.2)
    time.sleep(9)  # the model loads and prefills its first calls
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "stopped (what was prefilled is saved)" in stderr
    saved = PromptCache(states, None, 1 << 40).all_entries()
    assert len(saved) == 1
    partial = len(saved[0].tokens)
    assert partial > 0
    resumed = ask(Session(tmp_path / "big", config.load(tmp_path / "big")), "Which is VALUE_3?")
    assert resumed.reused_tokens == partial < resumed.prompt_tokens
