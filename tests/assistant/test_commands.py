"""The command layer: what each slash command comes to, for whichever front end."""

from __future__ import annotations

import threading
from pathlib import Path

from codectx import config
from codectx.assistant import commands
from codectx.assistant.chat import Chat, FrontEnd
from codectx.assistant.conversations import listing
from codectx.assistant.outcomes import Confirm, Note, Refusal, Start
from codectx.assistant.results import Answer, EditProposal, Review
from codectx.assistant.session import Session
from tests.conftest import make_repo
from tests.support.fake import FakeBackend, ScriptedProvider

GOOD = "app.py\n<<<<<<< SEARCH\n    return 1\n=======\n    return 2\n>>>>>>> REPLACE\n"


def chat_on(root: Path, *replies: str, front_end: FrontEnd = "chat") -> Chat:
    make_repo(root, {"app.py": "def one():\n    return 1\n"})
    session = Session(root, config.load(root), ScriptedProvider(FakeBackend(replies)))
    return Chat(session, front_end=front_end)


def run_work(start: Start) -> list[object]:
    return list(start.work(threading.Event(), lambda *a: None))


def test_a_plain_line_is_a_question_with_the_conversation_so_far(tmp_path: Path) -> None:
    chat = chat_on(tmp_path / "r", "It returns one.", front_end="acp")
    outcome = commands.run(chat, "What does one() return?")
    assert isinstance(outcome, Start) and outcome.kind == "ask"
    answer = run_work(outcome)[-1]
    assert isinstance(answer, Answer) and answer.text == "It returns one."
    chat.keep(answer, outcome.label)
    assert listing(chat.session.loaded.cache_path(), chat.session.root)[0].turns == (
        ("What does one() return?", "It returns one."),)


def test_every_kind_of_turn_is_kept_in_one_place(tmp_path: Path) -> None:
    """An answer, an applied edit and a review are kept, as any front end resumes them; a
    stopped answer and an edit not applied are not."""
    review = "app.py:2: warning: two is not one"
    chat = chat_on(tmp_path / "r", "It returns one.", "A stopped answer", GOOD, GOOD, review)
    def started(line: str) -> Start:
        outcome = commands.run(chat, line)
        assert isinstance(outcome, Start), outcome
        return outcome

    answer = run_work(started("What does one() return?"))[-1]
    assert isinstance(answer, Answer)
    chat.keep(answer, "What does one() return?")
    cancel = threading.Event()
    cancel.set()
    stopped = list(started("Stop this").work(cancel, lambda *a: None))[-1]
    assert isinstance(stopped, Answer) and stopped.stop_reason == "cancelled"
    chat.keep(stopped, "Stop this")
    rejected = run_work(started("/edit make one return two"))[-1]
    assert isinstance(rejected, EditProposal)
    chat.keep(rejected)
    assert chat.proposal is rejected and chat.last_proposal is rejected
    assert chat.last_answer is rejected.answer
    chat.rejected()  # not kept
    assert chat.proposal is None and chat.last_proposal is rejected
    proposal = run_work(started("/edit make one return two"))[-1]
    assert isinstance(proposal, EditProposal)
    chat.keep(proposal)
    assert commands.run(chat, "/apply") == Note("applied to app.py (/undo restores)")
    start = started("/review")
    found = run_work(start)[-1]
    assert isinstance(found, Review)
    chat.keep(found, start.label)
    assert chat.last_answer is found.answer and chat.proposal is None
    kept = listing(chat.session.loaded.cache_path(), chat.session.root)[0].turns
    assert [asked for asked, _ in kept] == ["What does one() return?",
                                            "/edit make one return two", "review"]
    assert kept[0][1] == "It returns one."
    assert kept[1][1] == GOOD
    assert "two is not one" in kept[2][1]


