"""Following the repository as it changes, so the next question finds the cache warm.

A watchdog observer reports file events; they are filtered (`.git/`, the
cache directory, editor swap files, then whatever git ignores) and
debounced: events are gathered until the tree has been quiet for a moment,
so a branch switch or a formatter touching a thousand files causes one
rebuild. A rebuild re-indexes (the index cache makes that incremental:
only changed files are parsed) and, when the prompt changed, prefills it
again; the backend's prompt cache keeps every unchanged file's cells (or,
with cache_reuse = prefix, every token before the first changed one), so
only the rest is evaluated, and the new state is saved. Cells reused at new
positions are an approximation: once the repository has been quiet a while,
the prefix is prefilled exactly in the background (a question stops that and
goes on from the saved state). A
file changed back to what it was leaves the prompt as it was: nothing is
evaluated. A change during a re-prefill stops it at its next chunk and
starts over from the new first changed token. An edit's checks run in a copy of
the repository, so nothing of a trial reaches the watcher.

The watcher runs in threads of its own and never prints: what it does goes
to a callback as `WatchEvent`s, for the command line, the TUI and the
editor agent alike.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from watchdog.events import (
    EVENT_TYPE_CLOSED_NO_WRITE,
    EVENT_TYPE_OPENED,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from codectx.assistant.session import Session
from codectx.errors import CodectxError
from codectx.gitsafe import run_git
from codectx.indexer.result import IndexResult
from codectx.models.runtime.reuse import evaluated_estimate

DEBOUNCE_S = 0.3  # quiet time that ends a burst of events
EXACT_AFTER_S = 10.0  # quiet time after which approximate (shifted) cells are made exact
MAX_WAIT_S = 3.0  # a burst that never quiets is still handled after this
SWAP_PATTERNS = ("*.swp", "*.swo", "*.swx", "*~", ".#*", "#*#", "4913", "*___jb_tmp___",
                 "*___jb_old___", ".DS_Store", "*.tmp")
NO_INOTIFY_FS = frozenset({"nfs", "nfs4", "cifs", "smbfs", "smb3", "9p", "fuse.sshfs",
                           "fuse.rclone", "vboxsf", "afs", "ncpfs", "davfs"})

Kind = Literal["watching", "polling", "changed", "unchanged", "prefilling", "ready",
               "stopped", "error"]


@dataclass(frozen=True)
class WatchEvent:
    kind: Kind
    files: tuple[str, ...] = ()
    """The files that changed (for "changed")."""
    parsed: int = 0
    """How many files the re-index parsed."""
    tokens: int = 0
    """Tokens to evaluate again ("prefilling"), or evaluated ("ready")."""
    done: int = 0
    elapsed_s: float = 0.0
    message: str = ""
    """What went wrong, or why the watcher polls or stopped, in words."""
    exact: bool = False
    """A re-prefill made while the user is idle so that cells reused at new positions are
    computed exactly ("prefilling", "ready"), not one caused by a change."""


def _spans(index: IndexResult) -> tuple[tuple[str, int], ...]:
    """The prefix's segments as the reuse rules see them: each by its text, and its size."""
    return tuple((segment.text, segment.tokens) for segment in index.segments)


