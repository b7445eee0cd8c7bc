"""Checks with the embedded model: a change whose check fails goes back with the check's
output, and the model's second change is checked again and offered."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from codectx import config
from codectx.assistant import editing
from codectx.assistant.session import EditProposal, Session
from tests.conftest import make_repo

pytestmark = pytest.mark.model

CALC = "def double(x):\n    return x * 2\n"
TEST = "from calc import double\n\n\ndef test_double():\n    assert double(3) == 6\n"


def test_a_failed_check_goes_back_to_the_model_and_its_retry_is_checked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "r"
    make_repo(root, {"calc.py": CALC, "tests/test_calc.py": TEST})
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    loaded = config.load(root)
    assert loaded.trust is not None
    config.trust_store().grant(loaded.trust)
    # The check fails the first time whatever the model wrote (a reviewer who says no
    # once), then passes.
    once = tmp_path / "asked-once"
    gate = (f"test -f {once} || {{ touch {once}; echo 'error: triple must be documented: "
            "add a docstring to it'; exit 1; }")
    session = Session(root, config.load(root, {"check": {"python": gate}}))
    found = editing.checks_for(session, ["calc.py"])
    assert [c.name for c in found.checks] == ["check (command line)"]
    *_, proposal = editing.edit(session, "Add a function triple(x) to calc.py that returns x * 3.",
                                files=["calc.py"], fmt="definitions")
    assert isinstance(proposal, EditProposal)
    first = [c for c in proposal.checks if c.attempt == 1]
    assert [c.status for c in first] == ["failed"], (proposal.problems, proposal.replies)
    assert "triple must be documented" in first[0].output
    assert proposal.attempts >= 2 and proposal.plan.ok, (proposal.problems, proposal.replies)
    assert [c.status for c in proposal.plan_checks] == ["passed"]
    assert (root / "calc.py").read_text() == CALC  # every trial put back
    assert "triple" in (proposal.plan.changes[0].after or "")
