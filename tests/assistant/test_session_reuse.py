"""Segment-level reuse at the Session level, without the model: the scripted backend keeps
unchanged spans wherever they stand under shift reuse, and only a common prefix when the
prompt is exact or reuse is by prefix."""

from __future__ import annotations

from pathlib import Path

from codectx import config
from codectx.assistant.session import Session
from tests.conftest import make_repo
from tests.support.fake import FakeBackend, ScriptedProvider

FILES = {f"mod_{name}.py": f"def {name}():\n    return '{name}' * 3\n" * 8
         for name in ("alpha", "beta", "gamma", "delta")}


def change_first_file(root: Path, session: Session) -> tuple[str, list[str]]:
    """Change the first file of the prefix; its path and the paths after it."""
    paths = [s.path for s in session.index().segments if s.path]
    first = paths[0]
    (root / first).write_text((root / first).read_text().replace("* 3", "* 4"))
    return first, paths[1:]


def evaluated_after_a_change(tmp_path: Path, reuse: str,
                             cache_reuse: str = "shift") -> tuple[str, list[str], str, int]:
    root = tmp_path / "r"
    make_repo(root, FILES)
    fake = FakeBackend(reuse=reuse)
    session = Session(root, config.load(root, {"cache_reuse": cache_reuse}),
                      ScriptedProvider(fake))
    session.warm()
    changed, later = change_first_file(root, session)
    answer = session.warm()
    return bytes(fake.evaluated[-1]).decode(), later, changed, answer.reused_tokens


def test_shift_reuse_evaluates_only_the_changed_file(tmp_path: Path) -> None:
    text, later, changed, reused = evaluated_after_a_change(tmp_path, "shift")
    assert "* 4" in text and changed in text
    assert not any(path in text for path in later), text[:300]
    assert reused > 3 * len(text)  # the three later files' cells were kept


def test_prefix_reuse_evaluates_everything_after_the_change(tmp_path: Path) -> None:
    text, later, _, reused = evaluated_after_a_change(tmp_path, "prefix")
    assert "* 4" in text and all(path in text for path in later)
    assert reused < len(text)  # only what comes before the first change


def test_an_exact_prompt_keeps_only_the_common_prefix(tmp_path: Path) -> None:
    text, later, _, _ = evaluated_after_a_change(tmp_path, "shift", cache_reuse="prefix")
    assert all(path in text for path in later)  # the prompt was marked exact
