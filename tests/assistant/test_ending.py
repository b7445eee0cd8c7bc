"""Replies that end: an edit's reply is bounded by what the change needs, and a
definitions reply cut by that bound keeps its complete definitions."""

from __future__ import annotations

from pathlib import Path

import pytest

from codectx import config
from codectx.assistant import editing
from codectx.assistant.edits.ending import at_last_definition, reply_limit
from codectx.assistant.session import EditProposal, Session
from tests.conftest import make_repo
from tests.support.fake import FakeBackend, ScriptedProvider

APP = "def greet(name):\n    return 'hi ' + name\n"
DONE = "def shout(name):\n    return greet(name).upper()\n"


@pytest.mark.parametrize(("need", "most", "limit"), [
    (0, 1024, 512),  # a new definition's room
    (100, 1024, 712),  # twice what may be rewritten, and that room
    (5000, 1024, 1024),  # never beyond the answer's limit
    (100, 300, 300),
])
def test_the_reply_limit(need: int, most: int, limit: int) -> None:
    assert reply_limit(need, most) == limit


def test_a_reply_cut_inside_its_second_definition_ends_after_the_first() -> None:
    reply = f"app.py\n```python\n{DONE}\n\ndef whisper(name):\n    text = greet(name)\n    retu"
    ended = at_last_definition(reply)
    assert ended is not None
    assert ended.kept == ("shout",) and ended.cut == "def whisper(name):"
    assert ended.text == f"app.py\n```python\n{DONE.rstrip()}\n```\n"


def test_a_reply_cut_inside_its_only_definition_keeps_nothing() -> None:
    ended = at_last_definition("app.py\n```python\ndef shout(name):\n    return gre")
    assert ended is not None and ended.kept == () and ended.cut == "def shout(name):"


def test_a_reply_cut_after_a_blank_line_keeps_the_definition_before_it() -> None:
    ended = at_last_definition(f"app.py\n```python\n{DONE}\n\n")
    assert ended is not None and ended.kept == ("shout",) and ended.cut == ""


def test_a_closed_reply_or_one_without_a_grammar_is_left_alone() -> None:
    assert at_last_definition(f"app.py\n```python\n{DONE}```\n") is None
    assert at_last_definition("notes.txt\n```\nsome words that go o") is None


def session_with(root: Path, replies: list[str]) -> tuple[Session, FakeBackend]:
    backend = FakeBackend(replies, context_window=100_000)
    return Session(root, config.load(root), ScriptedProvider(backend)), backend


def test_a_runaway_reply_is_held_to_the_limit_and_merges_what_was_complete(
        tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"app.py": APP})
    runaway = "def whisper(name):\n" + "    x = 1\n" * 3000  # the fake's tokens are words
    session, backend = session_with(tmp_path / "r", [f"app.py\n```python\n{DONE}\n\n{runaway}"])
    *_, proposal = editing.edit(session, "add shout", files=["app.py"], fmt="definitions")
    assert isinstance(proposal, EditProposal)
    limit = backend.params[0].max_tokens
    assert limit < 1024  # held to what a two-line file's change can need
    assert proposal.answer.stop_reason == "length"
    assert proposal.plan.ok and proposal.attempts == 1, proposal.problems
    after = proposal.plan.changes[0].after or ""
    assert "def shout(name):" in after and "whisper" not in after
    assert any(f"limit of {limit:,} tokens inside `def whisper(name):`" in note
               for note in proposal.answer.notes)


def test_a_reply_cut_before_anything_was_complete_goes_back_saying_so(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"app.py": APP})
    runaway = "app.py\n```python\ndef shout(name):\n" + "    x = 1\n" * 3000
    session, backend = session_with(tmp_path / "r", [runaway, f"app.py\n```python\n{DONE}```\n"])
    *_, proposal = editing.edit(session, "add shout", files=["app.py"], fmt="definitions",
                                candidates=1)
    assert isinstance(proposal, EditProposal)
    assert proposal.attempts == 2 and proposal.plan.ok
    retry = bytes(backend.prompts[1].suffix).decode()
    assert "reached its limit" in retry and "before any definition was complete" in retry
