"""The watcher on real filesystem events, with a scripted model that records what it evaluates."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from codectx import config
from codectx.assistant import watcher as watcher_module
from codectx.assistant.checks.detect import Check
from codectx.assistant.checks.trial import trial
from codectx.assistant.edits.plan import EditPlan, FileChange
from codectx.assistant.session import Session
from codectx.assistant.watcher import Watcher, WatchEvent
from codectx.models.backend import Completion, GenerationParams, PrefillProgress, Prompt
from tests.conftest import make_repo, scripted_env
from tests.support.fake import FakeBackend, ScriptedProvider

FILES = {"core.py": "def base():\n    return 1\n",
         "mid.py": "from core import base\n\n\ndef mid():\n    return base() + 1\n",
         "app.py": "from mid import mid\n\nprint(mid())\n",
         ".gitignore": "build/\n*.log\n"}


class Recorder:
    def __init__(self) -> None:
        self.events: list[WatchEvent] = []

    def __call__(self, event: WatchEvent) -> None:
        self.events.append(event)

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events if e.kind != "prefilling"]


def started(root: Path, backend: FakeBackend, **kwargs: object) -> tuple[Watcher, Recorder]:
    session = Session(root, config.load(root), ScriptedProvider(backend))
    session.warm()
    recorder = Recorder()
    watcher = Watcher(session, recorder, debounce_s=0.2, **kwargs)  # type: ignore[arg-type]
    watcher.start()  # listening once this returns: watchdog sets up its watches in start()
    return watcher, recorder


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def settle(watcher: Watcher, noticed: int = 1) -> None:
    """Until `noticed` more events than at the last settle have reached the watcher (the
    change just made), and it is idle again."""
    before = getattr(watcher, "_settled_total", 0)
    wait_for(lambda: watcher.noticed_total >= before + noticed,
             "the change never reached the watcher")
    assert watcher.wait_idle(30)
    watcher._settled_total = watcher.noticed_total  # type: ignore[attr-defined]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    make_repo(tmp_path / "r", FILES)
    return tmp_path / "r"


def text(tokens: tuple[int, ...]) -> str:
    return bytes(tokens).decode()


def test_one_edit_reindexes_that_file_and_evaluates_only_the_suffix(repo: Path) -> None:
    backend = FakeBackend()
    watcher, seen = started(repo, backend)
    try:
        (repo / "app.py").write_text("from mid import mid\n\nprint(mid() * 2)\n")
        settle(watcher)
    finally:
        watcher.stop()
    assert seen.kinds()[:3] == ["changed", "ready", "stopped"]
    changed = seen.events[0]
    assert changed.files == ("app.py",) and changed.parsed == 1
    evaluated = text(backend.evaluated[-1])
    # The scripted model's tokens are bytes: everything up to the edit is reused.
    assert evaluated.startswith(" * 2)\n</file>")
    assert "def base()" not in evaluated and "def mid()" not in evaluated
    ready = next(e for e in seen.events if e.kind == "ready")
    assert ready.tokens == len(backend.evaluated[-1])


def test_a_thousand_files_touched_at_once_cause_one_rebuild(tmp_path: Path) -> None:
    files = {f"pkg/m{i}.py": f"X{i} = {i}\n" for i in range(1000)}
    make_repo(tmp_path / "r", files)
    backend = FakeBackend()
    watcher, seen = started(tmp_path / "r", backend, max_wait_s=10.0)
    calls = len(backend.evaluated)
    try:
        for i in range(1000):  # a formatter rewriting every file
            (tmp_path / "r" / f"pkg/m{i}.py").write_text(f"X{i} = {i}  # formatted\n")
        settle(watcher)
    finally:
        watcher.stop()
    assert watcher.rebuilds == 1
    assert len(backend.evaluated) == calls + 1
    assert len(next(e for e in seen.events if e.kind == "changed").files) == 1000


def test_ignored_files_git_internals_and_swap_files_cause_nothing(repo: Path) -> None:
    backend = FakeBackend()
    watcher, seen = started(repo, backend)
    calls = len(backend.evaluated)
    try:
        (repo / "build").mkdir()
        (repo / "build" / "out.txt").write_text("artifact\n")
        (repo / "debug.log").write_text("log line\n")
        (repo / ".app.py.swp").write_text("swap\n")
        (repo / "app.py~").write_text("backup\n")
        (repo / ".git" / "scratch").write_text("git internals\n")
        (repo / "app.py").write_text("print('seen after the others')\n")  # comes after them
        settle(watcher)
    finally:
        watcher.stop()
    assert watcher.rebuilds == 1 and len(backend.evaluated) == calls + 1
    assert seen.kinds() == ["changed", "ready", "stopped"]
    assert seen.events[0].files == ("app.py",)  # none of the others


def test_an_edit_being_checked_never_reaches_the_watcher(repo: Path) -> None:
    backend = FakeBackend()
    watcher, seen = started(repo, backend)
    try:
        # The trial writes its change into a copy, so a real change after it is all there is.
        change = FileChange("mid.py", "modify", FILES["mid.py"], "the trial's text\n")
        slow = Check("slow", ("/bin/sh", "-c", "sleep 0.5"), False)
        trial(EditPlan((change,), ()), repo, [slow], 30)
        (repo / "core.py").write_text(FILES["core.py"] + "# saved\n")
        settle(watcher)
    finally:
        watcher.stop()
    assert seen.kinds() == ["changed", "ready", "stopped"]
    assert seen.events[0].files == ("core.py",)


def test_a_change_reverted_or_a_save_without_change_evaluates_nothing(repo: Path) -> None:
    backend = FakeBackend()
    watcher, seen = started(repo, backend, )
    calls = len(backend.evaluated)
    try:
        (repo / "mid.py").write_text("changed for a moment\n")
        (repo / "mid.py").write_text(FILES["mid.py"])  # reverted within the burst
        settle(watcher)
        (repo / "core.py").write_text(FILES["core.py"])  # saved, unchanged
        settle(watcher)
    finally:
        watcher.stop()
    assert len(backend.evaluated) == calls  # nothing prefilled again
    assert seen.kinds() == ["changed", "unchanged", "changed", "unchanged", "stopped"]


class SlowPrefill(FakeBackend):
    """A prefill that takes a while and stops when cancelled, as the real one does."""

    def __init__(self) -> None:
        super().__init__()
        self.cancelled = 0
        self.prefilling = threading.Event()

    def stream(self, prompt: Prompt, params: GenerationParams,
               cancel: threading.Event | None = None,
               progress: PrefillProgress | None = None) -> Iterator[str | Completion]:
        if params.max_tokens == 0 and self.prompts:  # a re-prefill
            self.prefilling.set()
            for _ in range(40):
                if cancel is not None and cancel.is_set():
                    self.cancelled += 1
                    self.prefilling.clear()
                    yield Completion(text="", stop_reason="cancelled",
                                     prompt_tokens=len(prompt.tokens), reused_tokens=0,
                                     evaluated_tokens=0, generated_tokens=0, load_s=0.0,
                                     ttft_s=0.0, total_s=0.0)
                    return
                time.sleep(0.05)
            self.prefilling.clear()
        yield from super().stream(prompt, params, cancel, progress)


def test_a_change_during_a_re_prefill_restarts_it(repo: Path) -> None:
    backend = SlowPrefill()
    watcher, seen = started(repo, backend)
    try:
        (repo / "app.py").write_text("print('first')\n")
        assert backend.prefilling.wait(10)
        (repo / "core.py").write_text("def base():\n    return 2\n")
        settle(watcher)
    finally:
        watcher.stop()
    assert backend.cancelled == 1
    ready = [e for e in seen.events if e.kind == "ready"]
    assert len(ready) == 1 and ready[0].files == ("app.py", "core.py")
    assert "return 2" in text(backend.evaluated[-1])


@pytest.mark.parametrize("how", ["deleted", "renamed"])
def test_a_deleted_or_renamed_directory_stops_the_watcher_with_a_message(repo: Path,
                                                                        how: str) -> None:
    watcher, seen = started(repo, FakeBackend())
    if how == "deleted":
        shutil.rmtree(repo)
    else:
        repo.rename(repo.with_name("elsewhere"))
    wait_for(lambda: not watcher.running, "the watcher went on")
    watcher.stop()
    assert not watcher.running
    messages = [e.message for e in seen.events if e.kind == "stopped"]
    assert any("deleted or moved" in m for m in messages)


def test_outside_git_it_still_follows_changes(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "a.py").write_text("A = 1\n")
    backend = FakeBackend()
    watcher, seen = started(tmp_path / "plain", backend)
    try:
        (tmp_path / "plain" / "a.py").write_text("A = 2\n")
        settle(watcher)
    finally:
        watcher.stop()
    assert "ready" in seen.kinds() and text(backend.evaluated[-1]).startswith("2\n")


def test_without_change_notifications_it_polls_and_says_so_once(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class NoInotify:
        def __init__(self) -> None:
            raise OSError(24, "inotify instance limit reached")

    monkeypatch.setattr(watcher_module, "Observer", NoInotify)
    backend = FakeBackend()
    watcher, seen = started(repo, backend)
    try:
        (repo / "app.py").write_text("print('polled')\n")
        settle(watcher)
    finally:
        watcher.stop()
    polling = [e for e in seen.events if e.kind == "polling"]
    assert len(polling) == 1 and "inotify instance limit reached" in polling[0].message
    assert "ready" in seen.kinds() and "polled" in text(backend.evaluated[-1])


def test_codectx_watch_reports_each_change_and_stops_on_ctrl_c(repo: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    env = {**os.environ, **scripted_env([])}
    # A test runner's worker may ignore SIGINT, and children inherit that: restore it.
    proc = subprocess.Popen([sys.executable, "-m", "codectx", "watch", str(repo)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert proc.stderr is not None
    lines: list[str] = []
    try:
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("watching "):  # printed once the watcher is listening
                break
        (repo / "mid.py").write_text(FILES["mid.py"] + "\n\ndef more():\n    return 3\n")
        for line in proc.stderr:
            lines.append(line)
            if "warm again" in line:
                break
        proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=30)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
    output = "".join(lines) + rest
    assert "changed: mid.py (1 file(s) parsed)" in output
    assert "re-prefilling about" in output and "tokens evaluated" in output
    assert proc.returncode == 0 and "Traceback" not in output


class Shifting(FakeBackend):
    """Reports what a cache that moves cells reports: after a change, the prefix after it is
    approximate (stale), until a prompt asks for exactness. An exact prefill waits to be
    cancelled (or 20 s), as a long one would."""

    def __init__(self) -> None:
        super().__init__()
        self.exact_started = threading.Event()

    def stream(self, prompt: Prompt, params: GenerationParams,
               cancel: threading.Event | None = None,
               progress: PrefillProgress | None = None) -> Iterator[str | Completion]:
        for item in super().stream(prompt, params, cancel, progress):
            if isinstance(item, Completion):
                stale = 0 if prompt.exact else len(prompt.prefix) - min(
                    item.reused_tokens, len(prompt.prefix))
                stop = item.stop_reason
                if prompt.exact and cancel is not None and self.block:
                    self.exact_started.set()
                    stop = "cancelled" if cancel.wait(20) else stop
                item = replace(item, stale_tokens=stale, stop_reason=stop)
            yield item

    block = False


def test_after_a_quiet_spell_shifted_cells_are_made_exact_once(repo: Path) -> None:
    backend = Shifting()
    watcher, seen = started(repo, backend, exact_after_s=0.5)
    try:
        (repo / "core.py").write_text("def base():\n    return 2\n")
        settle(watcher)
        wait_for(lambda: any(e.exact and e.kind == "ready" for e in seen.events),
                 "never made exact")
        looked = watcher.quiet_total
        # Two more quiet spells looked at, past exact_after_s: nothing more to make exact.
        wait_for(lambda: watcher.quiet_total >= looked + 2, "no quiet spell looked at")
    finally:
        watcher.stop()
    exact = [p for p in backend.prompts if p.exact]
    assert len(exact) == 1 and backend.prompts[-1].exact
    changed = [e for e in seen.events if e.kind == "ready" and not e.exact]
    assert len(changed) == 1 and changed[0].files == ("core.py",)


def test_a_question_stops_an_exact_refresh_and_goes_ahead(repo: Path) -> None:
    backend = Shifting()
    backend.block = True
    session = Session(repo, config.load(repo), ScriptedProvider(backend))
    session.warm()
    result: list[object] = []
    worker = threading.Thread(target=lambda: result.append(session.refresh()))
    worker.start()
    assert backend.exact_started.wait(20)
    backend.replies.append("an answer")
    *_, answer = session.ask("What does base return?")
    worker.join(30)
    assert answer.text == "an answer"  # type: ignore[union-attr]
    (refreshed,) = result
    assert refreshed.stop_reason == "cancelled"  # type: ignore[attr-defined]
