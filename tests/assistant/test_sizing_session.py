"""Time targets through the Session, with a scripted model that pretends to run at a
given speed: the prefix and retrieval are capped by time, a fast machine keeps the whole
context, an explicit budget or retrieval_tokens still wins, and answers say what the
speed model expected."""

from __future__ import annotations

from pathlib import Path

from codectx import config
from codectx.assistant.chat import Chat
from codectx.assistant.commands import tokens_text
from codectx.assistant.session import Answer, Session
from codectx.indexer.levels import Level
from codectx.models import sizing
from codectx.models.runtime.speed import Line, Speed
from tests.assistant.test_retrieval import Bytes, big_repo
from tests.support.fake import ECHO, FakeBackend, ScriptedProvider

# Byte-counted tokens: the repository is about 70,000 "tokens"; a slow machine affords a
# prefix of a few thousand of them, a fast one all of it.
SLOW = Speed(Line(1 / 150, 1e-6), Line(1 / 30, 1e-6), "slow")
FAST = Speed(Line(1 / 50_000), Line(1 / 500), "fast")
TIMED = {"first_answer_seconds": 300.0, "question_seconds": 30.0, "edit_seconds": 120.0}


def session(root: Path, speed: Speed | None, **settings: object) -> Session:
    loaded = config.load(root, {**TIMED, **settings})
    backend = FakeBackend([ECHO] * 4, context_window=200_000)
    return Session(root, loaded, ScriptedProvider(backend, Bytes(), speed))


def ask(s: Session, question: str) -> Answer:
    *_, answer = s.ask(question)
    assert isinstance(answer, Answer)
    return answer


def test_a_slow_machine_gets_a_prefix_and_retrieval_it_can_afford(tmp_path: Path) -> None:
    root = big_repo(tmp_path / "r", n=60)
    slow = session(root, SLOW)
    sizes = slow.sizes()
    assert sizes.by_time and sizes.prefix < 10_000
    answer = ask(slow, "What does settle_17 return?")
    assert answer.prefix_tokens <= sizes.prefix + sizing.QUESTION_TOKENS * 8
    assert 0 < answer.retrieved_tokens <= sizes.retrieval * 1.2  # files, and their labels
    assert not answer.notes or not any("target" in n for n in answer.notes)
    assert answer.expected_s is not None and answer.expected_s > 0
    assert answer.evaluated_split["retrieved"] == answer.retrieved_tokens
    fast = session(root, FAST)
    whole = ask(fast, "What does settle_17 return?")
    assert whole.prefix_tokens > 4 * answer.prefix_tokens  # the whole repository, in full
    assert whole.retrieved_tokens == 0
    untimed = session(root, None)
    assert not untimed.sizes().by_time
    assert ask(untimed, "What does settle_17 return?").expected_s is None


def test_an_explicit_budget_or_retrieval_setting_wins_over_time(tmp_path: Path) -> None:
    root = big_repo(tmp_path / "r", n=60)
    budgeted = ask(session(root, SLOW, budget=30_000), "What does settle_17 return?")
    assert budgeted.prefix_tokens > 29_000 > 3 * session(root, SLOW).sizes().prefix
    many = "What do settle_17, settle_18, settle_19, settle_20 and settle_21 return?"
    wide = ask(session(root, SLOW, retrieval_tokens=20_000), many)
    capped = ask(session(root, SLOW), many)
    assert len(wide.retrieved) == 5 and not any("excerpt" in r.why for r in wide.retrieved)
    # Within the time's cap the five defining files come as excerpts of what was asked.
    assert capped.retrieved_tokens * 2 < wide.retrieved_tokens
    assert all("excerpt" in r.why for r in capped.retrieved)


def test_a_target_the_machine_cannot_meet_is_said_once(tmp_path: Path) -> None:
    root = big_repo(tmp_path / "r", n=60)
    crawl = session(root, Speed(Line(1 / 2, 1e-4), Line(2.0, 1e-4), "crawl"))
    first, second = ask(crawl, "settle_17?"), ask(crawl, "settle_18?")
    assert any("over the 30 s target" in n for n in first.notes)
    assert not any("target" in n for n in second.notes)


def test_tokens_shows_the_evaluated_split_and_the_expected_time(tmp_path: Path) -> None:
    root = big_repo(tmp_path / "r", n=60)
    chat = Chat(session(root, SLOW))
    chat.last_answer = ask(chat.session, "What does settle_17 return?")
    text = tokens_text(chat)
    assert "Evaluated: prefix" in text and "reply" in text
    assert "speed model expected" in text


def test_a_file_list_longer_than_the_time_allows_collapses_directories_to_fit(
        tmp_path: Path) -> None:
    from tests.conftest import make_repo

    root = tmp_path / "r"
    make_repo(root, {f"src/package_{i:03}/module_with_a_long_name_{i:03}.py": f"X = {i}\n"
                     for i in range(500)})
    slow = session(root, SLOW)
    answer = ask(slow, "What is X in src/package_007/module_with_a_long_name_007.py?")
    assert answer.prefix_tokens <= slow.sizes().prefix + sizing.PROMPT_OVERHEAD  # within the time
    assert slow.index().collapsed  # the tree collapsed directories to fit
    assert any("collapsed" in n for n in answer.notes)  # and the answer says so
    asked = "src/package_007/module_with_a_long_name_007.py"
    levels = {f.path: f.mode for f in slow.index().files}
    # The file it asks about: in full in the prefix, or brought in full for the question.
    assert levels[asked] is Level.FULL or asked in [r.path for r in answer.retrieved]
