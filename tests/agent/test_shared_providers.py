"""Editor sessions on one repository share one model, freed with the last of them (closed,
or the editor gone); loading a session again stops the earlier one's watcher."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from codectx.agent.providers import SharedProviders
from codectx.agent.server import CodectxAgent
from codectx.config import Loaded
from tests.agent.acp_client import Editor
from tests.conftest import make_repo
from tests.support.fake import FakeBackend, ScriptedProvider


class Counting:
    """Makes scripted providers and counts those not closed."""

    def __init__(self) -> None:
        self.made: list[tuple[Path, ScriptedProvider]] = []

    def __call__(self, root: Path, loaded: Loaded) -> ScriptedProvider:
        provider = ScriptedProvider(FakeBackend(["an answer"] * 8))
        self.made.append((root, provider))
        return provider

    @property
    def live(self) -> int:
        return sum(not provider.fake.closed for _, provider in self.made)


async def settle(agent: CodectxAgent) -> None:
    """Let the sessions' preparation (index, prefill, watcher) finish."""
    for _ in range(200):
        tasks = [t for t in agent._tasks if not t.done()]
        if not tasks:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the sessions' preparation did not finish")


async def test_sessions_share_their_repositorys_model_until_the_last_ends(
        tmp_path: Path) -> None:
    one = tmp_path / "one" / "app"
    other = tmp_path / "other" / "app"  # the same folder name, another repository
    for root in (one, other):
        make_repo(root, {"app.py": "def greet(name):\n    return 'hi ' + name\n"})
    counting = Counting()
    agent = CodectxAgent(watch=True, providers=SharedProviders(counting))
    agent.on_connect(Editor())  # type: ignore[arg-type]
    first = (await agent.new_session(cwd=str(one))).session_id
    second = (await agent.new_session(cwd=str(one))).session_id
    third = (await agent.new_session(cwd=str(other))).session_id
    await settle(agent)

    assert [root for root, _ in counting.made] == [one, other]  # one model per repository
    sessions: dict[str, Any] = agent._sessions
    assert sessions[first].session.provider is sessions[second].session.provider
    mine, theirs = sessions[first].session, sessions[second].session
    assert mine._turn_lock is theirs._turn_lock  # one turn at a time
    assert sessions[third].session.provider is not sessions[first].session.provider
    assert counting.live == 2

    # Answers come through the shared model (and the conversation is saved).
    response = await agent.prompt(session_id=first, prompt=[{"type": "text", "text": "hi?"}])
    assert response.stop_reason == "end_turn"

    # Loading a session again replaces it: its watcher stops, its model stays with the other.
    earlier = sessions[first]
    watcher = earlier.watcher
    assert watcher is not None and watcher.running
    await agent.load_session(cwd=str(one), session_id=first)
    await settle(agent)
    assert not watcher.running
    assert agent._sessions[first] is not earlier
    assert counting.live == 2 and len(counting.made) == 2

    response = await agent.prompt(session_id=second, prompt=[{"type": "text", "text": "hi?"}])
    assert response.stop_reason == "end_turn"
    assert agent._sessions[first].chat.turns  # the loaded session has its history

    # Closing: a repository's model is freed with the last session on it.
    await agent.close_session(session_id=third)
    assert counting.live == 1  # the other repository's model is gone
    await agent.close_session(session_id=second)
    assert counting.live == 1  # the loaded session still holds its repository's model
    await agent.close_session(session_id="no-such-session")  # nothing to close: no error

    agent.shutdown()  # the editor went away: every model is freed
    assert counting.live == 0
    assert all(not state.watcher.running for state in agent._sessions.values()
               if state.watcher is not None)
