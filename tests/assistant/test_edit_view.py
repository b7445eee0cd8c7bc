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


class Bytes:
    """Counts as the fake backend tokenizes: one token per byte."""

    name = "bytes"
    exact = True

    def count(self, text: str) -> int:
        return len(text.encode("utf-8"))


def crowded(root: Path, fmt: str) -> tuple[EditProposal, FakeBackend, str, str]:
    """A repository that fills the prefix's room, an edit to a large file of it, and a
    question after it; with the prefixes of the edit and of the question."""
    files = {f"pkg/m{i:02}.py": f"def f{i}(x):\n" + "    x += 1\n" * 90 + "    return x\n"
             for i in range(30)}
    make_repo(root, {**files, "big.py": LARGE})
    reply = ("big.py\n```python\ndef helper_07(value):\n    return value * 70\n```\n"
             if fmt == "definitions" else
             "big.py\n<<<<<<< SEARCH\n    return value + 7\n=======\n    return value * 70\n"
             ">>>>>>> REPLACE\n")
    backend = FakeBackend([reply, "an answer"], context_window=len(LARGE) + 30_000)
    session = Session(root, config.load(root), ScriptedProvider(backend, counter=Bytes()))
    *_, proposal = session.edit("make helper_07 return value * 70", files=["big.py"], fmt=fmt)
    assert isinstance(proposal, EditProposal)
    list(session.ask("what does f3 do?"))
    asked = bytes(backend.prompts[1].prefix).decode()
    return proposal, backend, bytes(backend.prompts[0].prefix).decode(), asked


def test_the_prefix_yields_room_to_a_file_shown_whole(tmp_path: Path) -> None:
    proposal, backend, prefix, asked = crowded(tmp_path / "r", "search-replace")
    assert proposal.plan.ok, proposal.problems
    prompt = backend.prompts[0]
    assert len(prompt.tokens) + backend.params[0].max_tokens <= backend.context_window
    assert "return value + 8" in bytes(prompt.suffix).decode()  # the file, whole
    whole = "    x += 1\n" * 90
    assert prefix.count(whole) < asked.count(whole)  # other files, at less detail


def test_a_large_file_is_shown_in_part_where_the_prefix_leaves_too_little(
        tmp_path: Path) -> None:
    proposal, backend, prefix, asked = crowded(tmp_path / "r", "definitions")
    assert proposal.plan.ok, proposal.problems
    sent = bytes(backend.prompts[0].suffix).decode()
    assert "here are its imports" in sent and "return value + 8" not in sent
    assert prefix == asked  # the prefix a question has: its cells are reused


def test_a_file_that_gets_new_code_is_shown_without_code_to_copy(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"big.py": LARGE})
    added = edit_view(tmp_path / "r", ["big.py"], "add a function `triple(value)` to big.py",
                      "definitions", None, EstimateCounter())
    assert added.partial == ("big.py",) and "gets new code (triple)" in added.text
    assert "def helper_" not in added.text and added.need == 0
    # Naming nothing of it and adding nothing, a file that fits is shown whole.
    plain = edit_view(tmp_path / "r", ["big.py"], "make the helpers faster", "definitions",
                      None, EstimateCounter())
    assert plain.partial == () and "return value + 8" in plain.text


def test_a_class_that_gets_a_new_method_is_shown_as_its_header(tmp_path: Path) -> None:
    methods = "".join(f"    def step_{i:02}(self):\n        return {i}\n\n" for i in range(30))
    source = f'class Ledger:\n    """Keeps the totals."""\n\n{methods}'
    make_repo(tmp_path / "r", {"ledger.py": source})
    view = edit_view(tmp_path / "r", ["ledger.py"],
                     "add a method `bench_answer(self)` to the class `Ledger`", "definitions",
                     None, EstimateCounter())
    assert view.partial == ("ledger.py",)
    assert 'class Ledger:\n    """Keeps the totals."""' in view.text  # its header, indented
    assert "return 7" not in view.text  # not its body, which a small model would copy
    named = edit_view(tmp_path / "r", ["ledger.py"], "make `step_07` return 70",
                      "definitions", None, EstimateCounter())
    assert "    def step_07(self):\n        return 7" in named.text
