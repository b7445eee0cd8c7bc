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
    if mode is Level.LISTED:
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


def tree(paths: list[tuple[str, Level]], fmt: str) -> str:
    """Every file, as an indented tree; a file listed here only is marked "(listed)"
    (the other levels say theirs in their own block, so deepening a file never changes
    the tree)."""
    lines: list[str] = []
    seen_dirs: set[str] = set()
    for path, mode in sorted(paths):
        parts = path.split("/")
        for depth in range(len(parts) - 1):
            directory = "/".join(parts[: depth + 1])
            if directory not in seen_dirs:
                seen_dirs.add(directory)
                lines.append("  " * depth + parts[depth] + "/")
        mark = " (listed)" if mode is Level.LISTED else ""
        lines.append("  " * (len(parts) - 1) + parts[-1] + mark)
    listing = "\n".join(lines) + ("\n" if lines else "")
    if fmt == "markdown":
        return f"## Files\n\n```text\n{listing}```\n"
    return f"<tree>\n{listing}</tree>\n</repository>\n"
