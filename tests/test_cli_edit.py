"""`codectx edit` and `codectx undo` from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from codectx.cli import main
from tests.conftest import make_repo
from tests.support.fake import FakeBackend

APP = "def greet(name):\n    return 'hi ' + name\n"
GOOD = ("app.py\n<<<<<<< SEARCH\n    return 'hi ' + name\n=======\n    return 'hello ' + name\n"
        ">>>>>>> REPLACE\n")


def edit(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["edit", "say hello", str(root), *args])
    return result.exit_code, result.stdout, result.stderr


def test_dry_run_shows_the_diff_and_writes_nothing(tmp_path: Path,
                                                   scripted: FakeBackend) -> None:
    make_repo(tmp_path / "r", {"app.py": APP})
    scripted.replies.append(GOOD)
    code, out, err = edit(tmp_path / "r", "--dry-run")
    assert code == 0 and "+    return 'hello ' + name" in out and "not applied" in err
    assert (tmp_path / "r" / "app.py").read_text() == APP


def test_without_a_terminal_it_does_not_apply_unless_told(tmp_path: Path,
                                                          scripted: FakeBackend) -> None:
    make_repo(tmp_path / "r", {"app.py": APP})
    scripted.replies.append(GOOD)
    code, _, err = edit(tmp_path / "r")
    assert code == 0 and "use --apply" in err
    assert (tmp_path / "r" / "app.py").read_text() == APP


def test_apply_json_and_undo(tmp_path: Path, scripted: FakeBackend) -> None:
    make_repo(tmp_path / "r", {"app.py": APP})
    scripted.replies.append(GOOD)
    code, out, _ = edit(tmp_path / "r", "--apply", "--json")
    report = json.loads(out)
    assert code == 0 and report["status"] == "applied" and report["attempts"] == 1
    assert report["files"][0]["path"] == "app.py" and report["files"][0]["action"] == "modify"
    assert "'hello '" in (tmp_path / "r" / "app.py").read_text()
    undo = CliRunner().invoke(main, ["undo", str(tmp_path / "r")])
    assert undo.exit_code == 0 and "restored 1 file(s): app.py" in undo.stderr
    assert (tmp_path / "r" / "app.py").read_text() == APP
    again = CliRunner().invoke(main, ["undo", str(tmp_path / "r")])
    assert again.exit_code == 2 and "nothing to undo" in again.stderr
    missing = CliRunner().invoke(main, ["undo", str(tmp_path / "gone")])
    assert missing.exit_code == 2 and "no such directory" in missing.stderr


def test_a_reply_that_never_applies_fails_and_writes_nothing(tmp_path: Path,
                                                             scripted: FakeBackend) -> None:
    make_repo(tmp_path / "r", {"app.py": APP})
    scripted.replies.extend(["../evil.py\n<<<<<<< SEARCH\n=======\nx\n>>>>>>> REPLACE\n"] * 2)
    code, out, _ = edit(tmp_path / "r", "--apply", "--json", "--candidates", "1")
    report = json.loads(out)
    assert code == 1 and report["status"] == "failed" and report["attempts"] == 2
    assert "leads outside the repository" in report["errors"][0]
    assert not (tmp_path / "evil.py").exists()
    # Why, in the JSON: both replies, and the last attempt's tokens and times.
    assert report["replies"] == ["../evil.py\n<<<<<<< SEARCH\n=======\nx\n>>>>>>> REPLACE\n"] * 2
    last = report["last_attempt"]
    assert last["prompt_tokens"] > 0 and last["total_s"] >= 0
    assert last["evaluated"]["shown"] == 0 and last["evaluated"]["reply"] > 0


@pytest.mark.parametrize("command", ["edit", "ask"])
def test_an_empty_instruction_or_question_is_refused_before_the_model(
        tmp_path: Path, scripted: FakeBackend, command: str) -> None:
    make_repo(tmp_path / "r", {"app.py": APP})
    result = CliRunner().invoke(main, [command, "  ", str(tmp_path / "r")])
    assert result.exit_code == 2 and "it is empty" in result.stderr
    assert "Traceback" not in result.stderr
    assert scripted.prompts == []  # the model was never asked
    assert (tmp_path / "r" / "app.py").read_text() == APP


def test_commit_with_a_message_from_the_model(tmp_path: Path, scripted: FakeBackend) -> None:
    repo = make_repo(tmp_path / "r", {"app.py": APP})
    scripted.replies.extend([GOOD, "Greet with hello\n\nIt is friendlier."])
    code, out, _ = edit(tmp_path / "r", "--apply", "--commit", "--json")
    assert code == 0 and json.loads(out)["status"] == "applied"
    assert repo.head.commit.message == "Greet with hello\n\nIt is friendlier.\n"
    assert list(repo.head.commit.stats.files) == ["app.py"]


def test_commit_outside_git_is_refused_before_anything_is_written(
    tmp_path: Path, scripted: FakeBackend
) -> None:
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "app.py").write_text(APP)
    scripted.replies.append(GOOD)
    code, _, err = edit(tmp_path / "plain", "--apply", "--commit")
    assert code == 2 and "not in a git repository" in err
    assert (tmp_path / "plain" / "app.py").read_text() == APP


@pytest.mark.model
def test_the_embedded_model_end_to_end(tmp_path: Path) -> None:
    """The real model may or may not manage; either way the pipeline must hold."""
    make_repo(tmp_path / "r", {"greet.py": APP, "main.py": "from greet import greet\n"
                                                           "print(greet('you'))\n"})
    proc = subprocess.run(
        [sys.executable, "-m", "codectx", "edit", "In greet.py, make greet return 'hello ' + "
         "name instead of 'hi ' + name.", str(tmp_path / "r"), "--apply", "--json"],
        capture_output=True, text=True, env={**os.environ, "CODECTX_MAX_ANSWER_TOKENS": "200"})
    report = json.loads(proc.stdout)
    root = tmp_path / "r"
    assert report["status"] in ("applied", "failed"), proc.stderr
    if report["status"] == "applied":
        assert proc.returncode == 0 and report["files"]
        for change in report["files"]:  # what the report says is what happened
            assert (root / change["path"]).exists() == (change["action"] != "delete")
        undo = subprocess.run([sys.executable, "-m", "codectx", "undo", str(root)],
                              capture_output=True, text=True)
        assert undo.returncode == 0, undo.stderr
    else:
        assert proc.returncode == 1 and report["errors"]
    # Applied and undone, or refused: the repository is as it was.
    assert (root / "greet.py").read_text() == APP
    assert sorted(p.name for p in root.iterdir() if p.name != ".git") == ["greet.py", "main.py"]
