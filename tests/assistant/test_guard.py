"""Replies that cannot do damage: the guard's rules, alone and through editing.edit.

The replies are the ones the embedded model wrote when asked for small edits: the
format's example copied, `DELETE` followed by the new code, a whole file holding
only the new function.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from codectx import config
from codectx.assistant import editing
from codectx.assistant.edits import guard
from codectx.assistant.edits.formats import EXAMPLE_PATH, FORMATS
from codectx.assistant.edits.parse import parse_reply
from codectx.assistant.edits.plan import plan_edits
from codectx.assistant.session import EditProposal, Session
from codectx.cli import main
from tests.conftest import make_repo, use_scripted
from tests.support.fake import FakeBackend, ScriptedProvider

STATS = ("def mean(values):\n    return sum(values) / len(values)\n\n\n"
         "def spread(values):\n    return max(values) - min(values)\n")
MEDIAN = ("def median(values):\n    ordered = sorted(values)\n"
          "    return ordered[len(ordered) // 2]\n")
ASK = "In stats.py add a function median(values) that returns the middle value"
ONLY_NEW = f"stats.py\n```python\n{MEDIAN}```\n"
WHOLE_GOOD = f"stats.py\n```python\n{STATS}\n\n{MEDIAN}```\n"
DELETE_PLUS_CODE = f"DELETE stats.py\n```python\n{MEDIAN}```\n"
EXAMPLE_COPY = FORMATS["whole"].instruction.split(
    "(the path and the names are the example's, not this repository's):\n\n")[1]


def refusals(root: Path, reply: str, request: guard.Request) -> list[str]:
    parsed = parse_reply(reply)
    assert not parsed.errors
    copied = guard.copied_example(parsed.edits)
    if copied:
        return [copied]
    plan = plan_edits(parsed.edits, root)
    assert plan.ok, plan.failures
    return guard.refusals(parsed.edits, plan.changes, request)


def test_delete_followed_by_code_is_malformed_not_a_deletion() -> None:
    parsed = parse_reply(DELETE_PLUS_CODE)
    assert parsed.edits == () and len(parsed.errors) == 1
    assert "`DELETE stats.py` is followed by code" in parsed.errors[0]
    assert [e.kind for e in parse_reply("DELETE stats.py\n").edits] == ["delete"]


def test_a_whole_file_that_drops_definitions_is_refused_naming_them(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"stats.py": STATS})
    request = guard.Request(ASK, ("stats.py",))
    assert refusals(tmp_path / "r", ONLY_NEW, request) == [
        "the reply drops `mean` and `spread` from stats.py; write the whole file, keeping "
        "everything that does not change"]
    assert refusals(tmp_path / "r", WHOLE_GOOD, request) == []
    # Definitions the instruction names may go.
    renamed = guard.Request("Replace mean and spread with median", ("stats.py",))
    assert refusals(tmp_path / "r", ONLY_NEW, renamed) == []


@pytest.mark.parametrize("instruction,allow,deleted", [
    (ASK, False, False),
    ("Remove the function spread from stats.py", False, True),  # names the file: may go
    ("Delete the old notes file", False, False),  # asks for a deletion, not of this file
    ("Tidy the repository", True, True),  # --allow-delete
])
def test_a_deletion_needs_an_instruction_that_asks_for_it(
        tmp_path: Path, instruction: str, allow: bool, deleted: bool) -> None:
    make_repo(tmp_path / "r", {"stats.py": STATS})
    found = refusals(tmp_path / "r", "DELETE stats.py\n",
                     guard.Request(instruction, allow_delete=allow))
    assert (found == []) is deleted
    if found:
        assert found[0].startswith("stats.py: the reply deletes this file")


@pytest.mark.parametrize("instruction,files,allow,created", [
    ("Add a helper for rounding", (), False, False),
    ("Add a helper for rounding in a new file", (), False, True),
    ("Put a rounding helper in util/rounding.py", (), False, True),
    ("Add a helper for rounding", ("util/rounding.py",), False, True),
    ("Add a helper for rounding", (), True, True),  # --allow-new
])
def test_a_new_file_needs_a_request_that_names_or_asks_for_it(
        tmp_path: Path, instruction: str, files: tuple[str, ...], allow: bool,
        created: bool) -> None:
    make_repo(tmp_path / "r", {"stats.py": STATS})
    reply = "util/rounding.py\n```python\ndef round2(x):\n    return round(x, 2)\n```\n"
    found = refusals(tmp_path / "r", reply, guard.Request(instruction, files, allow_new=allow))
    assert (found == []) is created


def test_the_format_s_example_copied_is_refused(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"stats.py": STATS})
    found = refusals(tmp_path / "r", EXAMPLE_COPY, guard.Request(ASK))
    assert found and "copies the format's example" in found[0]
    assert not (tmp_path / "r" / "EXAMPLE-ONLY").exists()


def test_a_refused_reply_goes_back_once_with_the_refusal(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"stats.py": STATS})
    backend = FakeBackend([ONLY_NEW, WHOLE_GOOD])
    session = Session(tmp_path / "r", config.load(tmp_path / "r"), ScriptedProvider(backend))
    *_, proposal = editing.edit(session, ASK, files=["stats.py"], fmt="whole", candidates=1)
    assert isinstance(proposal, EditProposal) and proposal.plan.ok and proposal.attempts == 2
    retry = bytes(backend.prompts[1].suffix).decode()
    assert "the reply drops `mean` and `spread` from stats.py" in retry
    assert "Give each file's path on its own line" in retry  # the whole format's terms
    assert "SEARCH" not in retry.split("could not be applied")[1]
    after = proposal.plan.changes[0].after or ""
    assert "def mean" in after and "def median" in after


def test_apply_deletes_nothing_it_was_not_asked_to(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    make_repo(tmp_path / "r", {"stats.py": STATS})
    use_scripted(monkeypatch, FakeBackend(["DELETE stats.py\n", "DELETE stats.py\n",
                                           "DELETE stats.py\n"]))
    args = ["edit", ASK, str(tmp_path / "r"), "--files", "stats.py", "--apply", "--json",
            "--candidates", "1"]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 1 and (tmp_path / "r" / "stats.py").read_text() == STATS
    assert "does not ask for it to be deleted" in json.loads(refused.stdout)["errors"][0]
    allowed = CliRunner().invoke(main, [*args, "--allow-delete"])
    assert allowed.exit_code == 0, allowed.output
    assert not (tmp_path / "r" / "stats.py").exists()


@pytest.mark.model
@pytest.mark.parametrize("fmt", ["whole", "search-replace", "definitions"])
def test_the_embedded_model_s_replies_do_no_damage(tmp_path: Path, fmt: str) -> None:
    """The issue's edit with the real model, in each format: whatever it writes, the
    proposal touches only stats.py, deletes and creates nothing, never holds the
    format's example, drops no definition, and a retry says what was wrong."""
    root = tmp_path / "r"
    make_repo(root, {"stats.py": STATS, "main.py": "from stats import mean\n\nprint(mean([1]))\n"})
    session = Session(root, config.load(root, {"max_answer_tokens": 256}))
    *_, proposal = editing.edit(session, ASK, files=["stats.py"], fmt=fmt)
    assert isinstance(proposal, EditProposal)
    assert all(EXAMPLE_PATH not in reply for reply in proposal.replies)  # the grammar's paths
    for change in proposal.plan.changes:
        assert (change.path, change.action) == ("stats.py", "modify")
        assert "def mean" in (change.after or "") and "def spread" in (change.after or "")
    assert proposal.plan.ok or proposal.problems
    if proposal.attempts == 2:  # the first reply was refused: the retry said why
        _, first = guard.plan_reply(proposal.replies[0], root, fmt,
                                    guard.Request(ASK, ("stats.py",)))
        assert first and all(problem in proposal.request for problem in first)
    assert (root / "stats.py").read_text() == STATS  # a proposal writes nothing
