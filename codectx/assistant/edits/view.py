"""What an edit shows of the files it changes: whole when small, the part it needs when not,
each after a header saying which module it is and what it defines.

A ten-line change to a 5,000-token file should not cost minutes of prefill on a CPU,
nor bury the definition to change in a small model's view; and a small model shown
a file right before it writes copies the file instead of writing the change. Shown
code without being told whose it is, it imports from the file the helper it was told
to use. So every file with a grammar comes after its header (`edits.defines`: its
module's name and its definitions' signatures, capped, and the first to give way to
the view's budget), and in the definitions format (the reply names definitions,
merged into the real file by name, so what is not shown stays byte for byte), a file
over `SMALL_FILE` tokens is shown as:
- its imports and, in full, the definitions the instruction names (with the header
  of a class around a method; only the header and docstring of a class the change
  adds to, whose members' signatures the file's header lists);
- when the instruction names no definition of it but new code (a name written as
  code that the file does not have): a line saying so, and no code to copy;
- when it names neither: whole if it fits the edit's share of the time-sized room
  beside the least header, else only its header, every class's members listed.
With the other formats (whole files, SEARCH/REPLACE) files are always shown whole.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from codectx.assistant.edits.defines import LINES, defines
from codectx.assistant.edits.formats import named
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
    """What goes with the request: each file's header, then its text or excerpt."""
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
    """The files to change as the request shows them, each after its header
    (`edits.defines`); `cap`: the tokens they may take together (None: no cap)."""
    parts: list[str] = []
    partial: list[str] = []
    need = 0
    share = cap // max(len(files), 1) if cap is not None else None
    words = set(_WORD.findall(instruction))
    for path in files:
        text = _read(root, path, None)
        size = counter.count(text)
        known = defines(readable_path(root, path, f"the file named, {path}"), text,
                        lambda name: (root / name).is_file())
        # The header gives way first: the file is whole if it fits beside the least header.
        least = counter.count(known.header(words, most=0)) if known is not None else 0
        shown = None
        if named(fmt).merges and size > SMALL_FILE:
            shown = _part(path, text, instruction,
                          share is None or size + least <= share,
                          known is not None and bool(known.entries))
        if shown is None:
            body = whole(path, text)
            need += size
        else:
            body = shown.text
            partial.append(path)
            need += counter.count(shown.code)
        head = "" if known is None else known.header(
            words, every_member=shown is not None and shown.outline,
            most=None if shown is not None and shown.outline else LINES,
            room=None if share is None else share - counter.count(body), counter=counter)
        parts.append(head + body)
    return View("".join(parts), tuple(partial), need)


@dataclass(frozen=True)
class _Part:
    text: str
    code: str
    """What of it the change may rewrite: the definitions shown in full."""
    outline: bool = False
    """Only the header says what the file has: it lists every member of every class."""


def _part(path: str, text: str, instruction: str, fits: bool, defines_any: bool
          ) -> _Part | None:
    """What a file is shown as after its header, short of whole; None to show it whole
    (no grammar; or nothing named nor added and it `fits`, or it defines nothing)."""
    language = language_of(path)
    if not has_grammar(language):
        return None
    present = set(_WORD.findall(text))
    added = sorted(n for n in code_names(instruction) if n not in present)
    words = set(_WORD.findall(instruction))
    # A class the change adds to is shown as its header: its whole body would be copied.
    cut = excerpt(language, text, words, headers=words if added else ())
    if cut is not None:
        return _Part(f"\n\nOf {path}, here are its imports and the definitions the change "
                     f"names ({', '.join(cut.names)}); `...` marks code left out, which stays "
                     "exactly as it is. Write only the definitions you add or change."
                     f"\n```\n{cut.text}```", cut.text)
    if added:
        # Code shown here would be copied, not extended: the repository above has it.
        return _Part(f"\n\n{path} gets new code ({', '.join(added)}); what it has now "
                     "stays as it is. Write only the new code.", "")
    if fits or not defines_any:
        return None
    return _Part(f"\n\nThe list above is all {path} has, one line per definition. Write "
                 "only the definitions you add or change.", "", outline=True)
