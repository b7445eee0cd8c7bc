"""A prompt that outgrows the loaded context gets a larger one, and the smaller model is
freed before the larger is loaded: memory never holds two, and the larger context is
planned from the memory free once the first is gone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codectx import config
from codectx.assistant.session import Answer, Session
from codectx.models.backend import ModelBackend
from codectx.models.runtime import planner
from codectx.models.runtime.local import LocalProvider
from codectx.models.runtime.placement import Machine
from tests.conftest import make_repo

pytestmark = pytest.mark.model

BIG = "".join(f"def step_{i:03}(value):\n    return value * {i} + {i % 7}\n\n\n"
              for i in range(200))


def test_a_larger_context_frees_the_smaller_model_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "repo"
    make_repo(root, {"app.py": "def greet(name):\n    return 'hi ' + name\n",
                     "notes/big.py": BIG})
    monkeypatch.setenv("CODECTX_MAX_ANSWER_TOKENS", "32")
    loaded = config.load(root, {"exclude": ["notes/"]})  # the prefix is small
    session = Session(root, loaded)
    assert isinstance(session.provider, LocalProvider)

    backends: list[ModelBackend] = []
    closed_before_each_load: list[list[bool]] = []
    load = LocalProvider._load

    def counting_load(self: LocalProvider, *args: Any, **kwargs: Any) -> ModelBackend:
        closed_before_each_load.append([b._closed for b in backends])  # type: ignore[attr-defined]
        backend = load(self, *args, **kwargs)
        backends.append(backend)
        return backend

    measured: list[int] = []
    this_machine = planner.this_machine

    def counting_machine() -> Machine:
        measured.append(1)
        return this_machine()

    monkeypatch.setattr(LocalProvider, "_load", counting_load)
    monkeypatch.setattr(planner, "this_machine", counting_machine)

    *_, first = session.ask("What does greet return?")
    assert isinstance(first, Answer)
    small = session.context_window
    assert small is not None
    machines_before = len(measured)

    # The whole big file, pinned, does not fit the first context.
    *_, second = session.ask("Which step returns value * 150 + 3?", pinned=["notes/big.py"])
    assert isinstance(second, Answer)
    assert second.stop_reason in ("stop", "length"), second
    assert session.context_window is not None and session.context_window > small
    assert len(backends) == 2
    assert closed_before_each_load == [[], [True]]  # the first was freed before the second
    assert not backends[1]._closed  # type: ignore[attr-defined]
    assert len(measured) > machines_before  # free memory measured again after freeing
