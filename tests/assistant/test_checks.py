"""The project's checks on an edit: detection, running under a time limit, the trial in a
copy of the repository, the fed-back retry, and what an untrusted repository may not run."""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from codectx import config
from codectx.assistant import editing
from codectx.assistant.checks import scratch
from codectx.assistant.checks.detect import Check, checks_for, importing_tests
from codectx.assistant.checks.run import around_failure, run_check
from codectx.assistant.checks.scratch import builds_dir
from codectx.assistant.checks.trial import trial
from codectx.assistant.edits.plan import EditPlan, FileChange
from codectx.assistant.session import EditProposal, Session
from codectx.cli import main
from tests.conftest import installed_tools, make_repo, write_tree
from tests.support.fake import FakeBackend, ScriptedProvider

CALC = "def double(x):\n    return x * 2\n"
TEST = "from calc import double\n\n\ndef test_double():\n    assert double(3) == 6\n"
WRONG = ("calc.py\n<<<<<<< SEARCH\n    return x * 2\n=======\n"
         "    return 0 if x is None else x * 3\n>>>>>>> REPLACE\n")
RIGHT = ("calc.py\n<<<<<<< SEARCH\n    return x * 2\n=======\n"
         "    return 0 if x is None else x * 2\n>>>>>>> REPLACE\n")
ASK = "make double return 0 for None"


