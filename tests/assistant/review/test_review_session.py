"""reviewing.review with a scripted model: what the model is shown, and what comes back."""

from __future__ import annotations

from pathlib import Path

from codectx import config
from codectx.assistant.review import change as changes
from codectx.assistant.session import Session
from tests.conftest import make_repo, reviewed
from tests.support.fake import FakeBackend, ScriptedProvider

APP = "def total(xs):\n    return sum(xs)\n"


def test_staged_review_shows_the_model_the_staged_content_only(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"app.py": APP, "util.py": "K = 1\n"})
    root = tmp_path / "r"
    (root / "app.py").write_text(APP + "\ndef mean(xs):\n    return total(xs) / len(xs)\n")
    repo.index.add(["app.py"])
    (root / "app.py").write_text(APP + "\ndef mean(xs):\n    return 'WORK TREE ONLY'\n")
    backend = FakeBackend(["app.py:5: error: empty list divides by zero\napp.py:1: note: old"])
    session = Session(root, config.load(root), ScriptedProvider(backend))
    result = reviewed(session, changes.staged(root))
    shown = bytes(backend.prompts[-1].tokens).decode()
    assert "WORK TREE ONLY" not in shown
    assert shown.count("return total(xs) / len(xs)") == 2  # in the repository and in the diff
    assert "+5   |    return total(xs) / len(xs)" in shown
    assert [(f.path, f.line, f.severity) for f in result.findings] == [("app.py", 5, "error")]
    assert len(result.dropped) == 1 and any("left out" in n for n in result.notes)


def test_a_second_review_reuses_the_repository_prefix(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"app.py": APP, "big.py": "X = 1\n" * 200})
    (tmp_path / "r" / "app.py").write_text(APP + "# more\n")
    repo.index.add(["app.py"])
    backend = FakeBackend(["no findings", "no findings"])
    session = Session(tmp_path / "r", config.load(tmp_path / "r"), ScriptedProvider(backend))
    reviewed(session, changes.staged(tmp_path / "r"))
    second = reviewed(session, changes.staged(tmp_path / "r"))
    assert second.answer is not None
    assert second.answer.reused_tokens == second.answer.prompt_tokens  # all of it
    assert second.findings == []


def test_nothing_to_review_asks_no_model(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"app.py": APP, "img.bin": b"\0\1"})
    backend = FakeBackend(["unused"])
    session = Session(tmp_path / "r", config.load(tmp_path / "r"), ScriptedProvider(backend))
    empty = reviewed(session, changes.staged(tmp_path / "r"))
    assert empty.answer is None and empty.notes == ("nothing to review: there are no changes",)
    (tmp_path / "r" / "img.bin").write_bytes(b"\0\2")
    repo.index.add(["img.bin"])
    binary = reviewed(session, changes.staged(tmp_path / "r"))
    assert binary.answer is None and "only binary or deleted" in binary.notes[0]
    assert backend.prompts == []
