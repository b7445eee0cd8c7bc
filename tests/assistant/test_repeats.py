"""A reply that writes back, unchanged, what it was asked to change: the retry shows that
definition as it is now and puts the change to make last."""

from __future__ import annotations

from pathlib import Path

from codectx.assistant.edits.repeats import unchanged_targets
from codectx.assistant.session import EditProposal
from tests.assistant.test_edit_flow import propose
from tests.conftest import make_repo
from tests.support.fake import FakeBackend

TEXT = '''"""Text helpers."""

import os


def join_lines(lines):
    """The lines as one text."""
    return "\\n".join(lines)


class Report:
    def render(self, rows):
        return join_lines(str(r) for r in rows)

    def title(self):
        return "report"
'''
ASK = "Make `join_lines` join the lines with os.linesep instead of a newline"
# What the embedded model wrote, twice, on a real project: the function as it was.
SAME = ("text.py\n```python\ndef join_lines(lines):\n    \"\"\"The lines as one text.\"\"\"\n"
        "    return \"\\n\".join(lines)\n```\n")
CHANGED = SAME.replace('"\\n".join', "os.linesep.join")


def edit(root: Path, replies: list[str], fmt: str = "definitions") -> tuple[EditProposal,
                                                                          FakeBackend]:
    """One reply per request: the retry is what is tested."""
    return propose(root, replies, ASK, files=["text.py"], fmt=fmt, candidates=1)


def test_the_retry_shows_the_definition_as_it_is_and_the_change_last(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"text.py": TEXT})
    proposal, backend = edit(tmp_path / "r", [SAME, CHANGED])
    assert proposal.plan.ok and proposal.attempts == 2
    assert "os.linesep.join(lines)" in (proposal.plan.changes[0].after or "")
    retry = bytes(backend.prompts[1].suffix).decode()
    assert "wrote `join_lines` exactly as it already is: nothing changed" in retry
    shown = retry.split("text.py now:\n```python\n")[1].split("```")[0]
    assert 'def join_lines(lines):\n    """The lines as one text."""\n' in shown
    assert "class Report" not in shown  # only what was to change
    asked = retry.index(f"Write `join_lines` again with this change made: {ASK}")
    assert asked > retry.index("text.py now:")  # the change comes last


def test_a_search_replace_that_replaces_a_line_by_itself(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"text.py": TEXT})
    line = '    return "\\n".join(lines)\n'
    same = f"text.py\n<<<<<<< SEARCH\n{line}=======\n{line}>>>>>>> REPLACE\n"
    fixed = same.replace('=======\n    return "\\n"', "=======\n    return os.linesep")
    proposal, backend = edit(tmp_path / "r", [same, fixed], fmt="search-replace")
    assert proposal.plan.ok and proposal.attempts == 2
    retry = bytes(backend.prompts[1].suffix).decode()
    assert "wrote `join_lines` exactly as it already is" in retry  # named by the instruction
    assert "Copy SEARCH lines exactly" in retry


def test_twice_unchanged_is_refused_with_the_reason(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"text.py": TEXT})
    proposal, _ = edit(tmp_path / "r", [SAME, SAME])
    assert not proposal.plan.ok and proposal.attempts == 2
    assert "repeats code that is already there" in proposal.problems[0]


def test_targets_are_what_the_reply_wrote_else_what_the_instruction_names(
        tmp_path: Path) -> None:
    root = tmp_path / "r"
    make_repo(root, {"text.py": TEXT, "notes.txt": "join_lines\n"})
    (written,) = unchanged_targets(root, ["text.py"], "tidy it", SAME)
    assert written.names == ("join_lines",) and "import os" in written.code
    (method,) = unchanged_targets(root, ["text.py"], "make `render` skip empty rows", "")
    assert method.names == ("render",) and "class Report" in method.code
    assert "def title" not in method.code  # the class's other members are left out
    assert unchanged_targets(root, ["text.py"], "make it faster", "") == []
    assert unchanged_targets(root, ["notes.txt"], "change `join_lines`", "") == []
