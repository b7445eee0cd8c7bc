"""The server backend against a real server: llama-cpp-python's, with the embedded model."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from codectx import config
from codectx.assistant.session import Answer, Session
from codectx.errors import ModelError
from codectx.models.runtime.tokenizer import GGUFCounter
from codectx.models.server.openai_compat import OpenAICompatBackend, ServerOptions
from tests.conftest import free_port, write_tree

N_CTX = 4096
TOY = {"util.py": "def add(a, b):\n    return a + b\n",
       "main.py": "from util import add\n\nprint(add(1, 2))\n"}


def start_server(model: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", str(N_CTX), "--model_alias", "qwen"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("llama_cpp.server exited while starting")
        try:
            if httpx.get(f"{url}/v1/models", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("llama_cpp.server did not start in 120 s")


@pytest.fixture(scope="module")
def server(embedded_gguf: Path) -> Iterator[str]:
    process, url = start_server(embedded_gguf)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def session(root: Path, url: str, **flags: object) -> Session:
    write_tree(root, TOY)
    return Session(root, config.load(root, {"backend": "openai", "base_url": url,
                                            "server_context": N_CTX, "max_answer_tokens": 48,
                                            **flags}))


def test_a_question_streams_its_answer(server: str, tmp_path: Path) -> None:
    s = session(tmp_path / "proj", server)
    items = list(s.ask("What is the name of the function defined in util.py? "
                       "Answer with the name only."))
    answer = items[-1]
    assert isinstance(answer, Answer)
    pieces = [i for i in items if isinstance(i, str)]
    assert pieces and "".join(pieces) == answer.text
    assert "add" in answer.text and answer.model == "qwen"
    assert answer.stop_reason in ("stop", "length")
    assert not answer.reuse_reported  # this server does not say what it reused
    assert any("does not report how many prompt tokens" in n for n in answer.notes)
    assert "llama-cpp-python server" in s.provider.description()


def test_tokens_are_counted_by_the_servers_tokenizer(server: str, embedded_gguf: Path) -> None:
    model = OpenAICompatBackend(ServerOptions(server, context=N_CTX))
    assert model.tokenizer == "server" and model.route == "chat"
    text = "def add(a, b):\n    return a + b  # ü, 42\n"
    assert model.tokenize(text) == GGUFCounter(embedded_gguf).tokenize(text)
    assert model.bos_tokens() == []  # Qwen adds no BOS


def test_with_a_local_copy_the_prompt_goes_as_templated_text(server: str, tmp_path: Path,
                                                            embedded_gguf: Path) -> None:
    s = session(tmp_path / "proj", server, model=str(embedded_gguf))
    answer = list(s.ask("Which file imports add?"))[-1]
    assert isinstance(answer, Answer) and answer.text.strip()
    assert "text to /v1/completions" in s.provider.description()


def interrupted(s: Session, after: int, action: Callable[[], None],
                cancel: threading.Event | None = None) -> tuple[list[str], Answer | None]:
    """Ask for a long answer and run `action` once `after` pieces have come."""
    pieces: list[str] = []
    answer = None
    for item in s.ask("Explain every line of main.py in detail.", cancel=cancel):
        if isinstance(item, Answer):
            answer = item
        else:
            pieces.append(item)
            if len(pieces) == after:
                action()
    return pieces, answer


def test_cancel_stops_the_answer(server: str, tmp_path: Path) -> None:
    s = session(tmp_path / "proj", server, max_answer_tokens=400)
    cancel = threading.Event()
    _, answer = interrupted(s, 3, cancel.set, cancel)
    assert answer is not None and answer.stop_reason == "cancelled"
    assert answer.generated_tokens <= 8


def test_a_prompt_beyond_the_servers_context_is_refused(server: str, tmp_path: Path) -> None:
    write_tree(tmp_path / "proj", {"table.py": "".join(f"VALUE_{i} = {i}\n"
                                                       for i in range(1500))})
    s = session(tmp_path / "proj", server, budget=20000)  # the whole repository, no skeletons
    with pytest.raises(ModelError, match=r"the prompt needs [\d,]+ tokens.*the server's "
                                         r"context holds 4,096"):
        list(s.ask("Anything?"))


def test_a_server_stopped_mid_answer_leaves_a_marked_partial_answer(
        tmp_path: Path, embedded_gguf: Path) -> None:
    process, url = start_server(embedded_gguf)
    try:
        s = session(tmp_path / "proj", url, max_answer_tokens=400)
        pieces, answer = interrupted(s, 2, process.kill)
    finally:
        process.kill()
        process.wait(timeout=30)
    assert answer is not None and answer.stop_reason == "error"
    assert answer.text == "".join(pieces) and len(pieces) >= 2
    assert any("broke in the middle of the answer" in n for n in answer.notes)
