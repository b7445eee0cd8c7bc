"""The speed model measured with the embedded model, and used by a real session."""

from __future__ import annotations

from pathlib import Path

import pytest

from codectx import config
from codectx.assistant.chat import Chat
from codectx.assistant.commands import tokens_text
from codectx.assistant.session import Answer, Session
from codectx.models.runtime import tuning
from tests.conftest import copy_fixture

pytestmark = pytest.mark.model


def test_a_session_measures_once_then_sizes_and_times_its_turns(
        tmp_path: Path, isolated_env: Path, quick_tuning: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    for target in ("FIRST_ANSWER", "QUESTION", "EDIT"):  # the defaults, as a user has them
        monkeypatch.delenv(f"CODECTX_{target}_SECONDS")
    monkeypatch.setenv("CODECTX_THREADS", "1")
    root = copy_fixture("python", tmp_path / "repo")
    stages: list[str] = []
    session = Session(root, config.load(root))
    *_, answer = session.ask("What does Engine.run return? One line.",
                             progress=lambda stage, done, total: stages.append(stage))
    assert isinstance(answer, Answer)
    assert "speed" in stages and stages.index("tune") < stages.index("speed")
    speed = session.provider.speed()
    assert speed is not None and speed.measured and "over" in speed.source
    # Prefill is per token cheaper than generation, and deeper tokens cost no less.
    assert speed.prefill.at(1000) < speed.generate.at(1000)
    assert speed.prefill.slope >= 0 and speed.generate.slope >= 0
    sizes = session.sizes()
    assert sizes.by_time and sizes.prefix_alone <= session.repository_budget()
    assert answer.expected_s is not None and answer.expected_s > 0
    chat = Chat(session)
    chat.last_answer = answer
    assert "speed model expected" in tokens_text(chat)

    def no_measuring(*args: object, **kwargs: object) -> None:
        raise AssertionError("measured again")

    monkeypatch.setattr(tuning, "measure_speed", no_measuring)
    again = Session(root, config.load(root))  # a new process: the measurement is kept
    assert again.provider.speed() == speed
