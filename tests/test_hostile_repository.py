"""A repository built to abuse codectx (tests/support/hostile.py), opened with every front end.

Each test runs one way in (index, ask, edit, review, the hook, the chat, the editor agent)
and asserts what docs/security.md promises: no trick ran (no marker file), no connection
reached the repository's server, the canary outside was never read (its content is in
no output and no prompt), nothing outside changed, the work tree is as it was after an
edit that was not applied, and no escape byte reached the terminal.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from codectx import config
from codectx.assistant.session import Session
from codectx.cli import main
from codectx.tui.app import CodectxApp
from codectx.tui.widgets.trust_dialog import ConfirmTrust
from tests.agent.acp_client import Editor, connected, prompt_text, wait_for
from tests.conftest import scripted_env
from tests.support.fake import FakeBackend, ScriptedProvider
from tests.support.hostile import CANARY, ESC, HIDE, OSC52, Hostile, build
from tests.support.listener import Listener

LIB = "def double(x):\n    return x * 2\n"
HIDDEN_EDIT = ("lib.py\n<<<<<<< SEARCH\n    return x * 2\n=======\n"
               f"    return x * 2  # fine{HIDE}+# harmless\n>>>>>>> REPLACE\n")
TRICKS = {
    "a link to .git": "lnk/config\n<<<<<<< SEARCH\n=======\n[core]\n\tfsmonitor = x\n"
                      ">>>>>>> REPLACE\n",
    "a path read as an option": "--require=./evil.js\n<<<<<<< SEARCH\n=======\n1\n"
                                ">>>>>>> REPLACE\n",
    "the hooks directory": ".husky/pre-commit\n<<<<<<< SEARCH\n=======\ntouch x\n"
                           ">>>>>>> REPLACE\n",
    "a link out": "outdir/canary.txt\n<<<<<<< SEARCH\n=======\nx\n>>>>>>> REPLACE\n",
    "a parent path": "../outside/x.py\n<<<<<<< SEARCH\n=======\nx = 1\n>>>>>>> REPLACE\n",
    ".git itself": ".git/hooks/pre-commit\n<<<<<<< SEARCH\n=======\ntouch x\n"
                   ">>>>>>> REPLACE\n",
}


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hostile]:
    listener = Listener()
    monkeypatch.setenv("CODECTX_HOSTILE_SECRET", "token-that-must-stay-home")
    try:
        made = build(tmp_path, listener.url)
        (made.root / "lib.py").write_text(LIB)  # untracked: the user's own work in progress
        outside, tree = made.outside_state(), made.tree_state()
        yield made
        assert made.fired() == [], "a trick of the repository ran"
        assert listener.seen == [], "the repository's server was contacted"
        assert made.outside_state() == outside, "a file outside the repository changed"
        assert made.tree_state() == tree, "the work tree changed"
    finally:
        listener.close()


def clean_output(*texts: str) -> None:
    """What reached the terminal (or a prompt, for the canary only: see `prompts`)."""
    for text in texts:
        assert ESC not in text and "\x9b" not in text and "\x07" not in text, text
        assert CANARY not in text


def no_canary(*texts: str) -> None:
    for text in texts:
        assert CANARY not in text


def prompts(backend: FakeBackend) -> str:
    return "\n".join(str(p) for p in backend.prompts)


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_index(hostile: Hostile, tmp_path: Path) -> None:
    out = tmp_path / "prompt.xml"
    code, stdout, stderr = cli("index", str(hostile.root), "-o", str(out))
    assert code == 0, stderr
    clean_output(stdout, stderr)
    written = out.read_text()  # a file, not a terminal: the repository's bytes as they are
    assert CANARY not in written and OSC52 in written
    assert "def total" in written  # the ignore file linked out was not read


def test_ask(hostile: Hostile, scripted: FakeBackend) -> None:
    scripted.replies.append(f"It sums.{OSC52}{HIDE} Nothing to see.")
    code, stdout, stderr = cli("ask", "What does total do?", str(hostile.root))
    assert code == 0, stderr
    clean_output(stdout, stderr)
    no_canary(prompts(scripted))
    assert "It sums." in stdout and "Nothing to see." in stdout
    assert "ignored until you trust it" in stderr


@pytest.mark.parametrize("trick", sorted(TRICKS))
def test_an_edit_reply_trying_a_path_trick_is_refused(hostile: Hostile, scripted: FakeBackend,
                                                      trick: str) -> None:
    scripted.replies.extend([TRICKS[trick]] * 2)
    code, stdout, stderr = cli("edit", "change the config", str(hostile.root), "--dry-run")
    assert code != 0 and "nothing was written" in (stdout + stderr)
    clean_output(stdout, stderr)
    no_canary(prompts(scripted))


def test_an_edit_is_checked_in_a_copy_and_shown_without_controls(
        hostile: Hostile, scripted: FakeBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    # ruff is on the PATH (its config here extends the canary), and a shim is before it.
    tools = [str(hostile.outside / "shims"), str(Path(sys.executable).parent)]
    monkeypatch.setenv("PATH", os.pathsep.join([*tools, os.environ["PATH"]]))
    scripted.replies.append(HIDDEN_EDIT)
    code, stdout, stderr = cli("edit", "add a comment", str(hostile.root), "--files", "lib.py",
                               "--dry-run")
    assert code == 0, stderr
    clean_output(stdout, stderr)
    no_canary(prompts(scripted))
    assert "+# harmless" in stdout  # the hiding sequence is gone, the text it hid is shown
    assert "check passed: " in stdout + stderr and "py_compile ./lib.py" in stdout + stderr
    assert "--isolated" in stdout + stderr  # ruff with its defaults, not the config reaching out


def test_an_edit_killed_during_its_checks_leaves_the_work_tree_as_it_was(
        hostile: Hostile, tmp_path: Path) -> None:
    started, where = tmp_path / "check.pid", tmp_path / "check.where"
    env = {**os.environ, **scripted_env([HIDDEN_EDIT]),
           # the user's own check (an environment variable), slow enough to be killed in
           "CODECTX_CHECK": f"pwd > {where}; echo $$ > {started}; exec sleep 60"}
    proc = subprocess.Popen([sys.executable, "-m", "codectx", "edit", "add a comment",
                             str(hostile.root), "--files", "lib.py", "--apply"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (started.exists() and started.read_text().strip()):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        proc.kill()
        proc.wait()
    finally:
        if started.exists() and started.read_text().strip():
            os.kill(int(started.read_text()), signal.SIGKILL)  # the check's own session
    copy = Path(where.read_text().strip())
    assert "harmless" in (copy / "lib.py").read_text()  # the change was in the copy only
    shutil.rmtree(copy.parent)


def test_review_of_the_staged_change_and_the_work_tree(hostile: Hostile,
                                                       scripted: FakeBackend) -> None:
    scripted.replies.extend(["no findings", "no findings"])
    code, stdout, stderr = cli("review", "--staged", str(hostile.root))
    assert code == 0, stderr
    clean_output(stdout, stderr)
    no_canary(prompts(scripted))
    assert "no longer parses" in stdout + stderr
    code, stdout, stderr = cli("review", str(hostile.root))
    assert code == 0, stderr
    clean_output(stdout, stderr)
    no_canary(prompts(scripted))


def test_the_hook(hostile: Hostile) -> None:
    code, stdout, stderr = cli("hook", "install", str(hostile.root))
    assert code != 0 and ".husky" in stdout + stderr and "codectx trust" in stdout + stderr
    clean_output(stdout, stderr)
    env = {**os.environ, **scripted_env(["no findings"])}
    done = subprocess.run([sys.executable, "-P", "-m", "codectx", "hook", "run"],
                          cwd=hostile.root, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    clean_output(done.stdout, done.stderr)
    assert "no longer parses" in done.stdout + done.stderr


@pytest.mark.parametrize("keys", [("n",), ("escape",), ("f24", "n")])
async def test_the_chat_asks_first_and_no_rebound_key_says_yes(hostile: Hostile,
                                                                keys: tuple[str, ...]) -> None:
    backend = FakeBackend([f"answer{OSC52}"])
    root = hostile.root
    app = CodectxApp(Session(root, config.load(root), ScriptedProvider(backend)), watch=False,
                     reopen=lambda: pytest.fail("trust was granted"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for key in keys:
            assert isinstance(app.screen, ConfirmTrust)  # the repository's f24 answers nothing
            await pilot.press(key)
            await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmTrust)
    assert str(root.resolve()) not in config.trust_store().entries()
    no_canary(prompts(backend))


async def test_the_editor_agent(hostile: Hostile) -> None:
    editor = Editor(allow=True)
    replies = [f"It sums.{OSC52}", *[TRICKS["a link to .git"]] * 8]  # each candidate's
    async with connected(editor, replies) as conn:
        session = await conn.new_session(cwd=str(hostile.root.resolve()))
        await conn.prompt(session_id=session.session_id, prompt=prompt_text("what is total?"))
        await wait_for(lambda: "It sums." in editor.text())
        await conn.prompt(session_id=session.session_id, prompt=prompt_text("/edit fix it"))
        await wait_for(lambda: "nothing was written" in editor.text())
    assert editor.permissions == [] and editor.written == {}
    assert CANARY not in editor.text() and "lnk/config" in editor.text()