def test_pinning_is_checked_and_offered_only_where_it_means_something(tmp_path: Path) -> None:
    chat = chat_on(tmp_path / "r")
    assert commands.run(chat, "/add app.py") == Note(
        "pinned app.py: its full text goes with every question")
    assert chat.pinned == ["app.py"]
    assert commands.run(chat, "/add nope.py") == Refusal("/add nope.py: no such file",
                                                                 "error")
    assert isinstance(commands.run(chat, "/add ../outside"), Refusal)
    assert commands.run(chat, "/nonsense") == Refusal("unknown command /nonsense: /help lists them")
    chat.front_end = "acp"  # an editor is not offered pinning, and a path is a question
    assert isinstance(added := commands.run(chat, "/add app.py"), Start) and added.kind == "ask"
    assert isinstance(path := commands.run(chat, "/etc/app.conf: why?"), Start)
    assert path.label == "/etc/app.conf: why?"
    chat.front_end = "chat"
    assert commands.run(chat, "/drop app.py") == Note("unpinned app.py")
    assert commands.run(chat, "/drop app.py") == Refusal("app.py is not pinned")
    names = {c.name for c in commands.offered("acp")}
    assert {"/edit", "/review", "/tokens"} <= names and "/apply" not in names


def test_an_edit_is_proposed_then_applied_then_undone(tmp_path: Path) -> None:
    chat = chat_on(tmp_path / "r", GOOD)
    assert isinstance(commands.run(chat, "/edit"), Refusal)
    assert commands.run(chat, "/apply") == Refusal("no change to apply")
    start = commands.run(chat, "/edit return two")
    assert isinstance(start, Start) and start.instruction == "return two"
    proposal = run_work(start)[-1]
    assert isinstance(proposal, EditProposal) and proposal.plan.ok
    chat.keep(proposal)
    assert commands.run(chat, "/apply") == Note("applied to app.py (/undo restores)")
    assert chat.proposal is None
    assert "return 2" in (tmp_path / "r" / "app.py").read_text()
    assert commands.run(chat, "/undo") == Note("restored app.py")
    assert "return 1" in (tmp_path / "r" / "app.py").read_text()


NEW = "new.py\n<<<<<<< SEARCH\n=======\nTWO = 2\n>>>>>>> REPLACE\n"


def test_a_change_that_creates_a_file_asks_before_it_is_applied(tmp_path: Path) -> None:
    chat = chat_on(tmp_path / "r", GOOD + NEW, GOOD + NEW)
    root = tmp_path / "r"
    start = commands.run(chat, "/edit return two and add a new file new.py")
    assert isinstance(start, Start)
    proposal = run_work(start)[-1]
    assert isinstance(proposal, EditProposal)
    chat.keep(proposal)
    asked = commands.run(chat, "/apply")
    assert isinstance(asked, Confirm) and asked.proposal is proposal
    assert asked.text.startswith("This change creates new.py.")
    assert not (root / "new.py").exists() and "return 1" in (root / "app.py").read_text()
    assert isinstance(commands.run(chat, "/apply everything"), Refusal)
    assert commands.run(chat, "/apply existing") == Note("applied to app.py (/undo restores)")
    assert not (root / "new.py").exists() and "return 2" in (root / "app.py").read_text()
    commands.run(chat, "/undo")
    chat.keep(proposal)
    assert commands.run(chat, "/apply all") == Note(
        "applied to app.py, new.py (/undo restores)")
    assert (root / "new.py").read_text() == "TWO = 2\n"


def test_tokens_and_help_describe_the_chat(tmp_path: Path) -> None:
    chat = chat_on(tmp_path / "r")
    assert commands.run(chat, "/tokens") == Note("Nothing indexed yet.")
    chat.index = chat.session.index()
    tokens = commands.run(chat, "/tokens")
    assert isinstance(tokens, Note) and tokens.text.startswith("Repository: 1 files (1 in full)")
    chat.keys_help = "escape: Cancel"
    shown = commands.run(chat, "/help")
    assert isinstance(shown, Note) and "/review" in shown.text
    assert shown.text.endswith("keys: escape: Cancel")
    assert commands.complete("/re") == ["/review", "/revise"]
    assert commands.complete("/re", "acp") == ["/review"]
    chat.front_end = "acp"
    editor_help = commands.run(chat, "/help")
    assert isinstance(editor_help, Note) and "/revise" not in editor_help.text
    edit = commands.COMMANDS["/edit"]
    assert commands.describe(edit) == "ask for a change to the repository (shown as a diff first)"
