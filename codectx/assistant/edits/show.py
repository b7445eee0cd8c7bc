"""A planned change as the front ends show it: changes to existing files as a diff,
new files and deletions each under a heading of their own colour.

Creating and deleting files are what a wrong reply can do the most damage with, so
they never look like an ordinary diff and are confirmed apart (see `commands`'s
/apply and the editor agent's permission requests).
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text

from codectx.assistant.edits.plan import EditPlan, FileChange
from codectx.printable import clean

STYLES = {"modify": "bold yellow", "create": "bold green", "delete": "bold red"}


def _lines(text: str | None) -> str:
    n = len((text or "").splitlines())
    return f"{n} line" if n == 1 else f"{n} lines"


def heading(change: FileChange) -> str:
    """One line naming what happens to the file: "new file x.py (12 lines)"."""
    if change.action == "create":
        return f"new file {change.path} ({_lines(change.after)})"
    if change.action == "delete":
        return f"delete {change.path} ({_lines(change.before)})"
    return f"change {change.path}"


def made_or_removed(plan: EditPlan) -> str:
    """What the plan creates and deletes, in words ("" when it does neither)."""
    made = [c.path for c in plan.changes if c.action == "create"]
    removed = [c.path for c in plan.changes if c.action == "delete"]
    parts = ([f"creates {', '.join(made)}"] if made else []) + (
        [f"deletes {', '.join(removed)}"] if removed else [])
    return " and ".join(parts)


def renderable(plan: EditPlan) -> Group:
    """The plan for a terminal: a heading per file in its action's colour; the diff of a
    changed file, the text of a new one (green), nothing more of a deleted one (red);
    then what planning left out of the reply, a note a line.

    The model wrote all of it: cleaned (`codectx.printable`), so that a line cannot
    move the cursor and overwrite itself, or what the user is asked to approve."""
    parts: list[RenderableType] = []
    for change in plan.changes:
        parts.append(Text(clean(heading(change)), style=STYLES[change.action]))
        if change.action == "modify":
            parts.append(Syntax(clean(change.diff), "diff", theme="ansi_dark",
                                background_color="default"))
        elif change.action == "create":
            parts.append(Text(clean(change.after or ""), style="green"))
    parts.extend(Text(clean(f"note: {note}"), style="dim") for note in plan.notes)
    return Group(*parts)
