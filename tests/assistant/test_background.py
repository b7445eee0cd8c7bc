"""The one bridge from Session work in a thread to each front end's consumer."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from codectx.assistant.background import Event, LinkedCancel, TimeLimit, aiterate, iterate, pump
from codectx.progress import Progress


def counting(cancel: threading.Event, progress: Progress) -> Iterator[Any]:
    for i in range(3):
        progress("prefill", i, 3)
        yield i


def failing(cancel: threading.Event, progress: Progress) -> Iterator[Any]:
    yield "first"
    raise ValueError("broken")


def endless(cancel: threading.Event, progress: Progress) -> Iterator[Any]:
    while not cancel.is_set():
        time.sleep(0.01)
        yield "."


def test_pump_reports_progress_items_and_the_end_in_order() -> None:
    events: list[Event] = []
    pump(counting, threading.Event(), events.append)
    assert [e.kind for e in events] == ["progress", "item"] * 3 + ["done"]
    assert [e.value for e in events if e.kind == "item"] == [0, 1, 2]
    errors: list[Event] = []
    pump(failing, threading.Event(), errors.append)
    assert [e.kind for e in errors] == ["item", "error", "done"]


def test_iterate_yields_here_and_raises_the_work_s_error_here() -> None:
    seen: list[tuple[str, int, int]] = []
    assert list(iterate(counting, threading.Event(), lambda *a: seen.append(a))) == [0, 1, 2]
    assert seen == [("prefill", 0, 3), ("prefill", 1, 3), ("prefill", 2, 3)]
    items: list[Any] = []
    with pytest.raises(ValueError, match="broken"):
        items.extend(iterate(failing, threading.Event(), lambda *a: None))
    assert items == ["first"]


def test_a_time_limit_cancels_the_work() -> None:
    cancel = threading.Event()
    with pytest.raises(TimeLimit, match=r"time limit of 0\.2 s"):
        for _ in iterate(endless, cancel, lambda *a: None, time_limit=0.2):
            pass
    assert cancel.is_set()


def test_aiterate_delivers_on_the_event_loop() -> None:
    async def collect() -> tuple[list[Any], list[bool]]:
        loop = asyncio.get_running_loop()
        on_loop: list[bool] = []

        def progress(stage: str, done: int, total: int) -> None:
            on_loop.append(asyncio.get_running_loop() is loop)

        return [item async for item in aiterate(counting, threading.Event(), progress)], on_loop

    items, on_loop = asyncio.run(collect())
    assert items == [0, 1, 2] and on_loop == [True, True, True]


def test_work_abandoned_by_its_consumer_is_stopped_and_may_put_things_back() -> None:
    put_back = threading.Event()

    def trial(cancel: threading.Event, progress: Progress) -> Iterator[Any]:
        try:
            yield "on disk"
            while not cancel.is_set():
                time.sleep(0.01)
        finally:
            put_back.set()  # as an edit's trial restores the files it changed

    cancel = threading.Event()
    items = iterate(trial, cancel, lambda *a: None)
    assert next(items) == "on disk"
    items.close()  # a second Ctrl-C, or a consumer that went away
    assert cancel.is_set() and put_back.is_set()


def test_a_linked_cancel_follows_the_callers_event_without_setting_it() -> None:
    caller = threading.Event()
    either = LinkedCancel(caller)
    assert not either.is_set() and not either.wait(0.1)
    threading.Timer(0.2, caller.set).start()
    assert either.wait(10)  # woken by the caller's event
    assert either.is_set()
    mine = threading.Event()
    own = LinkedCancel(mine)
    own.set()
    assert own.is_set() and not mine.is_set()  # the caller's event is left alone
    assert LinkedCancel(None).wait(0) is False
