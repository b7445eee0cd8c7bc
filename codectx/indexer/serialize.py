"""The prompt text: a header, one block per file in order, then the file tree.

Two formats, both fence-safe without escaping file content:

* xml (default): `<file path=".." language=".." lines="N">` ... `</file>`.
  The `lines` attribute says exactly how many lines of content follow, so a
  file that itself contains `</file>` cannot end its block early.
* markdown: `## path` and a code fence longer than any backtick run inside
  the file, as CommonMark requires.

The header names only the repository and the file tree comes last, so adding,
removing or degrading a file never changes the bytes before the first file it
touches. Nothing here depends on time, the machine or the working directory.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from codectx.indexer.levels import MAX_NAMES, Level

_BACKTICKS = re.compile(r"`+")




@dataclass(frozen=True)
class Segment:
    """A piece of the prompt; `path` is set for file blocks. Spans are in tokens."""

    kind: str  # "header" | "file" | "tree"
    path: str | None
    text: str
    tokens: int
    start: int

    @property
    def end(self) -> int:
        return self.start + self.tokens


def _content(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


def header(name: str, fmt: str) -> str:
    intro = (
        f"The source files of the repository {name} follow, each after the files it "
        "depends on. A file not shown in full is marked as a skeleton (signatures and the "
        "first line of each docstring), an outline (one line per definition) or its names "
        "(its top-level names on one line). A list of every file comes after them."
    )
    if fmt == "markdown":
        return f"# Repository {name}\n\n{intro}\n\n"
    return f"<repository name={quoteattr(name)}>\n{intro}\n\n"


def names_line(names: tuple[str, ...]) -> str:
    shown = ", ".join(names[:MAX_NAMES])
    more = len(names) - MAX_NAMES
    return shown + (f", ... ({more} more)" if more > 0 else "")


def file_block(path: str, language: str, text: str, mode: Level, fmt: str,
               part: str | None = None) -> str:
    """A file's block at a level; for the names level, `text` is its names line and the
    block one short line; a listed file has no block. `part` names a piece of a file
    ("excerpt") shown instead of a level."""
    if mode in (Level.LISTED, Level.COLLAPSED):
        return ""
    if mode is Level.NAMES:
        line = text.strip().replace("\n", " ")
        if fmt == "markdown":
            return f"- {path}: {line}\n"
        return f"<names path={quoteattr(path)}>{_escape(line)}</names>\n"
    body = _content(text)
    if fmt == "markdown":
        longest = max((len(run) for run in _BACKTICKS.findall(body)), default=0)
        fence = "`" * max(3, longest + 1)
        shown = part or ("" if mode is Level.FULL else mode.value)
        title = f"## {path}" + (f" ({shown})" if shown else "")
        return f"{title}\n\n{fence}{language}\n{body}{fence}\n\n"
    attrs = f"path={quoteattr(path)} language={quoteattr(language)}"
    if part or mode is not Level.FULL:
        attrs += f' mode="{part or mode.value}"'
    return f"<file {attrs} lines=\"{body.count(chr(10))}\">\n{body}</file>\n\n"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


def file_line(path: str, mode: Level) -> str:
    """A file's line in the tree: its name, indented by its depth, marked when listed only
    (the other levels say theirs in their own block, so deepening a file never changes
    the tree)."""
    depth = path.count("/")
    mark = " (listed)" if mode is Level.LISTED else ""
    return "  " * depth + path.rpartition("/")[2] + mark + "\n"


def directory_line(directory: str) -> str:
    return "  " * directory.count("/") + directory.rpartition("/")[2] + "/\n"


def summary_line(directory: str, summary: str) -> str:
    """A collapsed directory's one line: its name and `summary` (the root is "./")."""
    if not directory:
        return f"./ {summary}\n"
    return "  " * directory.count("/") + directory.rpartition("/")[2] + f"/ {summary}\n"


def tree_frame(fmt: str) -> tuple[str, str]:
    if fmt == "markdown":
        return "## Files\n\n```text\n", "```\n"
    return "<tree>\n", "</tree>\n</repository>\n"


def tree(paths: list[tuple[str, Level]], fmt: str,
         collapsed: Mapping[str, str] | None = None) -> str:
    """Every file, as an indented tree; `collapsed`: the summary of each directory shown
    as one line instead of its files ("" for the root: the whole tree in one line)."""
    collapsed = collapsed or {}
    lines: list[str] = []
    seen_dirs: set[str] = set()
    if "" in collapsed:
        lines.append(summary_line("", collapsed[""]))
        paths = []
    for path, mode in sorted(paths):
        parts = path.split("/")
        hidden = False
        for depth in range(len(parts) - 1):
            directory = "/".join(parts[: depth + 1])
            if directory in collapsed:
                if directory not in seen_dirs:
                    seen_dirs.add(directory)
                    lines.append(summary_line(directory, collapsed[directory]))
                hidden = True
                break
            if directory not in seen_dirs:
                seen_dirs.add(directory)
                lines.append(directory_line(directory))
        if not hidden:
            lines.append(file_line(path, mode))
    opening, closing = tree_frame(fmt)
    return opening + "".join(lines) + closing
