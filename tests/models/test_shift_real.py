"""Segment-level reuse with the embedded model: an edit costs about its own tokens.

Each file's cells are kept wherever the file now stands; only changed files
are evaluated. Answers are compared with an exact prefill's, greedy, token for
token.
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
from codectx.assistant.prompts import build_prompt
from codectx.indexer.repository import index_repository
from codectx.models.backend import Completion, GenerationParams, Prompt, Span
from codectx.models.gguf import read_info
from codectx.models.identity import RepoId
from codectx.models.runtime import kv_cells
from codectx.models.runtime.llama_cpp import LlamaCppBackend, LlamaOptions, cache_key
from codectx.models.runtime.prompt_cache import PromptCache
from codectx.models.runtime.tokenizer import GGUFCounter
from tests.conftest import write_tree

CODE = {
    "base.py": '"""Shared constants."""\n\nSCALE = 10\n',
    "shapes.py": "from base import SCALE\n\n\ndef square(side: int) -> int:\n"
                 "    return side * side * SCALE\n",
    "colours.py": "from base import SCALE\n\nPALETTE = ['red', 'green', 'blue']\n\n\n"
                  "def shade(level: int) -> int:\n    return level * SCALE\n",
    "limits.py": "from base import SCALE\n\nMAX_WIDTH = 640\nMAX_HEIGHT = 480\n\n\n"
                 "def area() -> int:\n    return MAX_WIDTH * MAX_HEIGHT // SCALE\n",
}
QUESTION = "What is the value of MAX_WIDTH? Reply with the number only."


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    write_tree(tmp_path / "repo", CODE)
    return tmp_path / "repo"


class Harness:
    def __init__(self, gguf: Path, cache_dir: Path) -> None:
        self.info = read_info(gguf)
        self.gguf = gguf
        self.options = LlamaOptions(n_ctx=4096)
        self.cache = PromptCache(cache_dir, cache_key(self.info, self.options), 1 << 30)

    def backend(self, cached: bool = True, **options: Any) -> LlamaCppBackend:
        opts = LlamaOptions(**{**self.options.__dict__, **options})
        return LlamaCppBackend(self.info, opts, self.cache if cached else None,
                               repo=RepoId.detached("repo"))

    def prompt(self, backend: LlamaCppBackend, repo: Path, question: str = QUESTION) -> Prompt:
        index = index_repository(repo, config.load(repo), GGUFCounter(self.gguf))
        return build_prompt(backend.chat, backend.tokenize, index.segments, question)


def complete(backend: LlamaCppBackend, prompt: Prompt) -> Completion:
    *_, last = backend.stream(prompt, GenerationParams(max_tokens=8))
    assert isinstance(last, Completion)
    return last


def span_of(prompt: Prompt, path: str) -> Span:
    return next(s for s in prompt.spans if s.key.startswith(f"file:{path}:"))


def first_file(prompt: Prompt) -> str:
    return next(s.key.split(":")[1] for s in prompt.spans if s.key.startswith("file:"))


def assert_cells_match(backend: LlamaCppBackend) -> None:
    """What llama.cpp holds is what the bookkeeping says: positions 0..n-1 in sequence 0,
    nothing left in the stash sequence."""
    llm = backend._llm
    assert kv_cells.positions(llm, 0) == (0, llm.n_tokens - 1)
    assert kv_cells.positions(llm, kv_cells.STASH) == (-1, -1)


@pytest.fixture
def harness(embedded_gguf: Path, tmp_path: Path) -> Harness:
    return Harness(embedded_gguf, tmp_path / "prompts")


def test_an_edit_to_the_first_file_costs_that_file_and_answers_as_exact(
        repo: Path, harness: Harness) -> None:
    backend = harness.backend()
    before = harness.prompt(backend, repo)
    first = complete(backend, before)
    assert "640" in first.text and first.shifted_tokens == 0
    name = first_file(before)
    assert name == "base.py"
    write_tree(repo, {name: CODE[name] + "OFFSET = 3\n"})
    after = harness.prompt(backend, repo)
    edited = span_of(after, name)
    shifted = complete(backend, after)
    assert shifted.evaluated_tokens <= edited.tokens + len(after.suffix)
    assert shifted.shifted_tokens > 0 and shifted.stale_tokens > 0
    assert shifted.reused_tokens + shifted.evaluated_tokens == len(after.tokens)
    assert_cells_match(backend)
    exact = complete(harness.backend(cached=False), after)
    assert exact.evaluated_tokens == len(after.tokens)
    assert shifted.text == exact.text


def test_a_state_with_spans_is_reused_by_a_new_backend_and_files_come_and_go(
        repo: Path, harness: Harness) -> None:
    first = harness.backend()
    complete(first, harness.prompt(first, repo))
    del first
    write_tree(repo, {"base.py": CODE["base.py"] + "OFFSET = 3\n",
                      "zones.py": "ZONES = ('north', 'south')\n"})
    (repo / "colours.py").unlink()
    second = harness.backend()  # nothing in memory: the saved state is loaded
    prompt = harness.prompt(second, repo)
    answer = complete(second, prompt)
    added = span_of(prompt, "zones.py").tokens + span_of(prompt, "base.py").tokens
    tree = next(s for s in prompt.spans if s.key.startswith("tree:")).tokens
    assert answer.load_s > 0 and answer.shifted_tokens > 0
    assert answer.evaluated_tokens <= added + tree + len(prompt.suffix)
    assert "640" in answer.text
    assert_cells_match(second)
    # a sequence of edits in memory keeps the cells and the bookkeeping together
    for n in range(3):
        write_tree(repo, {"shapes.py": CODE["shapes.py"] + f"\nEXTRA_{n} = {n}\n"})
        again = complete(second, harness.prompt(second, repo))
        assert_cells_match(second)
        assert "640" in again.text


def test_a_span_table_that_does_not_match_its_tokens_is_discarded(
        repo: Path, harness: Harness) -> None:
    first = harness.backend()
    prompt = harness.prompt(first, repo)
    fresh = complete(first, prompt)
    (entry,) = harness.cache.entries()
    meta = json.loads(entry.meta_path.read_text())
    meta["spans"][1][2] += 5  # a span that no longer tiles the tokens
    entry.meta_path.write_text(json.dumps(meta))
    second = harness.backend()
    again = complete(second, prompt)
    assert again.reused_tokens == 0 and again.text == fresh.text
    assert [len(e.tokens) for e in harness.cache.entries()] == [len(prompt.prefix)]
    assert complete(harness.backend(), prompt).reused_tokens == len(prompt.prefix)


def test_prefix_reuse_when_cells_cannot_be_shifted(repo: Path, harness: Harness,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kv_cells, "can_shift", lambda llm: False)
    backend = harness.backend()
    complete(backend, harness.prompt(backend, repo))
    write_tree(repo, {"base.py": CODE["base.py"] + "OFFSET = 3\n"})
    prompt = harness.prompt(backend, repo)
    answer = complete(backend, prompt)
    assert answer.shifted_tokens == 0 and answer.stale_tokens == 0
    # only a common prefix: nothing after the edited file's block is kept
    assert answer.reused_tokens < span_of(prompt, "base.py").end
    assert answer.reused_tokens + answer.evaluated_tokens == len(prompt.tokens)
    assert any("cannot be shifted" in note for note in answer.notes)


@pytest.mark.model
def test_ask_json_reports_shifted_and_stale_tokens_and_exact_forces_a_prefix(
        repo: Path) -> None:
    def ask(*extra: str) -> dict[str, Any]:
        proc = subprocess.run([sys.executable, "-m", "codectx", "ask", QUESTION, str(repo),
                               "--json", *extra], capture_output=True, text=True,
                              env=os.environ)
        assert proc.returncode == 0, proc.stderr
        data: dict[str, Any] = json.loads(proc.stdout)
        return data

    cold = ask()
    assert cold["shifted_tokens"] == 0 and cold["stale_tokens"] == 0
    write_tree(repo, {"base.py": CODE["base.py"] + "OFFSET = 3\n"})
    shifted = ask()
    assert shifted["shifted_tokens"] > 0 and shifted["stale_tokens"] > 0
    assert shifted["evaluated_tokens"] < cold["evaluated_tokens"] / 2
    assert shifted["answer"] == cold["answer"]
    exact = ask("--exact")
    # the saved state is approximate after base.py: an exact run evaluates from there
    assert exact["shifted_tokens"] == 0 and exact["stale_tokens"] == 0
    assert exact["evaluated_tokens"] > shifted["evaluated_tokens"]
    assert exact["answer"] == cold["answer"]


@pytest.mark.model
def test_a_second_process_waits_for_one_prefilling_the_same_repository(
        tmp_path: Path, isolated_env: Path) -> None:
    import time

    body = "\n".join(f"LIMIT_{i} = {i * 11}  # limit number {i}" for i in range(150))
    write_tree(tmp_path / "big", {"limits.py": body + "\n"})
    question = "What is LIMIT_3? Reply with the number only."
    command = [sys.executable, "-m", "codectx", "ask", question, str(tmp_path / "big"),
               "--json"]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    deadline = time.monotonic() + 120
    # the first process holds the prefill lock once it has loaded the model and started
    while not list((isolated_env / "cache" / "prompts").glob("*/prefill-*.lock")):
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.1)
    second = subprocess.run(command, capture_output=True, text=True)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0 and second.returncode == 0, err + second.stderr
    one, two = json.loads(out), json.loads(second.stdout)
    assert one["reused_tokens"] == 0
    assert any("waited" in note for note in two["notes"]), two["notes"]
    assert two["split"]["prefix"] <= two["reused_tokens"]  # the first one's state
    assert two["answer"] == one["answer"]
