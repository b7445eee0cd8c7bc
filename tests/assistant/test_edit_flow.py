"""Edits end to end with a scripted model and real git repositories."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from codectx import config
from codectx.assistant import editing
from codectx.assistant.edits.git import commit_message_from, commit_paths
from codectx.assistant.edits.journal import StaleEdit, UndoError, apply_plan, undo_last
from codectx.assistant.edits.parse import parse_reply
from codectx.assistant.edits.plan import plan_edits
from codectx.assistant.session import EditProposal, Session
from codectx.errors import CodectxError
from tests.conftest import make_repo, write_tree
from tests.support.fake import FakeBackend, ScriptedProvider

APP = "def greet(name):\n    return 'hi ' + name\n"
GOOD = ("app.py\n<<<<<<< SEARCH\n    return 'hi ' + name\n=======\n    return 'hello ' + name\n"
        ">>>>>>> REPLACE\n")
BAD = ("app.py\n<<<<<<< SEARCH\n    raise NotImplementedError(name)\n=======\n    return 'yo'\n"
       ">>>>>>> REPLACE\n")


def propose(root: Path, replies: list[str], instruction: str = "Say hello instead of hi",
            **options: object) -> tuple[EditProposal, FakeBackend]:
    """The proposal a scripted model's `replies` make for `instruction` (`options`: those of
    `editing.edit`), and the backend, which kept every prompt."""
    backend = FakeBackend(replies)
    session = Session(root, config.load(root), ScriptedProvider(backend))
    *_, last = editing.edit(session, instruction, **options)  # type: ignore[arg-type]
    assert isinstance(last, EditProposal)
    return last, backend


def test_a_good_reply_is_planned_and_nothing_is_written(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"app.py": APP})
    proposal, backend = propose(tmp_path / "r", [GOOD])
    assert proposal.plan.ok and proposal.attempts == 1
    assert proposal.plan.changes[0].after == APP.replace("'hi '", "'hello '")
    assert (tmp_path / "r" / "app.py").read_text() == APP
    suffix = bytes(backend.prompts[0].suffix).decode()
    assert "<<<<<<< SEARCH" in suffix and suffix.rstrip().endswith("assistant")


def test_a_failed_reply_goes_back_once_with_what_failed(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"app.py": APP})
    proposal, backend = propose(tmp_path / "r", [BAD, GOOD], candidates=1)
    assert proposal.plan.ok and proposal.attempts == 2
    retry = bytes(backend.prompts[1].suffix).decode()
    assert "could not be applied" in retry and "Did you mean these lines?" in retry
    quoted = retry.split("Did you mean these lines?\n")[1].split("\n")[0]
    assert quoted and quoted in APP  # real lines of the file, to copy from


def test_two_failures_write_nothing_and_say_why(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"app.py": APP})
    proposal, _ = propose(tmp_path / "r", [BAD, "Sorry, I cannot do that."], candidates=1)
    assert not proposal.plan.ok and proposal.attempts == 2
    assert proposal.problems == ("the reply holds no edits in the requested format",)


def test_edits_that_change_nothing_are_a_failure_with_a_reason(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"app.py": APP})
    line = "    return 'hi ' + name\n"
    same = f"app.py\n<<<<<<< SEARCH\n{line}=======\n{line}>>>>>>> REPLACE\n"
    proposal, _ = propose(tmp_path / "r", [same, same], candidates=1)
    assert not proposal.plan.ok
    assert proposal.problems == ("the edits leave every file as it was",)


def test_quoted_code_under_a_heading_is_not_a_whole_file_in_search_replace_mode(
    tmp_path: Path,
) -> None:
    make_repo(tmp_path / "r", {"app.py": APP})
    reply = "### app.py\n\nFor example:\n```python\nprint(greet('x'))\n```\n" + GOOD
    proposal, _ = propose(tmp_path / "r", [reply])
    assert proposal.plan.ok
    assert proposal.plan.changes[0].after == APP.replace("'hi '", "'hello '")


def plan_for(root: Path, reply: str):  # type: ignore[no-untyped-def]
    plan = plan_edits(parse_reply(reply).edits, root)
    assert plan.ok, plan.failures
    return plan


def test_apply_and_undo_keep_uncommitted_work_byte_for_byte(tmp_path: Path) -> None:
    root = tmp_path / "r"
    make_repo(root, {"app.py": APP, "old.py": "OLD = 1\n", "other.py": "x = 1\n"})
    # An uncommitted change with a CRLF line and a byte that is not UTF-8 must survive.
    (root / "app.py").write_bytes(APP.encode() + b"# my note\r\n\xff\n")
    before = {p: (root / p).read_bytes() for p in ("app.py", "old.py", "other.py")}
    plan = plan_for(root, GOOD + "\nnew/mod.py\n<<<<<<< SEARCH\n=======\nN = 1\n"
                    ">>>>>>> REPLACE\nDELETE old.py\n")
    journal = tmp_path / "journal"
    apply_plan(plan, root, journal)
    assert b"'hello '" in (root / "app.py").read_bytes()
    assert (root / "app.py").read_bytes().endswith(b"# my note\r\n\xff\n")
    assert (root / "new" / "mod.py").read_text() == "N = 1\n"
    assert not (root / "old.py").exists()
    assert undo_last(root, journal) == ["app.py", "new/mod.py", "old.py"]
    assert {p: (root / p).read_bytes() for p in before} == before
    assert not (root / "new").exists()  # the directory the edit made is gone too
    with pytest.raises(UndoError, match="nothing to undo"):
        undo_last(root, journal)


def test_undo_refuses_when_the_files_changed_since(tmp_path: Path) -> None:
    root = tmp_path / "r"
    make_repo(root, {"app.py": APP})
    journal = tmp_path / "journal"
    apply_plan(plan_for(root, GOOD), root, journal)
    (root / "app.py").write_text("edited by hand\n")
    with pytest.raises(UndoError, match=r"changed since the edit: app\.py"):
        undo_last(root, journal)
    assert (root / "app.py").read_text() == "edited by hand\n"


def test_a_file_changed_after_planning_stops_the_apply(tmp_path: Path) -> None:
    root = tmp_path / "r"
    make_repo(root, {"app.py": APP})
    plan = plan_for(root, GOOD)
    (root / "app.py").write_text(APP + "# meanwhile\n")
    with pytest.raises(StaleEdit):
        apply_plan(plan, root, tmp_path / "journal")
    assert (root / "app.py").read_text() == APP + "# meanwhile\n"


def test_a_write_failing_half_way_puts_back_what_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codectx.assistant.edits import journal

    root = tmp_path / "r"
    make_repo(root, {"app.py": APP, "b.py": "B = 1\n"})
    plan = plan_for(root, GOOD + "\nb.py\n<<<<<<< SEARCH\nB = 1\n=======\nB = 2\n"
                    ">>>>>>> REPLACE\n")
    real_write = journal.put_bytes

    def disk_full_on_b(target: Path, data: bytes | None) -> None:
        if target.name == "b.py" and data == b"B = 2\n":
            raise OSError(28, "No space left on device")
        real_write(target, data)

    monkeypatch.setattr(journal, "put_bytes", disk_full_on_b)
    with pytest.raises(CodectxError, match=r"could not write b\.py: No space left.*nothing"):
        apply_plan(plan, root, tmp_path / "journal")
    assert (root / "app.py").read_text() == APP
    assert list((tmp_path / "journal").glob("*.json")) == []


def test_commit_takes_only_the_edited_files_and_leaves_the_index_alone(tmp_path: Path) -> None:
    root = tmp_path / "r"
    repo = make_repo(root, {"app.py": APP, "staged.py": "S = 1\n", "notes.txt": "n\n"})
    write_tree(root, {"staged.py": "S = 2\n", "notes.txt": "edited, unstaged\n"})
    repo.index.add(["staged.py"])
    apply_plan(plan_for(root, GOOD + "\nadded.py\n<<<<<<< SEARCH\n=======\nA = 1\n"
                                     ">>>>>>> REPLACE\n"), root, tmp_path / "journal")
    sha = commit_paths(root, ["app.py", "added.py"], "Greet with hello\n\nFriendlier.\n")
    commit_obj = repo.commit(sha)
    assert sorted(str(p) for p in commit_obj.stats.files) == ["added.py", "app.py"]
    assert commit_obj.message == "Greet with hello\n\nFriendlier.\n"
    staged = repo.git.diff("--cached", "--name-only").split()
    assert staged == ["staged.py"]  # still staged, not committed
    assert (root / "notes.txt").read_text() == "edited, unstaged\n"


def test_commit_outside_git_is_a_clear_error(tmp_path: Path) -> None:
    write_tree(tmp_path / "plain", {"a.py": "x\n"})
    with pytest.raises(CodectxError, match="not in a git repository"):
        commit_paths(tmp_path / "plain", ["a.py"], "m")


def test_undo_with_nothing_to_undo_from_the_command_line(tmp_path: Path) -> None:
    import sys

    make_repo(tmp_path / "r", {"a.py": "x\n"})
    proc = subprocess.run([sys.executable, "-m", "codectx", "undo", str(tmp_path / "r")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "nothing to undo" in proc.stderr



@pytest.mark.parametrize(("reply", "message"), [
    ("Greet with hello\n\nFriendlier.", "Greet with hello\n\nFriendlier.\n"),
    ("```\n# \"Greet with hello\"\n```", "Greet with hello\n"),
    ("x" * 100, "x" * 72 + "\n"),
    ("", "Make greet say hello\n"),  # nothing written: the instruction's first line
    ("  \n", "Make greet say hello\n"),
])
def test_a_commit_message_is_read_from_the_reply(reply: str, message: str) -> None:
    assert commit_message_from(reply, "Make greet say hello\nand wave") == message
