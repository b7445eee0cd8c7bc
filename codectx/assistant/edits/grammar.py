"""The shape an edit reply must have, as a llama.cpp grammar (GBNF), built per request.

A small model asked for edits often writes prose, copies the example, names
files that do not exist or mixes formats. Generating under a grammar makes
every reply a sequence of blocks of the requested format: no prose, and every
path one the request allows (the files named with `--files`, or any path when
none are named or the instruction asks for a new file). `DELETE path` lines
are in the grammar only when the instruction asks for a deletion. The grammar
is a pure function of the request; the guard still checks what the blocks do.
"""

from __future__ import annotations

from collections.abc import Sequence

# A line of code inside a block: anything but a line that would close or divide it.
_LINES = {
    "whole": 'line ::= ([^`\\n] [^\\n]*)? "\\n"',
    "definitions": 'line ::= ([^`\\n] [^\\n]*)? "\\n"',
    "search-replace": 'line ::= ([^<=>\\n] [^\\n]*)? "\\n"',
}
_BLOCKS = {
    "whole": 'block ::= path "\\n" "```" [a-zA-Z0-9_+-]* "\\n" line* "```\\n"',
    "definitions": 'block ::= path "\\n" "```" [a-zA-Z0-9_+-]* "\\n" line* "```\\n"',
    "search-replace": ('block ::= path "\\n" "<<<<<<< SEARCH\\n" line* "=======\\n" line* '
                       '">>>>>>> REPLACE\\n"'),
}
ANY_PATH = '[A-Za-z0-9_.] [A-Za-z0-9_./-]*'
BLOCKS_PER_FILE = 4  # SEARCH/REPLACE blocks one file may get
MAX_BLOCKS = 8  # when any path may be written


def _literal(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def edit_grammar(fmt: str, paths: Sequence[str] = (), *, any_path: bool = False,
                 deletions: bool = False) -> str | None:
    """GBNF for a reply in `fmt` that edits `paths` (and, with `any_path`, any path);
    None for a format without a grammar."""
    if fmt not in _BLOCKS:
        return None
    choices = [_literal(p) for p in sorted(set(paths))]
    free = any_path or not choices
    if free:
        choices.append(ANY_PATH)
    # A bound on the blocks: a small model, free to go on, repeats its block up to the
    # answer's limit instead of ending. A whole file is written once.
    per_file = 1 if fmt in ("whole", "definitions") else BLOCKS_PER_FILE
    most = MAX_BLOCKS if free else (per_file + deletions) * len(choices)
    items = "(block | delete)" if deletions else "block"
    rules = [
        f'root ::= {items} ("\\n"? {items}){{0,{most - 1}}} "\\n"?',
        _BLOCKS[fmt],
        _LINES[fmt],
        f"path ::= {' | '.join(choices)}",
    ]
    if deletions:
        rules.append('delete ::= "DELETE " path "\\n"')
    return "\n".join(rules) + "\n"
