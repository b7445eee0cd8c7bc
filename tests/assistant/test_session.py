"""The Session with a scripted backend: prompt layout, streaming, what a cache would reuse."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

import pytest

from codectx import config
from codectx.assistant.prompts import INSTRUCTIONS
from codectx.assistant.session import Answer, Session
from codectx.assistant.turns import TurnRequest
from codectx.progress import no_progress
from tests.conftest import make_repo, write_tree
from tests.support.fake import FakeBackend, ScriptedProvider

FILES = {"core.py": "def base():\n    return 1\n", "app.py": "from core import base\n"}


def ask(session: Session, question: str) -> tuple[str, Answer]:
    pieces, answer = [], None
    for item in session.ask(question):
        if isinstance(item, Answer):
            answer = item
        else:
            pieces.append(item)
    assert answer is not None
    return "".join(pieces), answer


def decode(tokens: tuple[int, ...]) -> str:
    return bytes(tokens).decode()


def test_the_answer_streams_and_the_prompt_is_laid_out_in_order(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", FILES)
    backend = FakeBackend(["It returns one."])
    session = Session(tmp_path / "r", config.load(tmp_path / "r"), ScriptedProvider(backend))
    text, answer = ask(session, "What?")
    assert text == answer.text == "It returns one."
    assert answer.stop_reason == "stop" and answer.model == "fake"
    prompt = backend.prompts[0]
    prefix, suffix = decode(prompt.prefix), decode(prompt.suffix)
    assert prefix.startswith("<|im_start|>system\n" + INSTRUCTIONS)
    assert prefix.index('<file path="core.py"') < prefix.index('<file path="app.py"')
    assert prefix.endswith("</repository>\n<|im_end|>\n")
    assert suffix == "<|im_start|>user\nWhat?<|im_end|>\n<|im_start|>assistant\n"


def test_a_second_question_reuses_the_whole_prefix(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", FILES)
    backend = FakeBackend(["a", "b"])
    session = Session(tmp_path / "r", config.load(tmp_path / "r"), ScriptedProvider(backend))
    ask(session, "first?")
    _, second = ask(session, "second?")
    assert second.reused_tokens >= len(backend.prompts[1].prefix)
    assert decode(backend.evaluated[1]).startswith("second?")


def test_editing_the_last_file_re_evaluates_only_from_that_file(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", FILES)
    backend = FakeBackend(["a", "b"])
    session = Session(tmp_path / "r", config.load(tmp_path / "r"), ScriptedProvider(backend))
    ask(session, "q?")
    write_tree(tmp_path / "r", {"app.py": "from core import base\nprint(base())\n"})
    _, again = ask(session, "q?")
    start = decode(backend.prompts[1].prefix).index('<file path="app.py"')
    assert start <= again.reused_tokens < start + 60  # everything before app.py's block
    assert "def base()" not in decode(backend.evaluated[1])


def test_a_repository_that_does_not_fit_is_noted(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {**FILES, "big.py": "\n".join(f"X{i} = {i}" for i in range(400))})
    loaded = config.load(tmp_path / "r", {"budget": 300})
    _, answer = ask(Session(tmp_path / "r", loaded, ScriptedProvider(FakeBackend(["ok"]))), "q?")
    assert any("to fit the context" in note for note in answer.notes)


def test_history_comes_before_the_question_and_is_trimmed_oldest_first(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", FILES)
    first = FakeBackend(["a"])
    session = Session(tmp_path / "r", config.load(tmp_path / "r"), ScriptedProvider(first))
    history = [("first question?", "first answer"), ("second question?", "second answer")]
    *_, answer = session.ask("third?", history=history)
    suffix = decode(first.prompts[0].suffix)
    assert suffix.index("first question?") < suffix.index("second answer") < suffix.index("third?")
    assert isinstance(answer, Answer) and answer.notes == ()
    full = len(first.prompts[0].tokens)
    small = FakeBackend(["b"], context_window=full + 1024 - 40)
    # A budget of its own: the automatic one keeps room this tiny context does not have.
    loaded = config.load(tmp_path / "r", {"budget": 10_000})
    *_, trimmed = Session(tmp_path / "r", loaded, ScriptedProvider(small)).ask(
        "third?", history=history)
    assert isinstance(trimmed, Answer)
    assert "first question?" not in decode(small.prompts[0].suffix)
    assert "second question?" in decode(small.prompts[0].suffix)
    assert trimmed.notes == ("the 1 oldest turn(s) of the conversation were left out to fit "
                             "the context",)


def test_max_answer_tokens_caps_the_answer(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", FILES)
    backend = FakeBackend(["one two three four"])
    loaded = config.load(tmp_path / "r", {"max_answer_tokens": 2})
    text, answer = ask(Session(tmp_path / "r", loaded, ScriptedProvider(backend)), "q?")
    assert text == "one two" and answer.stop_reason == "length"


def test_the_core_does_not_import_the_terminal_ui() -> None:
    import subprocess
    import sys

    code = "import sys, codectx.assistant.session; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


def _answers_again(session: Session) -> bool:
    """Whether a new question gets its answer (the turn lock is free), waiting at most
    half a minute for it."""
    done: list[Answer] = []

    def again() -> None:
        *_, answer = session.ask("And now?")
        assert isinstance(answer, Answer)
        done.append(answer)

    thread = threading.Thread(target=again, daemon=True)
    thread.start()
    thread.join(30)
    return bool(done) and done[0].text == "the second answer"


def test_an_abandoned_answer_does_not_keep_the_turn(tmp_path: Path) -> None:
    """Start an answer, drop its iterator (even where only the garbage collector would
    finalize it), ask again: the new question is answered."""
    root = tmp_path / "r"
    make_repo(root, {"app.py": "x = 1\n"})
    words = " ".join(f"w{i}" for i in range(400))
    fake = FakeBackend([words, "the second answer", words, "the second answer"], delay=0.01)
    session = Session(root, config.load(root), ScriptedProvider(fake))

    dropped = session.ask("A long one?")
    assert next(dropped) == "w0"
    del dropped
    assert _answers_again(session)

    held = session.ask("Another long one?")
    assert next(held) == "w0"
    cycle: dict[str, object] = {"answer": held}
    cycle["self"] = cycle  # only a collection would close it
    gc.disable()
    try:
        del held, cycle
        assert _answers_again(session)
    finally:
        gc.enable()


def _long_answer_first(tmp_path: Path) -> tuple[Session, FakeBackend]:
    """A session whose model answers at length first (slowly), then "the second answer"."""
    root = tmp_path / "r"
    make_repo(root, {"app.py": "x = 1\n"})
    words = " ".join(f"w{i}" for i in range(400))
    fake = FakeBackend([words, "the second answer"], delay=0.01)
    return Session(root, config.load(root), ScriptedProvider(fake)), fake


def test_closing_an_answer_stops_its_generation(tmp_path: Path) -> None:
    session, fake = _long_answer_first(tmp_path)
    answer = session.ask("A long one?")
    assert next(answer) == "w0"
    answer.close()  # type: ignore[attr-defined]
    assert _answers_again(session)
    assert len(fake.prompts) == 2  # the first stopped; nothing else was generated


def test_a_turn_owns_its_reply_and_what_it_used(tmp_path: Path) -> None:
    """`run_turn` gives a Turn: its text pieces as they come, then its Answer (usage and
    timings) and whole text."""
    make_repo(tmp_path / "r", FILES)
    session = Session(tmp_path / "r", config.load(tmp_path / "r"),
                      ScriptedProvider(FakeBackend(["It returns one."])))
    turn = session.run_turn(TurnRequest("What?", 32), None, no_progress)
    pieces = list(turn)
    assert len(pieces) > 1 and "".join(pieces) == "It returns one."
    answer = turn.answer()
    assert answer.text == turn.text() == "It returns one."
    assert answer.generated_tokens > 0 and answer.prompt_tokens > answer.generated_tokens
    assert answer.prefix_tokens > 0 and answer.question_tokens > 0
    assert list(turn) == [] and turn.answer() is answer  # read once; the model asked once


def test_a_turn_read_only_for_its_answer_runs_whole(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", FILES)
    fake = FakeBackend(["one two three"])
    session = Session(tmp_path / "r", config.load(tmp_path / "r"), ScriptedProvider(fake))
    assert session.run_turn(TurnRequest("q?", 32), None, no_progress).text() == "one two three"
    assert len(fake.prompts) == 1


def test_closing_a_turn_cancels_it_and_leaves_no_answer(tmp_path: Path) -> None:
    session, fake = _long_answer_first(tmp_path)
    turn = session.run_turn(TurnRequest("A long one?", 1024), None, no_progress)
    reading = iter(turn)
    assert next(reading) == "w0"
    turn.close()  # while it is still being read
    assert list(reading) == []
    with pytest.raises(ValueError, match="without an answer"):
        turn.answer()
    assert _answers_again(session)
    assert len(fake.prompts) == 2
