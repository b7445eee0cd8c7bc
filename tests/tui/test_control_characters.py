"""The terminal UI shows what a repository or a model wrote without its control
characters: no escape sequence of theirs reaches the screen."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from textual.widgets import DataTable, Markdown

from codectx.tui.widgets.diff_view import DiffView
from tests.conftest import make_repo
from tests.support.fake import FakeBackend
from tests.tui.test_app import APP, app_for, ask

OSC52 = "\x1b]52;c;aGk=\x07"
HIDE = "\x1b[2K\x1b[1G"
HOSTILE = OSC52 + HIDE + "\x9b31m"
UNSAFE = ("\x1b", "\x07", "\x9b")
EDIT = ("app.py\n<<<<<<< SEARCH\n    return 'hi ' + name\n=======\n"
        f"    return 'hello ' + name  # {HIDE}+# harmless\n>>>>>>> REPLACE\n")


def printable(text: str) -> bool:
    return not any(c in text for c in UNSAFE)


def rendered(renderable: object) -> str:
    """What a renderable writes, rendered as plain text (no styling of rich's own)."""
    console = Console(width=120, color_system=None, force_terminal=False)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


async def test_an_answer_a_diff_and_a_file_name_reach_the_screen_clean(tmp_path: Path) -> None:
    root = tmp_path / "r"
    make_repo(root, {"app.py": APP, f"odd{HOSTILE}.py": "X = 1\n"})
    app = app_for(root, FakeBackend([f"It greets.{HOSTILE} Done.", EDIT]))
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await ask(pilot, "what?")
        answer = next(iter(app.query(".answer").results(Markdown)))
        assert answer.source == "It greets.]52;c;aGk=[2K[1G31m Done."
        cells = [str(c) for c in app.query_one("#files", DataTable).get_column_at(0)]
        assert "odd]52;c;aGk=[2K[1G31m.py" in cells
        assert printable(app.export_screenshot())
        await ask(pilot, "/edit say hello")
        diff = rendered(app.query_one(DiffView).shown)
        assert "+    return 'hello ' + name  # [2K[1G+# harmless" in diff
        assert printable(diff) and printable(app.export_screenshot())
        app.notify(f"cannot read odd{HOSTILE}.py", title=f"codectx{HOSTILE}")
        await pilot.pause()
        shown = [(n.title, n.message) for n in app._notifications]
        assert ("codectx]52;c;aGk=[2K[1G31m", "cannot read odd]52;c;aGk=[2K[1G31m.py") in shown
