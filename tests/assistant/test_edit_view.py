"""An edit shows a large file as the part it needs; the reply merges back by name and
leaves what was not shown byte for byte."""

from __future__ import annotations

from pathlib import Path

from codectx import config
from codectx.assistant.edits.view import edit_view
from codectx.assistant.session import EditProposal, Session
from codectx.models.fake import FakeBackend, ScriptedProvider
from codectx.models.speed import Line, Speed
from codectx.tokens import EstimateCounter
from tests.conftest import make_repo

BODY = "".join(f"    total_{j} = value * {j}\n" for j in range(12))
LARGE = "import math\n\n\n" + "".join(
    f"def helper_{i:02}(value):\n    \"\"\"Helper {i}.\"\"\"\n{BODY}    return value + {i}\n\n\n"
    for i in range(40)).rstrip("\n") + "\n"
SLOW = Speed(Line(1 / 150, 1e-6), Line(1 / 30, 1e-6), "slow")


def test_a_large_file_shows_the_named_definition_and_an_outline(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"big.py": LARGE, "small.py": "def tiny():\n    return 1\n"})
    view = edit_view(tmp_path / "r", ["big.py", "small.py"], "make helper_07 return value",
                     "definitions", 1200, EstimateCounter())
    assert view.partial == ("big.py",)
    assert "    return value + 7\n" in view.text  # the named definition, whole
    assert "return value + 8" not in view.text  # another one's body, not shown
    assert "def helper_31(value)" in view.text  # in the outline
    assert "import math" in view.text
    assert "The current content of small.py" in view.text  # a small file stays whole
    whole = edit_view(tmp_path / "r", ["big.py"], "make helper_07 return value",
                      "search-replace", 1200, EstimateCounter())
    assert whole.partial == () and "return value + 8" in whole.text
    assert edit_view(tmp_path / "r", ["big.py"], "x", "definitions", None,
                     EstimateCounter()).partial == ()


def test_an_edit_on_a_slow_machine_sends_the_view_and_merges_back(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"big.py": LARGE})
    reply = "big.py\n```python\ndef helper_07(value):\n    return value * 70\n```\n"
    backend = FakeBackend([reply], context_window=200_000)
    loaded = config.load(tmp_path / "r", {"first_answer_seconds": 300,
                                          "question_seconds": 30, "edit_seconds": 120})
    session = Session(tmp_path / "r", loaded, ScriptedProvider(backend, speed=SLOW))
    *_, proposal = session.edit("make helper_07 return value * 70", files=["big.py"],
                                fmt="definitions")
    assert isinstance(proposal, EditProposal)
    assert proposal.plan.ok, proposal.problems
    sent = bytes(backend.prompts[0].suffix).decode()
    assert "helper_07" in sent and "return value + 8" not in sent
    assert proposal.answer.shown_tokens < len(LARGE) // 2  # bytes are the fake's tokens
    session.apply(proposal.plan)
    after = (tmp_path / "r" / "big.py").read_text()
    assert "def helper_07(value):\n    return value * 70\n" in after
    before_07, _, rest = LARGE.partition("def helper_07(value):")
    assert after.startswith(before_07)  # everything before it, untouched
    assert after.endswith(rest[rest.index("def helper_08"):])  # and everything after it