def filesystem_type(path: Path) -> str:
    """The type of the filesystem holding path, from /proc/mounts ("" when unknown)."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return ""
    target = str(path.resolve())
    best, kind = "", ""
    for line in mounts:
        fields = line.split()
        if len(fields) >= 3:
            point = fields[1].replace("\\040", " ")
            if (target == point or target.startswith(point.rstrip("/") + "/")) \
                    and len(point) > len(best):
                best, kind = point, fields[2]
    return kind


class _Events(FileSystemEventHandler):
    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in (EVENT_TYPE_OPENED, EVENT_TYPE_CLOSED_NO_WRITE):
            return
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if raw:
                self.watcher.noticed(os.fsdecode(raw), event.is_directory)


class Watcher:
    def __init__(self, session: Session, on_event: Callable[[WatchEvent], None], *,
                 poll: bool = False, debounce_s: float = DEBOUNCE_S,
                 max_wait_s: float = MAX_WAIT_S, exact_after_s: float = EXACT_AFTER_S) -> None:
        """Watch session.root; `poll` forces polling instead of the OS's notifications."""
        self.session = session
        self.root = session.root.resolve()
        self.on_event = on_event
        self.debounce_s = debounce_s
        self.max_wait_s = max_wait_s
        self.exact_after_s = exact_after_s
        self._stale = False  # the saved state has cells reused at new positions
        self.force_poll = poll
        self.cache_dir = session.loaded.cache_path().resolve()
        self._lock = threading.Lock()
        self._pending: set[str] = set()
        self._first = 0.0
        self._last = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._cancel = threading.Event()  # stops a re-prefill in progress
        self._idle = threading.Event()
        self._idle.set()
        self.noticed_total = 0
        """Events that named a path it follows (tests wait for one, not for a time)."""
        self.quiet_total = 0
        """Quiet spells looked at: times it woke with no change and checked for staleness."""
        self._prompt: tuple[tuple[str, int], ...] | None = None
        self._carried: set[str] = set()  # files of a re-prefill cut short by a newer change
        self._observer: BaseObserver | None = None
        self._thread: threading.Thread | None = None
        self.rebuilds = 0

    # -- control ----------------------------------------------------------------------

    def start(self) -> None:
        """Start watching; the current state is taken as the starting point."""
        self._prompt = self._prompt_of_index()
        self._observer = self._start_observer()
        self._thread = threading.Thread(target=self._run, name="codectx-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._cancel.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
        if self._observer is not None and self._observer.is_alive():
            self._observer.join(timeout=5)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no change is pending or being handled (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                quiet = not self._pending
            if quiet and self._idle.wait(0.05):
                with self._lock:
                    if not self._pending:
                        return True
            time.sleep(0.02)
        return False

    def _start_observer(self) -> BaseObserver:
        fs = filesystem_type(self.root)
        reason = None
        if self.force_poll:
            reason = "polling for changes, as asked"
        elif fs in NO_INOTIFY_FS:
            reason = f"the repository is on {fs}, which sends no change notifications: polling"
        if reason is None:
            try:
                observer: BaseObserver = Observer()
                observer.schedule(_Events(self), str(self.root), recursive=True)
                observer.start()
                return observer
            except OSError as exc:
                reason = f"change notifications are unavailable ({exc.strerror or exc}): polling"
        observer = PollingObserver(timeout=1.0)
        observer.schedule(_Events(self), str(self.root), recursive=True)
        observer.start()
        self.on_event(WatchEvent("polling", message=reason))
        return observer

    # -- events -----------------------------------------------------------------------

    def noticed(self, path: str, is_directory: bool) -> None:
        """An event's path (from the observer's thread)."""
        absolute = Path(path)
        if absolute == self.root and not self.root.exists():
            self._gone()
            return
        try:
            relative = absolute.relative_to(self.root).as_posix()
        except ValueError:
            return
        if not relative or relative == "." or self._ignored(absolute, relative, is_directory):
            return
        with self._lock:
            now = time.monotonic()
            self.noticed_total += 1
            if not self._pending:
                self._first = now
            self._pending.add(relative)
            self._last = now
            self._idle.clear()
        self._cancel.set()  # a re-prefill in progress starts over with this change
        self._wake.set()

    def _ignored(self, absolute: Path, relative: str, is_directory: bool) -> bool:
        parts = relative.split("/")
        if ".git" in parts or is_directory:
            return True
        if absolute == self.cache_dir or self.cache_dir in absolute.parents:
            return True
        name = parts[-1]
        return any(fnmatch.fnmatch(name, pattern) for pattern in SWAP_PATTERNS)

    def _gone(self) -> None:
        self.on_event(WatchEvent("stopped", message=f"{self.root} was deleted or moved; "
                                                    "stopped watching"))
        self._stop.set()
        self._cancel.set()
        self._wake.set()

    # -- the work ---------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._wake.wait(min(1.0, self.exact_after_s)):
                if not self.root.is_dir():  # moved away or deleted: no event need say so
                    self._gone()
                elif self._stale and time.monotonic() - self._last >= self.exact_after_s:
                    self._guarded(self._make_exact)
                self.quiet_total += 1
                continue
            if self._stop.is_set():
                break
            batch = self._settled()
            if batch is None:
                continue
            self._guarded(functools.partial(self._rebuild, batch))
            if not self.root.is_dir():
                self._gone()
        self.on_event(WatchEvent("stopped"))

    def _guarded(self, work: Callable[[], None]) -> None:
        self._cancel = threading.Event()
        self._idle.clear()
        try:
            work()
        except CodectxError as exc:
            self.on_event(WatchEvent("error", message=exc.message))
        except Exception as exc:  # the watcher goes on; the next change retries
            self.on_event(WatchEvent("error", message=f"{type(exc).__name__}: {exc}"))
        finally:
            with self._lock:
                if not self._pending:
                    self._idle.set()

    def _make_exact(self) -> None:
        """Once the repository has been quiet a while, prefill exactly what was reused at
        new positions, so the approximation is short-lived. A change or a question stops
        it; it is tried again at the next quiet spell."""
        started = time.perf_counter()

        def progress(stage: str, done: int, total: int) -> None:
            if stage == "prefill":
                self.on_event(WatchEvent("prefilling", tokens=total, done=done, exact=True))

        answer = self.session.refresh(cancel=self._cancel, progress=progress)
        if answer.stop_reason == "cancelled":
            self._last = time.monotonic()
            return
        self._stale = False
        self.on_event(WatchEvent("ready", tokens=answer.evaluated_tokens, exact=True,
                                 elapsed_s=time.perf_counter() - started))

    def _settled(self) -> list[str] | None:
        """The pending paths once events have been quiet for debounce_s (or max_wait_s)."""
        while not self._stop.is_set():
            with self._lock:
                if not self._pending:
                    self._wake.clear()
                    self._idle.set()
                    return None
                now = time.monotonic()
                quiet = now - self._last >= self.debounce_s
                overdue = now - self._first >= self.max_wait_s
                if quiet or overdue:
                    batch = sorted(self._pending)
                    self._pending.clear()
                    self._wake.clear()
                    return batch
            time.sleep(min(self.debounce_s / 3, 0.1))
        return None

    def _rebuild(self, batch: list[str]) -> None:
        ignored = self._git_ignored(batch)
        files = tuple(sorted({p for p in batch if p not in ignored} | self._carried))
        self._carried = set()
        if not files:
            return
        started = time.perf_counter()
        self.rebuilds += 1
        index = self.session.index()
        self.on_event(WatchEvent("changed", files, parsed=index.parsed))
        prompt = _spans(index)
        if prompt == self._prompt:
            self.on_event(WatchEvent("unchanged", files, parsed=index.parsed,
                                     elapsed_s=time.perf_counter() - started))
            return
        settings = self.session.loaded.settings
        tokens = evaluated_estimate(self._prompt or (), prompt,
                                    self.session.provider.reuse_mode(), settings.stale_limit,
                                    settings.recompute_tokens, stale=self._stale)
        self.on_event(WatchEvent("prefilling", files, tokens=tokens))

        def progress(stage: str, done: int, total: int) -> None:
            if stage == "prefill":
                self.on_event(WatchEvent("prefilling", files, tokens=total, done=done))

        answer = self.session.warm(cancel=self._cancel, progress=progress, index=index)
        if answer.stop_reason == "cancelled":
            self._carried.update(files)  # reported with the next rebuild, which starts over
            return
        self._prompt = prompt
        self._stale = answer.stale_tokens > 0
        self.on_event(WatchEvent("ready", files, parsed=index.parsed,
                                 tokens=answer.evaluated_tokens,
                                 elapsed_s=time.perf_counter() - started))

    def _prompt_of_index(self) -> tuple[tuple[str, int], ...]:
        return _spans(self.session.index())

    def _git_ignored(self, paths: list[str]) -> set[str]:
        """Which of paths git ignores (none outside a git repository)."""
        done = run_git(self.root, "check-ignore", "-z", "--stdin",
                       input="\0".join(paths).encode(), check=False)
        if done.returncode != 0:  # 1: none ignored; 128: not a git repository
            return set()
        return set(filter(None, done.stdout.decode(errors="replace").split("\0")))
