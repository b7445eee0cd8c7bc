"""Parsing and planning edits from a table of realistic model replies."""

from __future__ import annotations

from pathlib import Path

import pytest

from codectx.assistant.edits.guard import Request, plan_reply
from codectx.assistant.edits.parse import parse_reply
from codectx.assistant.edits.plan import plan_edits
from tests.assistant.edit_cases import CASES, Case


def outcome(case: Case, root: Path) -> dict[str, str | None] | str:
    """The files after applying the reply, or the error text that refused it."""
    result, _ = planned(case, root)
    return result


def planned(case: Case, root: Path) -> tuple[dict[str, str | None] | str, tuple[str, ...]]:
    """`outcome`, and the notes of the plan."""
    if case.instruction is not None or case.fmt is not None:
        # In a format, or held to the request, as editing.edit does
        for path, text in case.files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_bytes(text.encode())
        request = Request(case.instruction) if case.instruction is not None else None
        plan, problems = plan_reply(case.reply, root, case.fmt or "whole", request)
        return ({c.path: c.after for c in plan.changes} if plan.ok
                else "; ".join(problems)), plan.notes
    parsed = parse_reply(case.reply)
    if parsed.errors:
        return "; ".join(parsed.errors), ()
    if not parsed.edits:
        return "the reply holds no edits", ()
    for path, text in case.files.items():  # real files: planning looks at the disk too
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(text.encode())
    plan = plan_edits(parsed.edits, root)
    if not plan.ok:
        return "; ".join(f.describe() for f in plan.failures), ()
    return {c.path: c.after for c in plan.changes}, plan.notes


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 40
    assert len([c for c in CASES if not c.recoverable]) >= 10


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Case, tmp_path: Path) -> None:
    result, notes = planned(case, tmp_path)
    if case.recoverable:
        assert result == case.after
        assert notes == case.notes
    else:
        assert isinstance(result, str) and case.error is not None
        assert case.error in result


def test_a_failure_says_what_it_found_nearby(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == "matches nowhere")
    result = outcome(case, tmp_path)
    assert isinstance(result, str) and "Did you mean these lines?" in result


def test_a_symlink_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "repo"
    root.mkdir()
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "link.py").symlink_to(outside / "target.py")
    for path in ("escape/new.py", "link.py"):
        parsed = parse_reply(f"{path}\n<<<<<<< SEARCH\n=======\nx = 1\n>>>>>>> REPLACE\n")
        plan = plan_edits(parsed.edits, root)
        assert not plan.ok
        assert "a symlink on the way leads outside" in plan.failures[0].reason
