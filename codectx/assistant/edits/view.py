"""What an edit shows of the files it changes: whole when small, the part it needs when not.

A ten-line change to a 5,000-token file should not cost minutes of prefill on a CPU,
nor bury the definition to change in a small model's view; and a small model shown
a file right before it writes copies the file instead of writing the change. So in
the definitions format (the reply names definitions, merged into the real file by
name, so what is not shown stays byte for byte), a file over `SMALL_FILE` tokens is
shown as:
- its imports and, in full, the definitions the instruction names (with the header
  of a class around a method), then an outline of the whole file;
- when the instruction names no definition of it but new code (a name written as
  code that the file does not have): a line saying so, and no code to copy;
- when it names neither: whole if it fits the edit's share of the time-sized room,
  else its outline.
With the other formats (whole files, SEARCH/REPLACE) files are always shown whole.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from codectx.assistant.edits.paths import readable_path
from codectx.assistant.excerpts import excerpt
from codectx.assistant.retrieval import code_names
from codectx.errors import CodectxError
from codectx.indexer.languages import has_grammar, language_of
from codectx.tokens import TokenCounter

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SMALL_FILE = 256
"""Tokens up to which a file to change is always shown whole."""


@dataclass(frozen=True)
class View:
    text: str
    """What goes with the request: each file's text, or its excerpt and outline."""
    partial: tuple[str, ...] = ()
    """The files shown in part."""
    need: int = 0
    """Tokens of what the change may rewrite: the files shown whole and the definitions
    shown in full of the others (what bounds the reply, see `ending`)."""


def whole(path: str, text: str) -> str:
    return f"\n\nThe current content of {path}:\n```\n{text}```"


def _read(root: Path, path: str, buffers: Mapping[str, str] | None) -> str:
    """A named file's text: as an editor has it unsaved, else from disk, never through a
    link out of the repository."""
    target = root / readable_path(root, path, f"the file named, {path}")
    if buffers and path in buffers:
        return buffers[path]
    if not target.is_file():
        raise CodectxError(f"the file named, {path}: no such file in {root}",
                           "Name files relative to the repository root.")
    return target.read_text(encoding="utf-8", errors="replace")


def whole_files(root: Path, files: Sequence[str],
                buffers: Mapping[str, str] | None = None) -> str:
    """The files' text, each whole, as a question carries pinned files."""
    return "".join(whole(path, _read(root, path, buffers)) for path in files)


def edit_view(root: Path, files: Sequence[str], instruction: str, fmt: str,
              cap: int | None, counter: TokenCounter) -> View:
    """The files to change as the request shows them; `cap`: the tokens they may take
    together (None: no cap)."""
    parts: list[str] = []
    partial: list[str] = []
    need = 0
    share = cap // max(len(files), 1) if cap is not None else None
    for path in files:
        text = _read(root, path, None)
        size = counter.count(text)
        shown = None
        if fmt == "definitions" and size > SMALL_FILE:
            shown = _part(path, text, instruction, share is None or size <= share)
        if shown is None:
            parts.append(whole(path, text))
            need += size
        else:
            parts.append(shown[0])
            partial.append(path)
            need += counter.count(shown[1])
    return View("".join(parts), tuple(partial), need)


def _part(path: str, text: str, instruction: str, fits: bool) -> tuple[str, str] | None:
    """What a file is shown as, short of whole, and the code it shows in full; None to
    show it whole (no grammar; or nothing named nor added and it `fits`)."""
    language = language_of(path)
    if not has_grammar(language):
        return None
    from codectx.indexer.parse import parse_file

    present = set(_WORD.findall(text))
    added = sorted(n for n in code_names(instruction) if n not in present)
    words = set(_WORD.findall(instruction))
    # A class the change adds to is shown as its header: its whole body would be copied.
    cut = excerpt(language, text, words, headers=words if added else ())
    if cut is None:
        if added:
            # Code shown here would be copied, not extended: the repository above has it.
            return (f"\n\n{path} gets new code ({', '.join(added)}); what it has now "
                    "stays as it is. Write only the new code.", "")
        if fits:
            return None
    # The outline, first: a small model continues from the code it read last, which should
    # be the definitions to change; none when the change adds code (it would be copied).
    outline = ("" if added and cut is not None else
               parse_file(language, text.encode("utf-8", errors="surrogateescape")).outline)
    if cut is None and not outline:
        return None
    shown = (f"\n\nThe outline of {path} (one line per definition):\n```\n{outline}```"
             if outline else "\n")
    if cut is None:
        return shown + "\nWrite only the definitions you add or change.", ""
    return (shown + f"\nOf {path}, here are its imports and the definitions the change names "
            f"({', '.join(cut.names)}); `...` marks code left out, which stays exactly as it "
            f"is. Write only the definitions you add or change.\n```\n{cut.text}```",
            cut.text)
