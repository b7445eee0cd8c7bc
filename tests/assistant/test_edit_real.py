"""Edits with the embedded model: a large file is sent as its view, not whole, and a
retry evaluates only its own message (the first attempt's cells are reused)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from codectx import config
from codectx.assistant import editing
from codectx.assistant.edits import guard
from codectx.assistant.edits.formats import retry_request
from codectx.assistant.session import EditProposal, Session
from codectx.models.runtime.speed import Line, Speed
from tests.conftest import make_repo

pytestmark = pytest.mark.model

BODY = "".join(f"    total_{j} = value * {j}\n" for j in range(10))
LARGE = "import math\n\n\n" + "".join(
    f"def helper_{i:02}(value):\n    \"\"\"Helper {i}.\"\"\"\n{BODY}    return value + {i}\n\n\n"
    for i in range(14)).rstrip("\n") + "\n"
SLOW = Speed(Line(1 / 150, 1e-6), Line(1 / 30, 1e-6), "a slow machine")
"""A stated speed, so the edit view's cap does not depend on this machine's."""


def edit(session: Session, instruction: str) -> EditProposal:
    *_, proposal = editing.edit(session, instruction, files=["big.py"], fmt="definitions")
    assert isinstance(proposal, EditProposal)
    return proposal


def test_an_edit_to_a_large_file_evaluates_its_view_not_the_file_and_applies(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "r"
    make_repo(root, {"big.py": LARGE, "main.py": "from big import helper_03\n"})
    monkeypatch.setenv("CODECTX_EDIT_SECONDS", "20")  # the view's floor: 1,024 tokens
    monkeypatch.setenv("CODECTX_MAX_ANSWER_TOKENS", "160")
    session = Session(root, config.load(root))
    monkeypatch.setattr(session.provider, "speed", lambda progress=None: SLOW)
    session.warm()
    whole = session.provider.counter().count(LARGE)
    proposal = edit(session, "In big.py, change helper_07 so that it returns value + 700.")
    answer = proposal.answer
    assert answer.shown_tokens < whole / 2, answer.shown_tokens
    # Past the warm prefix: the view, the instructions and the template, not the file.
    assert answer.evaluated_tokens < whole, (answer.evaluated_tokens, whole)
    assert proposal.plan.ok, (proposal.problems, proposal.replies)
    editing.apply(session.root, session.loaded, proposal.plan)
    after = (root / "big.py").read_text()
    names = [node.name for node in ast.parse(after).body if isinstance(node, ast.FunctionDef)]
    assert names == [f"helper_{i:02}" for i in range(14)]  # none lost, none moved
    before_07, _, rest = LARGE.partition("def helper_07(value):")
    assert after.startswith(before_07)  # what was not shown, byte for byte
    assert after.endswith(rest[rest.index("def helper_08"):])
    space: dict[str, object] = {}
    exec(compile(after, "big.py", "exec"), space)  # the test's own file
    assert space["helper_07"](1) == 701  # type: ignore[operator]


def test_a_retry_evaluates_only_its_own_message(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "r"
    make_repo(root, {"app.py": "def greet(name):\n    return 'hi ' + name\n"})
    monkeypatch.setenv("CODECTX_MAX_ANSWER_TOKENS", "120")
    session = Session(root, config.load(root))
    real = guard.plan_reply
    problem = "app.py: a refusal made by the test, so that the edit is retried"
    calls: list[int] = []

    def refuse_once(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        plan, problems = real(*args, **kwargs)
        return (plan.only(), (problem,)) if len(calls) == 1 else (plan, problems)

    monkeypatch.setattr(guard, "plan_reply", refuse_once)
    *_, proposal = editing.edit(session, "Make greet return 'hello ' + name.", files=["app.py"],
                                fmt="definitions", candidates=1)  # the retry is tested
    assert isinstance(proposal, EditProposal) and proposal.attempts == 2
    retry = proposal.answer
    message = session.provider.counter().count(retry_request([problem], "definitions"))
    # The retry's message and the chat template around it; the first request and reply
    # are the cells of the first attempt, reused.
    assert retry.evaluated_tokens <= message + 16, (retry.evaluated_tokens, message)
    assert retry.reused_tokens == retry.prompt_tokens - retry.evaluated_tokens
