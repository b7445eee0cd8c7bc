"""What an edit shows of the files it changes: whole when small, the part it needs when not.

A ten-line change to a 5,000-token file should not cost minutes of prefill on a CPU,
nor bury the definition to change in a small model's view. A file over the edit's
share of the time-sized room is shown as its imports and, in full, the definitions
the instruction names (with the header of a class around a method), then an outline
of the whole file. The reply names definitions (the definitions format), which are
merged into the real file by name, so what was not shown stays byte for byte as it
was. Only that format is merged so: with the others (whole files, SEARCH/REPLACE),
files are always shown whole.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from codectx.assistant.edits.paths import readable_path
from codectx.assistant.excerpts import excerpt
from codectx.errors import CodectxError
from codectx.indexer.languages import has_grammar, language_of
from codectx.tokens import TokenCounter

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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
    target = root / readable_path(root, path, f"--files {path}")
    if buffers and path in buffers:
        return buffers[path]
    if not target.is_file():
        raise CodectxError(f"--files {path}: no such file in {root}",
                           "Name files relative to the repository root.")
    return target.read_text(encoding="utf-8", errors="replace")


def whole_files(root: Path, files: Sequence[str],
                buffers: Mapping[str, str] | None = None) -> str:
    """The files' text, each whole, as a question carries pinned files."""
    return "".join(whole(path, _read(root, path, buffers)) for path in files)


def edit_view(root: Path, files: Sequence[str], instruction: str, fmt: str,
              cap: int | None, counter: TokenCounter) -> View:
    """The files to change as the request shows them; `cap`: the tokens they may take
    together (None: no cap, every file whole)."""
    parts: list[str] = []
    partial: list[str] = []
    need = 0
    share = cap // max(len(files), 1) if cap is not None else None
    for path in files:
        text = _read(root, path, None)
        size = counter.count(text)
        shown = None
        if share is not None and fmt == "definitions" and size > share:
            shown = _part(path, text, instruction)
        if shown is None:
            parts.append(whole(path, text))
            need += size
        else:
            parts.append(shown[0])
            partial.append(path)
            need += counter.count(shown[1])
    return View("".join(parts), tuple(partial), need)


def _part(path: str, text: str, instruction: str) -> tuple[str, str] | None:
    """The excerpt and outline of a large file, and the definitions it shows in full;
    None when there is no grammar or nothing to show."""
    language = language_of(path)
    if not has_grammar(language):
        return None
    from codectx.indexer.parse import parse_file

    names = set(_WORD.findall(instruction))
    cut = excerpt(language, text, names)
    outline = parse_file(language, text.encode("utf-8", errors="surrogateescape")).outline
    if cut is None and not outline:
        return None
    named = (f"its imports and the definitions the change names ({', '.join(cut.names)})"
             if cut is not None else "nothing the change names: only its outline")
    shown = (f"\n\n{path} is large: shown here are {named}; `...` marks code left out, "
             "which stays exactly as it is. Write only the definitions you add or change.")
    if cut is not None:
        shown += f"\n```\n{cut.text}```"
    shown += f"\nThe outline of {path} (one line per definition):\n```\n{outline}```"
    return shown, cut.text if cut is not None else ""
