"""The editor agent, the terminal UI and `codectx review` on the server backend (a fake
llama.cpp server), configured by settings alone: nothing in them knows the model is remote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import deque
from pathlib import Path

import pytest
from acp import PROTOCOL_VERSION, spawn_agent_process
from acp.schema import ClientCapabilities, FileSystemCapabilities
from textual.widgets import Markdown

from codectx import config
from codectx.assistant.session import Session
from codectx.tui.app import CodectxApp
from tests.agent.acp_client import Editor, prompt_text, wait_for
from tests.conftest import make_repo, write_tree
from tests.support.fake_server import State, fake_llama_server
from tests.tui.test_app import ask

APP = "def greet(name):\n    return 'hi ' + name\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    make_repo(tmp_path / "r", {"app.py": APP, "lib.py": "X = 1\n"})
    return (tmp_path / "r").resolve()


async def test_acp_answers_through_the_server(repo: Path) -> None:
    with fake_llama_server(State(replies=deque(["It greets by name."]))) as (url, state):
        env = {**os.environ, "CODECTX_BACKEND": "openai", "CODECTX_BASE_URL": url}
        editor = Editor()
        async with spawn_agent_process(editor, sys.executable,  # type: ignore[arg-type]
                                       "-m", "codectx", "acp", "--no-watch",
                                       env=env) as (conn, _process):
            await conn.initialize(protocol_version=PROTOCOL_VERSION,
                                  client_capabilities=ClientCapabilities(
                                      fs=FileSystemCapabilities(read_text_file=True,
                                                                write_text_file=True)))
            session = await conn.new_session(cwd=str(repo))
            response = await conn.prompt(session_id=session.session_id,
                                         prompt=prompt_text("What does greet do?"))
            assert response.stop_reason == "end_turn"
            await wait_for(lambda: editor.text() == "It greets by name.")
        asked = [b for b in state.completions() if b["max_tokens"] > 1]
    assert b"What does greet do?" in bytes(asked[-1]["prompt"])


async def test_chat_answers_through_the_server(repo: Path) -> None:
    with fake_llama_server(State(replies=deque(["It **greets**."]))) as (url, state):
        loaded = config.load(repo, {"backend": "openai", "base_url": url})
        app = CodectxApp(Session(repo, loaded), watch=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await app.workers.wait_for_complete()
            await ask(pilot, "what?")
            answer = next(iter(app.query(".answer").results(Markdown)))
            assert answer.source == "It **greets**."
            assert app.turns == [("what?", "It **greets**.")]
        assert [b["max_tokens"] for b in state.completions()] == [1, 1024]  # warm-up, question


def test_review_command_through_the_server(tmp_path: Path) -> None:
    root = tmp_path / "r"
    make_repo(root, {"app.py": APP})
    write_tree(root, {"app.py": APP + "\ndef shout(name):\n    return greet(name).upper()\n"})
    finding = "app.py:5: warning: shout is never called"
    with fake_llama_server(State(replies=deque([finding]))) as (url, _):
        done = subprocess.run(
            [sys.executable, "-m", "codectx", "review", str(root), "--format", "json",
             "--backend", "openai", "--base-url", url],
            capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [(f["path"], f["line"]) for f in report["findings"]] == [("app.py", 5)]
    assert report["model"] == "fake-model"
