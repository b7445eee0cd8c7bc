"""`codectx acp` as a real subprocess, driven by the SDK's client side, with a scripted model."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import pytest
from acp import PROTOCOL_VERSION, Client, RequestError, spawn_agent_process
from acp.schema import (
    AvailableCommandsUpdate,
    FileEditToolCallContent,
    ToolCallProgress,
    ToolCallStart,
)

from tests.agent.acp_client import Editor, agent_env, connected, prompt_text, wait_for
from tests.conftest import make_repo

APP = "def greet(name):\n    return 'hi ' + name\n"
GOOD = ("app.py\n<<<<<<< SEARCH\n    return 'hi ' + name\n=======\n    return 'hello ' + name\n"
        ">>>>>>> REPLACE\n")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    make_repo(tmp_path / "r", {"app.py": APP, "lib.py": "X = 1\n"})
    return (tmp_path / "r").resolve()


async def test_a_question_streams_chunks_and_ends_the_turn(repo: Path) -> None:
    editor = Editor()
    async with connected(editor, ["It greets people by name."]) as conn:
        session = await conn.new_session(cwd=str(repo))
        await wait_for(lambda: "available_commands_update" in editor.kinds())
        commands = next(u for u in editor.updates if isinstance(u, AvailableCommandsUpdate))
        assert {c.name for c in commands.available_commands} >= {"review", "tokens", "edit"}
        response = await conn.prompt(session_id=session.session_id,
                                     prompt=prompt_text("What does app.py do?"))
        assert response.stop_reason == "end_turn"
        # Notifications are handled in tasks of their own: they may land after the response.
        await wait_for(lambda: editor.text() == "It greets people by name.")
        chunks = [k for k in editor.kinds() if k == "agent_message_chunk"]
        assert len(chunks) == 5  # streamed word by word, not in one piece
        assert any(isinstance(u, ToolCallStart) and u.kind == "read" for u in editor.updates)
        assert str(repo / "app.py") in editor.read  # named in the prompt: read via the editor
        tokens = await conn.prompt(session_id=session.session_id, prompt=prompt_text("/tokens"))
        assert tokens.stop_reason == "end_turn"
        await wait_for(lambda: "2 files" in editor.text())


async def test_unsaved_buffers_are_what_the_model_sees(repo: Path) -> None:
    editor = Editor(buffers={str(repo / "app.py"): "def greet(name):\n    return 'UNSAVED'\n"})
    async with connected(editor, ["ECHO", "ECHO"]) as conn:  # the model says what it was given
        session = await conn.new_session(cwd=str(repo))
        await conn.prompt(session_id=session.session_id,
                          prompt=prompt_text("Explain app.py and lib.py"))
        await wait_for(lambda: "Explain app.py" in editor.text())
    assert str(repo / "app.py") in editor.read  # asked of the editor, not read from disk
    assert "return 'UNSAVED'" in editor.text()  # the unsaved buffer went with the question
    assert "The current content of lib.py" not in editor.text()  # saved: already in the prefix


async def test_cancel_stops_generation_promptly(repo: Path) -> None:
    editor = Editor()
    async with connected(editor, [" ".join(["word"] * 400)], delay=0.05) as conn:
        session = await conn.new_session(cwd=str(repo))
        turn = asyncio.create_task(conn.prompt(session_id=session.session_id,
                                               prompt=prompt_text("talk")))
        await wait_for(lambda: editor.text().count("word") >= 3)
        await conn.cancel(session_id=session.session_id)
        response = await asyncio.wait_for(turn, timeout=10)
        assert response.stop_reason == "cancelled"
        assert editor.text().count("word") < 100


async def test_an_allowed_edit_is_written_through_the_editor(repo: Path) -> None:
    editor = Editor(allow=True)
    async with connected(editor, [GOOD]) as conn:
        session = await conn.new_session(cwd=str(repo))
        response = await conn.prompt(session_id=session.session_id,
                                     prompt=prompt_text("/edit say hello"))
        await wait_for(lambda: "Applied to app.py" in editor.text())
    assert response.stop_reason == "end_turn"
    start = next(u for u in editor.updates if isinstance(u, ToolCallStart) and u.kind == "edit")
    assert start.content is not None
    diff = start.content[0]
    assert isinstance(diff, FileEditToolCallContent)
    assert (diff.path, diff.old_text) == (str(repo / "app.py"), APP)
    assert "'hello '" in diff.new_text
    assert len(editor.permissions) == 1
    assert list(editor.written) == [str(repo / "app.py")]
    assert "'hello '" in (repo / "app.py").read_text()
    assert any(isinstance(u, ToolCallProgress) and u.status == "completed"
               and u.tool_call_id == start.tool_call_id for u in editor.updates)


async def test_without_editor_fs_an_allowed_edit_goes_to_disk(repo: Path) -> None:
    editor = Editor(allow=True)
    async with connected(editor, [GOOD], fs=False) as conn:
        session = await conn.new_session(cwd=str(repo))
        await conn.prompt(session_id=session.session_id, prompt=prompt_text("/edit say hello"))
        await wait_for(lambda: "Applied to app.py" in editor.text())
    assert editor.written == {} and "'hello '" in (repo / "app.py").read_text()


async def test_a_rejected_edit_writes_nothing(repo: Path) -> None:
    editor = Editor(allow=False)
    async with connected(editor, [GOOD]) as conn:
        session = await conn.new_session(cwd=str(repo))
        response = await conn.prompt(session_id=session.session_id,
                                     prompt=prompt_text("/edit say hello"))
        await wait_for(lambda: "nothing was written" in editor.text())
    assert response.stop_reason == "end_turn"
    assert len(editor.permissions) == 1 and editor.written == {}
    assert (repo / "app.py").read_text() == APP


async def test_each_check_is_an_execute_tool_call_with_its_output(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODECTX_CHECK", "grep -q hello app.py && echo 'error: no hello' "
                                        "&& exit 1; exit 0")
    editor = Editor(allow=False)
    async with connected(editor, [GOOD, GOOD]) as conn:
        session = await conn.new_session(cwd=str(repo))
        await conn.prompt(session_id=session.session_id, prompt=prompt_text("/edit say hello"))
        await wait_for(lambda: "nothing was written" in editor.text())
    checks = [u for u in editor.updates if isinstance(u, ToolCallStart) and u.kind == "execute"]
    assert [c.title for c in checks] == [
        "grep -q hello app.py && echo 'error: no hello' && exit 1; exit 0 (attempt 1)",
        "grep -q hello app.py && echo 'error: no hello' && exit 1; exit 0 (attempt 2)"]
    outputs = [c.raw_output for c in checks]
    assert all(c.status == "failed" for c in checks)
    assert [o["status"] for o in outputs if o] == ["failed", "failed"]
    assert "error: no hello" in (outputs[0] or {})["output_tail"]
    assert "fails its checks" in editor.text()
    assert (repo / "app.py").read_text() == APP  # the trials were put back, nothing allowed


MIXED = (GOOD + "util.py\n<<<<<<< SEARCH\n=======\ndef shout(s):\n    return s.upper()\n"
         ">>>>>>> REPLACE\nDELETE lib.py\n")


async def test_new_files_and_deletions_are_asked_for_apart(repo: Path) -> None:
    # The editor allows the change to app.py and the new file, and keeps lib.py.
    editor = Editor(allow=lambda call: not call.title.startswith("Delete"))
    async with connected(editor, [MIXED]) as conn:
        session = await conn.new_session(cwd=str(repo))
        await conn.prompt(session_id=session.session_id, prompt=prompt_text(
            "/edit say hello, add a new file util.py with shout(s), and delete lib.py"))
        await wait_for(lambda: "Applied to" in editor.text())
    assert [(p.title, p.kind) for p in editor.permissions] == [
        ("Edit app.py", "edit"), ("Create util.py", "edit"), ("Delete lib.py", "delete")]
    created = editor.permissions[1].content[0]
    assert isinstance(created, FileEditToolCallContent) and created.old_text is None
    assert "'hello '" in (repo / "app.py").read_text()
    assert "def shout" in (repo / "util.py").read_text()
    assert (repo / "lib.py").read_text() == "X = 1\n"  # kept: its deletion was not allowed
    assert "Not applied: lib.py" in editor.text()


async def test_a_path_traversal_edit_is_refused(repo: Path) -> None:
    evil = "../evil.py\n<<<<<<< SEARCH\n=======\nprint('owned')\n>>>>>>> REPLACE\n"
    editor = Editor(allow=True)
    async with connected(editor, [evil] * 8) as conn:  # every candidate of both attempts
        session = await conn.new_session(cwd=str(repo))
        await conn.prompt(session_id=session.session_id, prompt=prompt_text("/edit add it"))
        await wait_for(lambda: "nothing was written" in editor.text())
    assert not (repo.parent / "evil.py").exists()
    assert editor.permissions == [] and editor.written == {}
    assert "../evil.py" in editor.text()


async def test_review_command(repo: Path) -> None:
    (repo / "app.py").write_text(APP + "print(greet(None))\n")
    editor = Editor()
    async with connected(editor, ["app.py:3: error: None is not a str"]) as conn:
        session = await conn.new_session(cwd=str(repo))
        await conn.prompt(session_id=session.session_id, prompt=prompt_text("/review"))
        await wait_for(lambda: "1 finding(s) in the uncommitted changes" in editor.text())
    assert "line 3: **error**: None is not a str" in editor.text()


async def test_bad_parameters_and_unknown_sessions_are_errors(repo: Path,
                                                              tmp_path: Path) -> None:
    editor = Editor()
    async with connected(editor, ["x"]) as conn:
        with pytest.raises(RequestError) as caught:
            await conn.new_session(cwd="relative/path")
        assert caught.value.code == -32602
        with pytest.raises(RequestError) as caught:
            await conn.prompt(session_id="nope", prompt=prompt_text("hi"))
        assert caught.value.code == -32602
        with pytest.raises(RequestError) as caught:
            await conn.load_session(cwd=str(repo), session_id="nope")
        assert "no saved conversation" in str(caught.value)
        session = await conn.new_session(cwd=str(repo))  # still alive
        assert session.session_id


async def test_a_session_is_saved_and_loaded(repo: Path) -> None:
    first = Editor()
    async with connected(first, ["Greets."]) as conn:
        session = await conn.new_session(cwd=str(repo))
        await conn.prompt(session_id=session.session_id, prompt=prompt_text("what?"))
    second = Editor()
    async with connected(second, ["More."]) as conn:
        await conn.load_session(cwd=str(repo), session_id=session.session_id)
        await wait_for(lambda: len(second.updates) >= 2)
        assert second.kinds()[:2] == ["user_message_chunk", "agent_message_chunk"]
        assert second.text().startswith("Greets.")


async def test_a_closed_session_is_gone_and_the_close_is_advertised(repo: Path) -> None:
    editor = Editor()
    async with spawn_agent_process(cast(Client, editor), sys.executable, "-m", "codectx",
                                   "acp", env=agent_env(["Greets."])) as (conn, _process):
        started = await conn.initialize(protocol_version=PROTOCOL_VERSION)
        capabilities = started.agent_capabilities
        assert capabilities is not None and capabilities.session_capabilities is not None
        assert capabilities.session_capabilities.close is not None
        session = await conn.new_session(cwd=str(repo))
        await conn.prompt(session_id=session.session_id, prompt=prompt_text("what?"))
        await conn.close_session(session_id=session.session_id)
        with pytest.raises(RequestError, match="Invalid params") as caught:
            await conn.prompt(session_id=session.session_id, prompt=prompt_text("again?"))
        assert "no session" in str(caught.value.data)
        # The protocol's other unstable methods are still not offered.
        with pytest.raises(RequestError, match="Method not found"):
            await conn.fork_session(cwd=str(repo), session_id=session.session_id)


def raw_session(lines: list[str], repo: Path) -> list[dict[str, Any]]:
    """Feed raw lines to `codectx acp`, close stdin, and read every reply."""
    proc = subprocess.run([sys.executable, "-m", "codectx", "acp"], input="\n".join(lines) + "\n",
                          capture_output=True, text=True, env=agent_env(["x"]), timeout=60,
                          cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]  # stdout: protocol only


def test_garbage_unknown_methods_and_a_closed_stdin(repo: Path) -> None:
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": 1, "clientCapabilities": {}}}
    replies = raw_session([
        "this is not json",
        "[1, 2, 3]",
        json.dumps({"jsonrpc": "2.0", "id": 7, "method": "no/such/method", "params": {}}),
        json.dumps({"jsonrpc": "2.0", "id": 8, "method": "session/new", "params": {"cwd": 5}}),
        json.dumps(init),
    ], repo)
    by_id = {r.get("id"): r for r in replies if r.get("id") is not None}
    errors = [r["error"]["code"] for r in replies if r.get("id") is None]
    assert sorted(errors) == [-32700, -32600]
    assert by_id[7]["error"]["code"] == -32601  # method not found
    assert by_id[8]["error"]["code"] == -32602  # invalid params
    assert by_id[1]["result"]["agentInfo"]["name"] == "codectx"  # and it still answers


async def test_the_session_follows_changes_to_the_repository(repo: Path) -> None:
    editor = Editor()
    async with connected(editor, ["ok"]) as conn:
        await conn.new_session(cwd=str(repo))
        await wait_for(lambda: any(isinstance(u, ToolCallProgress) and u.status == "completed"
                                   and u.tool_call_id.startswith("prefill-")
                                   for u in editor.updates))
        # The prefill is reported done once the watcher listens: a save from now on is seen.
        (repo / "lib.py").write_text("X = 2\n")
        await wait_for(lambda: any(isinstance(u, ToolCallProgress) and u.status == "completed"
                                   and u.tool_call_id.startswith("refresh-")
                                   for u in editor.updates), timeout=30)
    started = [u for u in editor.updates if isinstance(u, ToolCallStart)
               and u.tool_call_id.startswith("refresh-")]
    assert [u.title for u in started] == ["Re-reading lib.py"]


async def test_an_untrusted_repository_config_is_ignored_and_the_editor_told(
        tmp_path: Path) -> None:
    root = tmp_path / "cloned"
    make_repo(root, {"app.py": APP,
                     ".codectx.toml": 'base_url = "http://127.0.0.1:9/v1"\napi_key_env = "HOME"\n'})
    editor = Editor()
    async with connected(editor, ["x"]) as conn:
        await conn.new_session(cwd=str(root.resolve()))
        await wait_for(lambda: "reach outside the repository" in editor.text())
    assert ".codectx.toml sets base_url, api_key_env" in editor.text()
    assert f"codectx trust {root.resolve()}" in editor.text()
