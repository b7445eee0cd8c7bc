"""Model work in a worker thread, its results delivered where a front end wants them.

Every front end runs Session work (a generator taking a cancel event and a
progress callback) off its own thread: the command line so Ctrl-C can cancel
cleanly, the terminal UI so the screen never freezes, the editor agent so its
event loop stays free for `session/cancel`. `pump` is the one bridge: it runs
the work and turns everything that happens into `Event`s handed to `emit`.
`iterate` (blocking, with an optional time limit) and `aiterate` (asyncio)
are the two ways to consume them.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from codectx.errors import CodectxError
from codectx.progress import Progress

Work = Callable[[threading.Event, Progress], Iterator[Any]]
"""Session work: called as work(cancel, progress), yields text pieces and results."""


@dataclass(frozen=True)
class Event:
    kind: Literal["progress", "item", "error", "done"]
    value: Any = None
    """progress: (stage, done, total); item: what the work yielded; error: the exception."""


class TimeLimit(CodectxError):
    """The work did not finish in the time it was given (it was cancelled)."""


def pump(work: Work, cancel: threading.Event, emit: Callable[[Event], None]) -> None:
    """Run `work` in this thread; every progress report, item and error goes to `emit`,
    then one "done"."""
    try:
        for item in work(cancel, lambda *report: emit(Event("progress", report))):
            emit(Event("item", item))
    except BaseException as exc:  # the consumer decides: raise it again, or report it
        emit(Event("error", exc))
    finally:
        emit(Event("done"))


def start(work: Work, cancel: threading.Event, emit: Callable[[Event], None],
          name: str = "codectx-model") -> threading.Thread:
    """`pump` in a new daemon thread."""
    thread = threading.Thread(target=pump, args=(work, cancel, emit), name=name, daemon=True)
    thread.start()
    return thread


class LinkedCancel(threading.Event):
    """Set when it is set, or when the event it follows is: work stops on its caller's
    cancel, or when its consumer stops reading, without setting the caller's event.
    (`wait` notices the other event within a twentieth of a second.)"""

    def __init__(self, follows: threading.Event | None) -> None:
        super().__init__()
        self.follows = follows

    def is_set(self) -> bool:
        return super().is_set() or (self.follows is not None and self.follows.is_set())

    def wait(self, timeout: float | None = None) -> bool:
        end = None if timeout is None else time.monotonic() + timeout
        while not self.is_set():
            left = 0.05 if end is None else min(0.05, end - time.monotonic())
            if left <= 0:
                return False
            super().wait(left)
        return True


STOP_GRACE_S = 5.0
"""How long abandoned work is given to stop before the caller goes on."""


def iterate(work: Work, cancel: threading.Event, on_progress: Progress, *,
            time_limit: float | None = None, grace_s: float = 30.0,
            ) -> Generator[Any, None, None]:
    """Run `work` in a thread and yield its items here; its error is raised here.

    Progress reports are passed to `on_progress` in this thread. Past `time_limit`
    seconds the work is cancelled (a prefill keeps what it evaluated), given
    `grace_s` to stop, and `TimeLimit` is raised.
    """
    events: queue.Queue[Event] = queue.Queue()
    start(work, cancel, events.put)
    deadline = None if time_limit is None else time.monotonic() + time_limit
    finished = False
    try:
        while True:
            if deadline is not None and time.monotonic() > deadline:
                cancel.set()
                _drain(events, grace_s)
                finished = True
                raise TimeLimit(f"the time limit of {time_limit:g} s was reached")
            try:
                event = events.get(timeout=0.1)
            except queue.Empty:
                continue
            finished = event.kind in ("done", "error")
            item = _unpack(event, on_progress)
            if item is _DONE:
                return
            if item is not _NOTHING:
                yield item
    finally:
        if not finished:  # abandoned (Ctrl-C twice, a consumer gone): stop the work and
            cancel.set()  # give it a moment to put back what it had on disk (a trial)
            _drain(events, STOP_GRACE_S)


_NOTHING, _DONE = object(), object()


def _unpack(event: Event, on_progress: Progress) -> Any:
    """What a consumer does with an event: report progress (_NOTHING to yield), raise the
    work's error, say it is _DONE, or hand back its item."""
    if event.kind == "progress":
        on_progress(*event.value)
        return _NOTHING
    if event.kind == "error":
        raise event.value
    return _DONE if event.kind == "done" else event.value


def _drain(events: queue.Queue[Event], grace_s: float) -> None:
    """Wait (up to grace_s) for cancelled work to end."""
    end = time.monotonic() + grace_s
    while time.monotonic() < end:
        try:
            if events.get(timeout=0.1).kind in ("done", "error"):
                return
        except queue.Empty:
            continue


async def aiterate(work: Work, cancel: threading.Event, on_progress: Progress,
                   name: str = "codectx-model") -> AsyncIterator[Any]:
    """Run `work` in a thread; yield its items on the running event loop.

    `on_progress` is called on the loop too, so it may schedule coroutines.
    """
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[Event] = asyncio.Queue()

    def emit(event: Event) -> None:
        loop.call_soon_threadsafe(events.put_nowait, event)

    start(work, cancel, emit, name)
    while True:
        item = _unpack(await events.get(), on_progress)
        if item is _DONE:
            return
        if item is not _NOTHING:
            yield item
