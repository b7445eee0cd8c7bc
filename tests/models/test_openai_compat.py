"""The server backend against a fake llama.cpp server: the protocol, and every way it fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import replace
from pathlib import Path

import pytest

from codectx import config
from codectx.assistant import editing, reviewing
from codectx.assistant.session import Answer, Session
from codectx.errors import ModelError
from codectx.models.backend import GenerationParams, Prompt
from codectx.models.server.api import split_base_url
from codectx.models.server.openai_compat import OpenAICompatBackend, ServerOptions
from tests.conftest import free_port, run_all, write_tree
from tests.support.fake_server import State, fake_llama_server

TOY = {"util.py": "def add(a, b):\n    return a + b\n",
       "main.py": "from util import add\n\nprint(add(1, 2))\n"}


def backend(url: str, tmp_path: Path, **options: object) -> OpenAICompatBackend:
    return OpenAICompatBackend(ServerOptions(url, state_dir=tmp_path / "slots",
                                             repo="repo", **options))  # type: ignore[arg-type]


def prompt(model: OpenAICompatBackend, system: str, question: str | None) -> Prompt:
    prefix = tuple(model.tokenize(system))
    suffix = tuple(model.tokenize(question)) if question else ()
    messages = (("system", system), *((("user", question),) if question else ()))
    return Prompt(prefix, suffix, messages)


def test_base_url_forms() -> None:
    assert split_base_url("http://h:8080/v1/") == "http://h:8080"
    assert split_base_url(" http://h:8080 ") == "http://h:8080"
    with pytest.raises(ModelError, match="not an http"):
        split_base_url("h:8080")


def test_llama_cpp_server_is_probed_and_sent_token_ids(tmp_path: Path) -> None:
    with fake_llama_server(State(replies=deque(["one two three"]), n_ctx=4096)) as (url, state):
        model = backend(url, tmp_path)
        assert model.server.kind == "llama.cpp" and model.context_window == 4096
        assert model.route == "ids" and model.tokenizer == "server"
        assert model.tokenize("hé") == list("hé".encode())
        pieces, done = run_all(model.stream(prompt(model, "sys", "q?"),
                                            GenerationParams(max_tokens=50)))
        body = state.completions()[-1]
    assert "".join(pieces) == "one two three" == done.text
    assert body["prompt"] == list(b"sysq?") and body["cache_prompt"] is True
    assert body["id_slot"] == 0 and body["stream"] is True
    assert done.stop_reason == "stop" and done.generated_tokens == 3
    # the server may keep unchanged runs of its cache at new positions, unless exactness
    # is asked for
    assert body["n_cache_reuse"] == 256


def test_an_exact_prompt_asks_llama_cpp_server_for_prefix_reuse_only(tmp_path: Path) -> None:
    with fake_llama_server(State(replies=deque(["one"]), n_ctx=4096)) as (url, state):
        model = backend(url, tmp_path)
        exact = replace(prompt(model, "sys", "q?"), exact=True)
        run_all(model.stream(exact, GenerationParams(max_tokens=5)))
        body = state.completions()[-1]
    assert body["n_cache_reuse"] == 0 and body["cache_prompt"] is True


def test_cached_tokens_are_read_back(tmp_path: Path) -> None:
    with fake_llama_server(State(replies=deque(["a", "b"]))) as (url, _):
        model = backend(url, tmp_path)
        _, first = run_all(model.stream(prompt(model, "system text", "one?"),
                                        GenerationParams()))
        _, second = run_all(model.stream(prompt(model, "system text", "two?"),
                                         GenerationParams()))
    assert first.reused_tokens == 0 and first.evaluated_tokens == len(b"system textone?")
    assert second.reuse_reported and second.reused_tokens == len(b"system text")
    assert second.evaluated_tokens == len(b"two?")


def test_without_tokenize_route_text_goes_with_the_template_or_as_chat(tmp_path: Path) -> None:
    state = State(replies=deque(["x", "y"]))
    with fake_llama_server(state) as (url, _):
        model = backend(url, tmp_path)
        model.route = "text"  # as for a server that takes no token ids
        run_all(model.stream(prompt(model, "S", "Q"), GenerationParams()))
        assert state.completions()[-1]["prompt"] == (
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n"
            "<|im_start|>assistant\n")
    state = State(replies=deque(["z"]), template=None)
    with fake_llama_server(state) as (url, _):
        model = backend(url, tmp_path)
        assert model.route == "chat"  # no template known: the server applies its own
        pieces, _ = run_all(model.stream(prompt(model, "S", "Q"), GenerationParams()))
        assert pieces == ["z"]
        assert state.completions()[-1]["messages"] == [
            {"role": "system", "content": "S"}, {"role": "user", "content": "Q"}]


def test_a_warm_up_asks_for_one_token_and_shows_none(tmp_path: Path) -> None:
    with fake_llama_server(State(replies=deque(["hello there"]))) as (url, state):
        model = backend(url, tmp_path)
        pieces, done = run_all(model.stream(prompt(model, "S", None),
                                            GenerationParams(max_tokens=0)))
        assert state.completions()[-1]["max_tokens"] == 1
    assert pieces == [] and done.text == "" and done.generated_tokens == 0


def test_a_prompt_larger_than_the_context_is_refused_before_sending(tmp_path: Path) -> None:
    with fake_llama_server(State(n_ctx=64)) as (url, state):
        model = backend(url, tmp_path)
        with pytest.raises(ModelError, match=r"prompt has 52 tokens.*room for 20.*holds 64"):
            run_all(model.stream(prompt(model, "x" * 50, "q?"), GenerationParams(max_tokens=20)))
        assert state.completions() == []


def test_server_down_wrong_url_and_bad_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelError, match="cannot connect to the server") as down:
        backend(f"http://127.0.0.1:{free_port()}", tmp_path)
    assert "Start the server" in (down.value.hint or "")
    with fake_llama_server() as (url, _):
        with pytest.raises(ModelError, match="HTTP 404") as wrong:
            backend(url + "/api/other", tmp_path)
        assert "`base_url`" in (wrong.value.hint or "")
    with fake_llama_server(State(api_key="s3cret")) as (url, _):
        with pytest.raises(ModelError, match="SERVER_KEY is not set"):
            backend(url, tmp_path, api_key_env="SERVER_KEY")
        monkeypatch.setenv("SERVER_KEY", "wrong")
        with pytest.raises(ModelError, match=r"refused the request \(HTTP 401.*Invalid API Key"):
            backend(url, tmp_path, api_key_env="SERVER_KEY")
        monkeypatch.setenv("SERVER_KEY", "s3cret")
        assert backend(url, tmp_path, api_key_env="SERVER_KEY").name == "fake-model"


def test_a_server_error_carries_its_message(tmp_path: Path) -> None:
    with fake_llama_server(State(mode="error")) as (url, _):
        model = backend(url, tmp_path)
        with pytest.raises(ModelError, match=r"HTTP 500.*out of memory in the KV cache"):
            run_all(model.stream(prompt(model, "S", "Q"), GenerationParams()))


def test_busy_is_retried_until_the_server_is_ready(tmp_path: Path) -> None:
    with fake_llama_server(State(busy_count=2, replies=deque(["ready"]))) as (url, state):
        model = backend(url, tmp_path)
        state.busy_count = 2
        pieces, _ = run_all(model.stream(prompt(model, "S", "Q"), GenerationParams()))
    assert pieces == ["ready"]


def test_a_cut_stream_keeps_the_partial_answer_and_says_so(tmp_path: Path) -> None:
    with fake_llama_server(State(mode="cut", replies=deque(["one two three four"]))) as (url, _):
        model = backend(url, tmp_path)
        pieces, done = run_all(model.stream(prompt(model, "S", "Q"), GenerationParams()))
    assert pieces == ["one", " two"] and done.text == "one two"
    assert done.stop_reason == "error"
    assert any("broke in the middle of the answer" in note for note in done.notes)


def test_a_stream_cut_before_any_text_is_an_error(tmp_path: Path) -> None:
    with fake_llama_server(State(mode="cut-early")) as (url, _):
        model = backend(url, tmp_path)
        with pytest.raises(ModelError, match="closed the connection before answering"):
            run_all(model.stream(prompt(model, "S", "Q"), GenerationParams()))


def test_timeout_and_cancel_while_the_server_prefills(tmp_path: Path) -> None:
    with fake_llama_server(State(mode="slow", delay=10.0)) as (url, _):
        model = backend(url, tmp_path, timeout=0.5)
        with pytest.raises(ModelError, match=r"closed the connection before answering.*nothing "
                                             r"came for 0 s|did not answer within"):
            run_all(model.stream(prompt(model, "S", "Q"), GenerationParams()))
        patient = backend(url, tmp_path)
        cancel = threading.Event()
        threading.Timer(0.3, cancel.set).start()
        started = time.monotonic()
        _, done = run_all(patient.stream(prompt(patient, "S", "Q"), GenerationParams(), cancel))
        waited = time.monotonic() - started
    assert done.stop_reason == "cancelled" and done.text == ""
    assert waited < 8  # the wait for the slow server was given up, not sat out


def test_slot_state_is_saved_and_restored_by_the_next_process(tmp_path: Path) -> None:
    state = State(slot_save=True, replies=deque(["a", "b"]))
    with fake_llama_server(state) as (url, _):
        first = backend(url, tmp_path)
        _, done = run_all(first.stream(prompt(first, "the repository", "q1"), GenerationParams()))
        assert not any("restored" in note for note in done.notes)
        assert len(state.saved) == 1
        markers = list((tmp_path / "slots").glob("*.json"))
        assert len(markers) == 1 and json.loads(markers[0].read_text())["model"] == "fake-model"
        state.last_prompt = []  # the server restarts: its memory is empty, its files remain
        second = backend(url, tmp_path)
        _, again = run_all(second.stream(prompt(second, "the repository", "q2"),
                                         GenerationParams()))
    assert any("restored the server's saved state" in note for note in again.notes)
    # the saved slot held the first question too: all it shares with the second is reused
    assert again.reused_tokens == len(b"the repositoryq")


def test_without_slot_save_path_nothing_is_saved_or_said(tmp_path: Path) -> None:
    with fake_llama_server(State(replies=deque(["a", "b"]))) as (url, state):
        model = backend(url, tmp_path)
        _, done = run_all(model.stream(prompt(model, "S", "Q"), GenerationParams()))
        _, done2 = run_all(model.stream(prompt(model, "S2", "Q"), GenerationParams()))
        saves = [p for p, _ in state.requests if p.startswith("/slots/")]
    assert saves == ["/slots/0"]  # tried once, then known to be off
    assert not list((tmp_path / "slots").glob("*.json"))
    assert not [n for n in done.notes + done2.notes if "slot" in n]


def test_session_front_ends_work_unchanged(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    write_tree(root, TOY)
    edit = ("main.py\n```python\n<<<<<<< SEARCH\nprint(add(1, 2))\n=======\n"
            "print(add(2, 3))\n>>>>>>> REPLACE\n```\n")
    replies = deque(["add is in util.py", edit, "main.py:3: warning: prints a constant"])
    with fake_llama_server(State(replies=replies, n_ctx=32768)) as (url, state):
        loaded = config.load(root, {"backend": "openai", "base_url": url})
        session = Session(root, loaded)
        answers = [i for i in session.ask("Where is add?") if isinstance(i, Answer)]
        assert answers[0].text == "add is in util.py" and answers[0].model == "fake-model"
        assert answers[0].reuse_reported
        proposal = list(editing.edit(session, "Add 2 and 3"))[-1]
        assert [c.path for c in proposal.plan.changes] == ["main.py"]  # type: ignore[union-attr]
        (root / "main.py").write_text("from util import add\n\nprint(add(5, 6))\n")
        from codectx.assistant.review import change

        review = list(reviewing.review(session, change.whole_files(root, ["main.py"])))[-1]
        assert b"def add" in bytes(state.completions()[0]["prompt"])
        assert session.provider.description().startswith("model: fake-model on the llama.cpp")
    assert [f.line for f in review.findings] == [3]  # type: ignore[union-attr]


def test_ask_json_reports_reused_tokens_from_the_server(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    write_tree(root, TOY)
    with fake_llama_server(State(replies=deque(["first", "second"]))) as (url, _):
        def ask(question: str) -> dict[str, object]:
            done = subprocess.run(
                [sys.executable, "-m", "codectx", "ask", question, str(root), "--json",
                 "--backend", "openai", "--base-url", url],
                capture_output=True, text=True, check=False, env=dict(os.environ))
            assert done.returncode == 0, done.stderr
            data: dict[str, object] = json.loads(done.stdout)
            return data

        first, second = ask("one?"), ask("two?")
    assert first["answer"] == "first" and first["reused_tokens"] == 0
    assert isinstance(second["reused_tokens"], int) and second["reused_tokens"] > 1000
    assert second["evaluated_tokens"] == int(str(second["prompt_tokens"])) - second[
        "reused_tokens"]


def test_a_missing_base_url_is_a_config_error(tmp_path: Path) -> None:
    write_tree(tmp_path, TOY)
    done = subprocess.run([sys.executable, "-m", "codectx", "ask", "q", str(tmp_path),
                           "--backend", "openai"], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "needs the server's address" in done.stderr and "--base-url" in done.stderr
