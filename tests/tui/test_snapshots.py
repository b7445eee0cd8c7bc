"""How the app looks: the main screen, an edit proposal and the help, at two sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input

from codectx import config
from codectx.assistant.session import Session
from codectx.tui.app import CodectxApp
from tests.conftest import copy_fixture
from tests.support.fake import FakeBackend, ScriptedProvider

GOOD = ("pkg/util.py\n<<<<<<< SEARCH\n    return text.upper() + os.sep\n=======\n"
        "    return text.upper() + '!'\n>>>>>>> REPLACE\n")
SIZES = [(80, 24), (120, 40)]


def make_app(tmp_path: Path) -> CodectxApp:
    root = copy_fixture("python", tmp_path / "demo")
    provider = ScriptedProvider(FakeBackend([GOOD]))
    # No checks: a check's line says how long it took, which no snapshot can hold.
    loaded = config.load(root, {"check_edits": False})
    return CodectxApp(Session(root, loaded, provider), watch=False)


async def settle(pilot: Any) -> None:
    """Until the workers are done, their messages handled and the file table filled. The
    input's cursor is held still: a blinking one is on or off by the clock."""
    for box in pilot.app.query(Input):
        box.cursor_blink = False
    await pilot.app.workers.wait_for_complete()
    table = pilot.app.query_one("#files", DataTable)
    for _ in range(50):
        await pilot.pause(0.02)
        if table.row_count:
            break
    await pilot.pause(0.1)


def typing(line: str) -> list[str]:
    return [k if k != " " else "space" for k in line] + ["enter"]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(tmp_path), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_edit_proposal(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    async def propose(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press(*typing("/edit shout with an exclamation mark"))
        await settle(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=size, run_before=propose)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    async def show_help(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press(*typing("/help"))
        await settle(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=size, run_before=show_help)