@pytest.fixture(autouse=True)
def python_with_pytest(monkeypatch: pytest.MonkeyPatch) -> None:
    """Detection takes `python3` from the PATH: this one has pytest."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


def project(root: Path, **extra: str) -> Path:
    make_repo(root, {"calc.py": CALC, "tests/test_calc.py": TEST, **extra})
    return root


def trust(root: Path) -> None:
    loaded = config.load(root)
    assert loaded.trust is not None
    config.trust_store().grant(loaded.trust)


def session(root: Path, replies: list[str], **flags: object) -> tuple[Session, FakeBackend]:
    backend = FakeBackend(replies)
    return Session(root, config.load(root, flags), ScriptedProvider(backend)), backend


def propose(root: Path, replies: list[str], **flags: object) -> tuple[EditProposal, FakeBackend]:
    chat, backend = session(root, replies, **flags)
    *_, last = editing.edit(chat, ASK)
    assert isinstance(last, EditProposal)
    return last, backend


def test_the_tests_that_import_a_changed_module_are_found(tmp_path: Path) -> None:
    root = project(tmp_path / "r", **{"tests/test_other.py": "def test_x():\n    pass\n"})
    chat, _ = session(root, [])
    assert importing_tests(["calc.py"], chat.index().files) == ["tests/test_calc.py"]
    trust(root)
    chat, _ = session(root, [])
    found = editing.checks_for(chat, ["calc.py"])
    names = [c.name for c in found.checks]
    assert names[0] == "py_compile" and "pytest" in names and not found.held_back
    pytest_check = next(c for c in found.checks if c.name == "pytest")
    assert pytest_check.argv[-1] == "./tests/test_calc.py" and pytest_check.runs_project_code


def test_a_failing_check_goes_back_once_and_the_right_change_is_applied(
        tmp_path: Path, scripted: FakeBackend) -> None:
    root = project(tmp_path / "r")
    trust(root)
    (root / "notes.txt").write_bytes(b"my own uncommitted work\r\n")
    scripted.replies.extend([WRONG, RIGHT])
    result = CliRunner().invoke(main, ["edit", ASK, str(root), "--apply", "--json"])
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["status"] == "applied"
    assert report["attempts"] == 2
    by_attempt = {(c["attempt"], c["name"]): c["status"] for c in report["checks"]}
    assert by_attempt[(1, "pytest")] == "failed" and by_attempt[(2, "pytest")] == "passed"
    assert by_attempt[(1, "py_compile")] == "passed"
    failed = next(c for c in report["checks"] if c["status"] == "failed")
    assert "assert" in failed["output_tail"] and failed["seconds"] > 0
    retry = bytes(scripted.prompts[1].suffix).decode()
    assert "`" + failed["command"] + "` failed" in retry and "assert 9 == 6" in retry
    assert (root / "calc.py").read_text() == CALC.replace("x * 2", "0 if x is None else x * 2")
    assert (root / "notes.txt").read_bytes() == b"my own uncommitted work\r\n"
    undo = CliRunner().invoke(main, ["undo", str(root)])  # only the applied change is recorded
    assert undo.exit_code == 0 and (root / "calc.py").read_text() == CALC
    assert "nothing to undo" in CliRunner().invoke(main, ["undo", str(root)]).stderr


def test_a_change_that_still_fails_is_shown_and_not_applied(tmp_path: Path,
                                                             scripted: FakeBackend) -> None:
    root = project(tmp_path / "r")
    trust(root)
    scripted.replies.extend([WRONG, WRONG])
    result = CliRunner().invoke(main, ["edit", ASK, str(root), "--apply"])
    assert result.exit_code == 1 and "fails its checks" in result.stderr
    assert "failed: " in result.stderr and "assert 9 == 6" in result.stderr
    assert "x * 3" in result.stdout  # the diff is shown
    assert (root / "calc.py").read_text() == CALC
    scripted.replies.extend([WRONG, WRONG])
    kept = CliRunner().invoke(main, ["edit", ASK, str(root), "--apply", "--keep-failed",
                                     "--json"])
    assert kept.exit_code == 0 and json.loads(kept.stdout)["status"] == "applied"
    assert "x * 3" in (root / "calc.py").read_text()


def test_no_check_skips_them(tmp_path: Path, scripted: FakeBackend) -> None:
    root = project(tmp_path / "r")
    trust(root)
    scripted.replies.append(WRONG)
    result = CliRunner().invoke(main, ["edit", ASK, str(root), "--no-check", "--json"])
    report = json.loads(result.stdout)
    assert report["checks"] == [] and report["attempts"] == 1 and report["status"] == "planned"


def test_the_trial_runs_in_a_copy_and_never_touches_the_work_tree(tmp_path: Path) -> None:
    root = tmp_path / "r"
    before = b"x = 1\r\ny = 2\r\n"
    make_repo(root, {"m.py": before.decode(), ".gitignore": "ignored.txt\n"})
    (root / "m.py").write_bytes(before)
    (root / "other.py").write_bytes(b"uncommitted\n")
    (root / "ignored.txt").write_bytes(b"not copied\n")
    change = FileChange("m.py", "modify", before.decode(), "x = 1\r\ny = 3\r\n")
    seen = tmp_path / "seen"
    # What the first run saw is kept (a failed check runs once more, on the tree as it was).
    scribble = Check("scribble", ("/bin/sh", "-c",
                                  f"[ -e {seen} ] || {{ pwd; ls -a; cat other.py; }} > {seen}; "
                                  "echo more >> m.py; rm other.py; grep -q 'y = 3' m.py "
                                  "&& echo 'error: y' && exit 1; exit 0"), True)
    snapshot = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    (result,) = trial(EditPlan((change,), ()), root, [scribble], 30)
    assert result.status == "failed"  # it saw the change
    where, *listing = seen.read_text().splitlines()
    assert Path(where).resolve() != root.resolve() and not where.startswith(str(root))
    # The user's uncommitted work is in the copy, what git ignores and git's own are not.
    assert "uncommitted" in listing and "other.py" in listing
    assert "ignored.txt" not in listing and ".git" not in listing
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == snapshot
    assert not Path(where).exists()  # the copy is gone


def test_build_output_is_kept_between_trials_outside_the_copy(tmp_path: Path) -> None:
    root = tmp_path / "r"
    make_repo(root, {"m.py": "x = 1\n"})
    builds = builds_dir(tmp_path / "cache", root)
    build = Check("build", ("/bin/sh", "-c", 'mkdir -p "$CARGO_TARGET_DIR" && '
                                              'echo built >> "$CARGO_TARGET_DIR/log"'), True)
    change = FileChange("m.py", "modify", "x = 1\n", "x = 2\n")
    for _ in range(2):
        (result,) = trial(EditPlan((change,), ()), root, [build], 30, builds=builds)
        assert result.status == "passed"
    assert (builds / "cargo-target" / "log").read_text() == "built\nbuilt\n"
    assert not (root / "target").exists()


def test_the_kept_copy_is_brought_up_to_date_and_copies_only_what_changed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copied: list[str] = []
    copy = scratch._copy

    def counted(root: Path, tree: Path, path: str, info: os.stat_result) -> bool:
        copied.append(path)
        return copy(root, tree, path, info)

    monkeypatch.setattr(scratch, "_copy", counted)
    root = tmp_path / "r"
    make_repo(root, {"same.py": "a = 1\n", "edited.py": "b = 1\n", "gone.py": "c = 1\n"})
    for path in root.glob("*.py"):  # written a while ago: a timestamp that tells writes apart
        os.utime(path, (time.time() - 60, time.time() - 60))
    builds = builds_dir(tmp_path / "cache", root)
    with scratch.scratch_copy(root, builds) as first:
        first.write("edited.py", b"b = 2\n")  # a change laid over the copy
        (first.tree / "stray.txt").write_text("left by a check\n")
        (first.tree / "out").mkdir()
        (first.tree / "out" / "x.o").write_bytes(b"\0")
    assert sorted(copied) == ["edited.py", "gone.py", "same.py"]
    copied.clear()
    (root / "gone.py").unlink()
    (root / "new.py").write_text("d = 1\n")  # the user's work since, just written
    with scratch.scratch_copy(root, builds) as second:
        assert second.tree == first.tree
        assert sorted(copied) == ["edited.py", "new.py"]  # the change undone, the new file
        assert (second.tree / "edited.py").read_text() == "b = 1\n"
        assert (second.tree / "new.py").read_text() == "d = 1\n"
        for left in ("gone.py", "stray.txt", "out"):
            assert not (second.tree / left).exists()
        # Held by this trial: another one gets a fresh copy of its own, removed after.
        with scratch.scratch_copy(root, builds) as other:
            assert other.tree != second.tree and (other.tree / "same.py").exists()
        assert not other.tree.exists()
    copied.clear()
    with scratch.scratch_copy(root, builds):
        # new.py was written within two seconds: its timestamp may not tell a second write
        # apart, so it is copied each time until it is older.
        assert copied == ["new.py"]


def test_a_trial_killed_half_way_leaves_the_work_tree_as_it_was(tmp_path: Path) -> None:
    import signal
    import subprocess

    root = tmp_path / "r"
    make_repo(root, {"m.py": "x = 1\n"})
    started, where = tmp_path / "started", tmp_path / "where"
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from codectx.assistant.checks.detect import Check\n"
        "from codectx.assistant.checks.trial import trial\n"
        "from codectx.assistant.edits.plan import EditPlan, FileChange\n"
        f"change = FileChange('m.py', 'modify', 'x = 1\\n', 'x = 2\\n')\n"
        f"check = Check('slow', ('/bin/sh', '-c', 'pwd > {where}; echo $$ > {started}; "
        "exec sleep 60'), False)\n"
        f"trial(EditPlan((change,), ()), Path({str(root)!r}), [check], 120)\n")
    proc = subprocess.Popen([sys.executable, "-c", script])
    for _ in range(300):
        if started.exists() and started.read_text().strip():
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    os.kill(int(started.read_text()), signal.SIGKILL)  # the check, in a session of its own
    copy = Path(where.read_text().strip())
    assert (copy / "m.py").read_text() == "x = 2\n"  # the change was in the copy
    shutil.rmtree(copy.parent)  # what the next trial would sweep a day later
    assert (root / "m.py").read_text() == "x = 1\n"
    assert not git_status(root)


def git_status(root: Path) -> str:
    import subprocess

    return subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True,
                          text=True, check=True).stdout


def test_a_check_that_failed_before_the_change_does_not_count(tmp_path: Path) -> None:
    root = tmp_path / "r"
    make_repo(root, {"m.py": "x = 1\n"})
    always = Check("always", ("/bin/sh", "-c", "echo 'error: the build is broken'; exit 1"),
                   False)
    change = FileChange("m.py", "modify", "x = 1\n", "x = 2\n")
    (result,) = trial(EditPlan((change,), ()), root, [always], 30)
    assert result.status == "failed before" and not result.failed


def test_a_hanging_check_is_killed_with_everything_it_started(tmp_path: Path) -> None:
    root = project(tmp_path / "r")
    pidfile = tmp_path / "child.pid"
    proposal, _ = propose(root, [WRONG, WRONG], check_timeout=1,
                          check=f"sleep 300 & echo $! > {pidfile}; wait")
    assert proposal.failed_checks and proposal.failed_checks[0].status == "timed out"
    assert "check_timeout" in proposal.failed_checks[0].output
    assert proposal.attempts == 2  # the time-out went back to the model once
    assert not alive(int(pidfile.read_text()))
    assert (root / "calc.py").read_text() == CALC


def alive(pid: int) -> bool:
    """Running (a zombie that no init reaps, as in a container, is not)."""
    for _ in range(50):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        if state == "Z":
            return False
        time.sleep(0.1)  # SIGKILL is delivered, not yet acted on
    return True


def test_a_stopped_turn_stops_its_check(tmp_path: Path) -> None:
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    result = run_check(Check("sleep", ("sleep", "300"), False), tmp_path, 600, cancel)
    assert result.status == "stopped"


def test_an_untrusted_repository_runs_no_code_of_its_own(tmp_path: Path,
                                                          scripted: FakeBackend) -> None:
    marker, conftest_marker = tmp_path / "config-ran", tmp_path / "conftest-ran"
    root = project(tmp_path / "r", **{
        ".codectx.toml": f'check = "touch {marker}"\n',
        "conftest.py": f"open({str(conftest_marker)!r}, 'w').close()\n"})
    loaded = config.load(root)
    assert loaded.settings.check is None and loaded.trust is not None
    assert "check" in (loaded.trust.notice() or "")
    scripted.replies.append(RIGHT)
    result = CliRunner().invoke(main, ["edit", ASK, str(root), "--json"])
    report = json.loads(result.stdout)
    assert [c["name"] for c in report["checks"]] == ["py_compile"]
    assert "pytest" in report["held_back"] and "codectx trust" in report["held_back"]
    assert not marker.exists() and not conftest_marker.exists()
    trust(root)  # once trusted, the repository's own check runs
    scripted.replies.append(RIGHT)
    result = CliRunner().invoke(main, ["edit", ASK, str(root), "--json"])
    assert json.loads(result.stdout)["checks"][0]["name"].startswith("check (")
    assert marker.exists()


def test_a_configured_check_per_language_gets_its_files(tmp_path: Path) -> None:
    root = tmp_path / "r"
    write_tree(root, {"a.py": "", "b.js": ""})
    found = checks_for(root, ["a.py", "b.js", "c d.py"], [], trusted=False, origin="flags",
                       setting={"python": "mypy {files}", "javascript": ""})
    assert [c.command for c in found.checks] == ["mypy a.py 'c d.py'"]


def test_node_check_is_detected_where_node_is_installed(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    tools = installed_tools(tmp_path, monkeypatch, "node", "npm",
                            after=f".{os.pathsep}/usr/bin:/bin")
    root = tmp_path / "r"
    write_tree(root, {"a.js": "", "package.json": '{"scripts": {"test": "node t.js"}}',
                      "node": "#!/bin/sh\necho repository code\n"})
    found = checks_for(root, ["a.js"], [], setting=None, origin="", trusted=False)
    assert [c.argv for c in found.checks] == [(str(tools / "node"), "--check", "./a.js")]
    assert [c.name for c in found.held_back] == ["npm test"]


def test_what_goes_back_to_the_model_is_bounded_and_starts_near_the_failure() -> None:
    output = "\n".join([f"collecting {i}" for i in range(500)] + ["E   AssertionError: boom"]
                       + [f"detail {i}" for i in range(2000)])
    text = around_failure(output, 200)
    assert text.startswith("collecting 497") and "AssertionError: boom" in text
    assert len(text) <= 800


def test_doctor_says_what_would_run_here_and_what_is_held_back(tmp_path: Path) -> None:
    from rich.console import Console

    from codectx.cli.doctor import checks_table

    root = project(tmp_path / "r", **{"web/a.js": "", "pyproject.toml": "[tool.ruff]\n"})

    def shown() -> str:
        console = Console(width=300, record=True)
        console.print(checks_table(root, config.load(root)))
        return console.export_text()

    text = shown()
    assert "not trusted" in text and "py_compile ./FILES" in text
    pytest_row = next(line for line in text.splitlines() if "-m pytest" in line)
    assert "TESTS" in pytest_row and "held back" in pytest_row
    assert "syntax gate (tree-sitter) for python, javascript" in text
    trust(root)
    assert "held back" not in shown()
