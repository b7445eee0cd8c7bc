"""The server backend against llama.cpp's own `llama-server`, with the embedded model.

`make server` builds the binary from the llama.cpp sources vendored in the pinned
llama-cpp-python sdist, so this is the server users run, at the version the in-process
backend uses. test_openai_compat.py covers the same protocol against an emulation (and
every way a server can fail); this module checks that the emulation's claims hold for
the real one: the /props probe, token-id prompts with `cache_prompt`, the cached-token
counts it reports, `n_cache_reuse`, slot save and restore, a grammar, and a cancelled
stream.

One server for the module (one slot, a 4,096-token context); each test starts from a
system text of its own, so no test depends on what an earlier one left in the slot.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from codectx import config
from codectx.assistant.session import Answer, Session
from codectx.errors import ModelError
from codectx.models.backend import Completion, GenerationParams, Prompt
from codectx.models.runtime.tokenizer import GGUFCounter
from codectx.models.server.openai_compat import (
    SERVER_CACHE_REUSE,
    OpenAICompatBackend,
    ServerOptions,
)
from tests.conftest import free_port, run_all, write_tree
from tests.support.fake_server import cached_tokens

ROOT = Path(__file__).resolve().parents[2]
LLAMA_SERVER = ROOT / "build" / "llama.cpp" / "bin" / "llama-server"
N_CTX = 4096
TOY = {"util.py": "def add(a, b):\n    return a + b\n",
       "main.py": "from util import add\n\nprint(add(1, 2))\n"}
# A stretch of code longer than the chunk the server shifts (SERVER_CACHE_REUSE tokens).
BODY = "".join(f"def scale_{i}(x):\n    return x * {i} + {i * 7 % 13}\n\n" for i in range(20))


@dataclass(frozen=True)
class LlamaServer:
    url: str
    slot_dir: Path
    log: Path

    def slot(self) -> dict[str, Any]:
        slots = httpx.get(f"{self.url}/slots", timeout=10).json()
        assert isinstance(slots, list) and len(slots) == 1
        slot: dict[str, Any] = slots[0]
        return slot


@pytest.fixture(scope="module")
def llama_server(embedded_gguf: Path, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[LlamaServer]:
    if not LLAMA_SERVER.is_file():
        pytest.fail(f"{LLAMA_SERVER.relative_to(ROOT)} is missing: run `make server` (it builds "
                    "llama.cpp's server from the sources in the pinned llama-cpp-python sdist)",
                    pytrace=False)
    work = tmp_path_factory.mktemp("llama-server")
    slot_dir = work / "slots"
    slot_dir.mkdir()
    log = work / "server.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # --cache-ram 0: no host-memory prompt cache, so what a slot holds is what the tests
    # put there (an erased slot is empty, and only a restore from disk refills it).
    # -b 128: the server takes a cancel between batches, so a cancelled prefill stops early.
    # -t 1: the test suite runs beside it on the other core (two threads waiting on each
    # other on a busy machine are slower than one).
    command = [str(LLAMA_SERVER), "-m", str(embedded_gguf), "--host", "127.0.0.1",
               "--port", str(port), "-c", str(N_CTX), "-np", "1", "-t", "1", "-b", "128",
               "-ub", "128", "--alias", "qwen", "--slot-save-path", str(slot_dir),
               "--cache-reuse", str(SERVER_CACHE_REUSE), "--cache-ram", "0", "--no-warmup"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                pytest.fail(f"llama-server exited ({process.returncode}) while starting:\n"
                            f"{log.read_text(errors='replace')[-3000:]}", pytrace=False)
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama-server did not answer /health in 120 s", pytrace=False)
            time.sleep(0.2)
        yield LlamaServer(url, slot_dir, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def backend(server: LlamaServer, state_dir: Path | None, label: str = "repo"
            ) -> OpenAICompatBackend:
    return OpenAICompatBackend(ServerOptions(server.url, state_dir=state_dir, repo=label))


def chat_prompt(model: OpenAICompatBackend, system: str, question: str | None,
                *, exact: bool = False) -> Prompt:
    """The prompt as the session builds it: the system message (the cached prefix) in the
    model's chat template, then the question and the assistant's turn."""
    chat = model.chat
    prefix = model.bos_tokens() + model.tokenize(
        chat.system_before + system + chat.system_after, special=True)
    suffix = model.tokenize(chat.user_before + question + chat.user_after
                            + chat.generation_prompt, special=True) if question else []
    messages = (("system", system), *((("user", question),) if question else ()))
    return Prompt(tuple(prefix), tuple(suffix), messages, exact=exact)


def common_prefix(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def short(max_tokens: int = 8) -> GenerationParams:
    return GenerationParams(max_tokens=max_tokens)


def test_the_probe_recognises_llama_cpp(llama_server: LlamaServer, embedded_gguf: Path) -> None:
    model = backend(llama_server, None)
    assert model.server.kind == "llama.cpp" and model.name == "qwen"
    assert model.context_window == N_CTX  # the context per slot, from /props
    assert "<|im_start|>" in (model.server.chat_template or "")
    assert model.chat.system_before == "<|im_start|>system\n"
    assert model.server.eos_token == "<|im_end|>"
    assert model.tokenizer == "server" and model.route == "ids"
    text = "def add(a, b):\n    return a + b  # ü, 42\n"
    assert model.tokenize(text) == GGUFCounter(embedded_gguf).tokenize(text)
    assert model.bos_tokens() == []  # Qwen adds no BOS
    assert model.describe().startswith(f"qwen on the llama.cpp server at {llama_server.url}, "
                                       "context 4,096 tokens")
    assert "token ids to /v1/completions" in model.describe()


def test_a_warm_prefix_is_reused_by_every_question(llama_server: LlamaServer) -> None:
    model = backend(llama_server, None)
    system = "Test: prefix reuse.\n" + "".join(TOY.values())
    warm_prompt = chat_prompt(model, system, None)
    head = len(model.tokenize(model.chat.system_before, special=True))
    pieces, warm = run_all(model.stream(warm_prompt, short(0)))
    assert pieces == [] and warm.text == "" and warm.generated_tokens == 0
    assert warm.reuse_reported and warm.reused_tokens <= head  # a text of its own: cold
    assert warm.prompt_tokens == len(warm_prompt.tokens)  # the ids, exactly as sent

    seen: list[tuple[int, int]] = []
    question = chat_prompt(model, system, "Name one function defined above. "
                                          "Answer with the name only.")
    pieces, first = run_all(model.stream(question, short(),
                                         progress=lambda n, total: seen.append((n, total))))
    assert first.stop_reason in ("stop", "length") and "".join(pieces) == first.text
    assert f"def {first.text.strip()}(" in system  # a name from the prompt it was sent
    assert first.prompt_tokens == len(question.tokens)
    assert first.reused_tokens >= len(question.prefix)  # the server kept the warm prefix
    assert first.evaluated_tokens == first.prompt_tokens - first.reused_tokens
    assert first.evaluated_tokens <= len(question.suffix)
    assert 0 < first.generated_tokens <= 8
    # the server's own progress: it starts where its cache ends
    assert (first.reused_tokens, len(question.tokens)) in seen

    _, second = run_all(model.stream(chat_prompt(model, system, "What does add return?"),
                                     short()))
    assert second.reused_tokens >= len(question.prefix) and second.text.strip()


def test_the_server_shifts_chunks_after_a_removal_unless_the_prompt_is_exact(
        llama_server: LlamaServer) -> None:
    model = backend(llama_server, None)
    chat = model.chat
    head = model.tokenize(chat.system_before + "Test: chunk reuse.\n", special=True)
    notes = model.tokenize("Notes on an old version of the code, since removed.\n")
    body = model.tokenize(BODY)
    tail = model.tokenize(chat.system_after + chat.user_before + "Which function is first?"
                          + chat.user_after + chat.generation_prompt, special=True)
    assert len(body) > SERVER_CACHE_REUSE + 32

    def asked(*segments: list[int], exact: bool = False) -> tuple[Prompt, Completion]:
        # the segments tokenized apart, as the session's spans are
        tokens = tuple(t for segment in segments for t in segment)
        p = Prompt(tokens[: -len(tail)], tokens[-len(tail):], (("system", "x"), ("user", "q")),
                   exact=exact)
        return p, run_all(model.stream(p, short(2)))[1]

    first_prompt, first = asked(head, notes, body, tail)
    assert first.reused_tokens <= len(head)
    # A segment before the body is gone: n_cache_reuse lets the server keep the body's cells
    # (and the question's), shifted back to their new positions.
    shifted_prompt, shifted = asked(head, body, tail)
    assert shifted.reused_tokens >= len(head) + len(body)
    assert shifted.evaluated_tokens <= len(tail)
    # the emulation in tests/support/fake_server.py counts as the server does
    assert shifted.reused_tokens == cached_tokens(list(first_prompt.tokens),
                                                  list(shifted_prompt.tokens), SERVER_CACHE_REUSE)
    # The body's first 32 tokens are gone too, but the prompt is exact (n_cache_reuse 0
    # overrides the server's --cache-reuse): only the common prefix is kept.
    exact_prompt, exact = asked(head, body[32:], tail, exact=True)
    common = common_prefix(shifted_prompt.tokens, exact_prompt.tokens)
    assert len(head) <= common < len(head) + 8
    assert exact.reused_tokens == common
    assert cached_tokens(list(shifted_prompt.tokens), list(exact_prompt.tokens), 0) == common
    assert cached_tokens(list(shifted_prompt.tokens), list(exact_prompt.tokens),
                         SERVER_CACHE_REUSE) > common + SERVER_CACHE_REUSE  # had it not been exact
    assert exact.evaluated_tokens == len(exact_prompt.tokens) - common
    # (A segment that changed rather than went is not reused by the server: its chunk search
    # skips cached tokens, never new ones, so what follows new text is evaluated again.)


def test_a_saved_slot_is_restored_by_the_next_backend(llama_server: LlamaServer,
                                                      tmp_path: Path) -> None:
    state = tmp_path / "state"
    system = "Test: slot save and restore.\n" + "".join(TOY.values())
    first = backend(llama_server, state, label="restore-test")
    p1 = chat_prompt(first, system, "How many functions are there?")
    _, done = run_all(first.stream(p1, short(4)))
    assert not any("restored" in note for note in done.notes)
    assert first.slots is not None
    saved = llama_server.slot_dir / first.slots.file()
    assert saved.is_file() and saved.stat().st_size > 100_000  # the KV cells, not a stub
    marker = json.loads((state / f"{first.slots.file()}.json").read_text())
    assert marker["model"] == "qwen" and marker["tokens"] >= len(p1.tokens)

    # The server forgets (as after a restart): its slot is emptied; the file remains.
    erased = httpx.post(f"{llama_server.url}/slots/0?action=erase", timeout=30)
    assert erased.status_code == 200, erased.text
    assert llama_server.slot()["n_prompt_tokens"] == 0

    second = backend(llama_server, state, label="restore-test")
    p2 = chat_prompt(second, system, "Which function is defined last?")
    _, again = run_all(second.stream(p2, short(4)))
    restored = [n for n in again.notes if "restored the server's saved state" in n]
    assert restored and f"({marker['tokens']:,} tokens)" in restored[0]
    assert again.load_s > 0
    # the saved slot held the first question too: all it shares with the second is reused
    assert again.reused_tokens >= len(p2.prefix)
    assert again.evaluated_tokens < len(p2.suffix)


def test_a_missing_slot_file_is_forgotten(llama_server: LlamaServer, tmp_path: Path) -> None:
    state = tmp_path / "state"
    model = backend(llama_server, state, label="gone-test")
    assert model.slots is not None
    marker = state / f"{model.slots.file()}.json"
    marker.parent.mkdir(parents=True)
    marker.write_text("{}")  # remembered, but the server has no such file
    _, done = run_all(model.stream(chat_prompt(model, "Test: a missing slot file.", "Hi?"),
                                   short(2)))
    assert done.stop_reason in ("stop", "length")
    assert not any("restored" in n for n in done.notes)
    assert (llama_server.slot_dir / model.slots.file()).is_file()  # saved anew
    assert json.loads(marker.read_text())["model"] == "qwen"


def test_a_grammar_constrains_the_reply(llama_server: LlamaServer) -> None:
    model = backend(llama_server, None)
    p = chat_prompt(model, "Test: grammar.\n" + TOY["util.py"],
                    "Does util.py define a function named add? Say so in a sentence.")
    _, done = run_all(model.stream(p, GenerationParams(max_tokens=16,
                                                       grammar='root ::= "yes" | "no"')))
    assert done.text == "yes" and done.stop_reason == "stop"
    with pytest.raises(ModelError, match=r"HTTP 400.*grammar"):
        run_all(model.stream(p, GenerationParams(max_tokens=4, grammar='root ::= ("yes"')))


def test_a_cancelled_stream_stops_the_server_and_leaves_it_usable(
        llama_server: LlamaServer) -> None:
    model = backend(llama_server, None)
    system = "Test: cancel.\n" + TOY["util.py"]
    cancel = threading.Event()
    pieces: list[str] = []
    done = None
    long = chat_prompt(model, system, "Count from 1 to 500, one number per line.")
    for item in model.stream(long, GenerationParams(max_tokens=600), cancel):
        if isinstance(item, Completion):
            done = item
        else:
            pieces.append(item)
            if len(pieces) == 3:
                cancel.set()
    assert done is not None and done.stop_reason == "cancelled"
    assert done.text == "".join(pieces) and len(pieces) <= 5
    # the server saw the client go and stopped generating, far short of 600 tokens
    deadline = time.monotonic() + 10
    while (slot := llama_server.slot())["is_processing"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not slot["is_processing"]
    assert slot["next_token"][0]["n_decoded"] < 60
    _, after = run_all(model.stream(chat_prompt(model, system, "What does add return?"),
                                    short()))
    assert after.stop_reason in ("stop", "length") and after.text.strip()
    assert after.reused_tokens >= len(chat_prompt(model, system, None).prefix)


def test_a_cancel_during_the_prefill_ends_the_wait_at_once(llama_server: LlamaServer) -> None:
    model = backend(llama_server, None)
    system = "Test: cancel while the server prefills.\n" + BODY * 2  # several batches
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    started = time.monotonic()
    pieces, done = run_all(model.stream(chat_prompt(model, system, "Which is first?"),
                                        short(), cancel))
    assert done.stop_reason == "cancelled" and pieces == [] and done.text == ""
    assert time.monotonic() - started < 3  # not the whole prefill
    deadline = time.monotonic() + 30
    while (slot := llama_server.slot())["is_processing"] and time.monotonic() < deadline:
        time.sleep(0.1)
    # the server gave the prompt up at the end of a batch: it holds less than the prompt
    assert not slot["is_processing"]
    assert slot["n_prompt_tokens"] < len(chat_prompt(model, system, None).prefix)


def test_a_session_asks_the_real_server(llama_server: LlamaServer, tmp_path: Path) -> None:
    root = tmp_path / "proj"
    write_tree(root, TOY)
    s = Session(root, config.load(root, {"backend": "openai", "base_url": llama_server.url,
                                         "max_answer_tokens": 16}))
    first = list(s.ask("What is the name of the function defined in util.py? "
                       "Answer with the name only."))
    answer = first[-1]
    assert isinstance(answer, Answer)
    assert "".join(i for i in first if isinstance(i, str)) == answer.text
    assert "add" in answer.text and answer.model == "qwen" and answer.reuse_reported
    second = list(s.ask("Which file imports add? Answer with the file name only."))[-1]
    assert isinstance(second, Answer) and "main" in second.text
    assert second.reused_tokens >= second.prefix_tokens > 0
    assert s.provider.description().startswith("model: qwen on the llama.cpp server")
