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

from codectx.assistant.edits.formats import FORMATS

ANY_PATH = '[A-Za-z0-9_.] [A-Za-z0-9_./-]*'
MAX_BLOCKS = 8  # when any path may be written


def _literal(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def edit_grammar(fmt: str, paths: Sequence[str] = (), *, any_path: bool = False,
                 deletions: bool = False) -> str | None:
    """GBNF for a reply in `fmt` that edits `paths` (and, with `any_path`, any path);
    None for a format without a grammar."""
    form = FORMATS.get(fmt)
    if form is None:
        return None
    choices = [_literal(p) for p in sorted(set(paths))]
    free = any_path or not choices
    if free:
        choices.append(ANY_PATH)
    # A bound on the blocks: a small model, free to go on, repeats its block up to the
    # answer's limit instead of ending. A whole file is written once.
    most = MAX_BLOCKS if free else (form.blocks_per_file + deletions) * len(choices)
    items = "(block | delete)" if deletions else "block"
    rules = [
        f'root ::= {items} ("\\n"? {items}){{0,{most - 1}}} "\\n"?',
        form.block_rule,
        form.line_rule,
        f"path ::= {' | '.join(choices)}",
    ]
    if deletions:
        rules.append('delete ::= "DELETE " path "\\n"')
    return "\n".join(rules) + "\n"
