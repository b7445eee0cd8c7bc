"""The command layer: what each slash command comes to, for whichever front end."""

from __future__ import annotations

import threading
from pathlib import Path

from codectx import config
from codectx.assistant import commands
from codectx.assistant.commands import Chat, Note, Refusal, Start
from codectx.assistant.conversations import listing
from codectx.assistant.results import Answer, EditProposal
from codectx.assistant.session import Session
from codectx.models.fake import FakeBackend, ScriptedProvider
from tests.conftest import make_repo

GOOD = "app.py\n<<<<<<< SEARCH\n    return 1\n=======\n    return 2\n>>>>>>> REPLACE\n"


def chat_on(root: Path, *replies: str) -> Chat:
    make_repo(root, {"app.py": "def one():\n    return 1\n"})
    return Chat(Session(root, config.load(root), ScriptedProvider(FakeBackend(replies))))


def run_work(start: Start) -> list[object]:
    return list(start.work(threading.Event(), lambda *a: None))


def test_a_plain_line_is_a_question_with_the_conversation_so_far(tmp_path: Path) -> None:
    chat = chat_on(tmp_path / "r", "It returns one.")
    outcome = commands.run(chat, "What does one() return?", "acp")
    assert isinstance(outcome, Start) and outcome.kind == "ask"
    answer = run_work(outcome)[-1]
    assert isinstance(answer, Answer) and answer.text == "It returns one."
    chat.record(outcome.label, answer.text)
    assert listing(chat.session.loaded.cache_path(), chat.session.root)[0].turns == (
        ("What does one() return?", "It returns one."),)


def test_pinning_is_checked_and_offered_only_where_it_means_something(tmp_path: Path) -> None:
    chat = chat_on(tmp_path / "r")
    assert commands.run(chat, "/add app.py", "chat") == Note(
        "pinned app.py: its full text goes with every question")
    assert chat.pinned == ["app.py"]
    assert commands.run(chat, "/add nope.py", "chat") == Refusal("/add nope.py: no such file",
                                                                 "error")
    assert isinstance(commands.run(chat, "/add ../outside", "chat"), Refusal)
    assert commands.run(chat, "/add app.py", "acp") == Refusal(
        "unknown command /add: /help lists them")
    assert commands.run(chat, "/drop app.py", "chat") == Note("unpinned app.py")
    assert commands.run(chat, "/drop app.py", "chat") == Refusal("app.py is not pinned")
    names = {c.name for c in commands.offered("acp")}
    assert {"/edit", "/review", "/tokens"} <= names and "/apply" not in names


def test_an_edit_is_proposed_then_applied_then_undone(tmp_path: Path) -> None:
    chat = chat_on(tmp_path / "r", GOOD)
    assert isinstance(commands.run(chat, "/edit", "chat"), Refusal)
    assert commands.run(chat, "/apply", "chat") == Refusal("no change to apply")
    start = commands.run(chat, "/edit return two", "chat")
    assert isinstance(start, Start) and start.instruction == "return two"
    proposal = run_work(start)[-1]
    assert isinstance(proposal, EditProposal) and proposal.plan.ok
    chat.proposal = proposal
    assert commands.run(chat, "/apply", "chat") == Note("applied to app.py (/undo restores)")
    assert "return 2" in (tmp_path / "r" / "app.py").read_text()
    assert commands.run(chat, "/undo", "chat") == Note("restored app.py")
    assert "return 1" in (tmp_path / "r" / "app.py").read_text()


def test_tokens_and_help_describe_the_chat(tmp_path: Path) -> None:
    chat = chat_on(tmp_path / "r")
    assert commands.run(chat, "/tokens", "acp") == Note("Nothing indexed yet.")
    chat.index = chat.session.index()
    tokens = commands.run(chat, "/tokens", "acp")
    assert isinstance(tokens, Note) and tokens.text.startswith("Repository: 1 files (1 in full)")
    chat.keys_help = "escape: Cancel"
    shown = commands.run(chat, "/help", "chat")
    assert isinstance(shown, Note) and "/review" in shown.text
    assert shown.text.endswith("keys: escape: Cancel")
    assert commands.complete("/re") == ["/review", "/revise"]
    assert commands.complete("/re", "acp") == ["/review"]
