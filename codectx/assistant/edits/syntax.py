"""The syntax gate: a change whose files no longer parse is refused before anything is written.

Every changed file in a language with a tree-sitter grammar is parsed as it would be
after the change. A file that parsed before is refused at its first error or missing
node; a file that did not parse before (a template, a syntax the grammar lags behind)
is judged only on the lines the change wrote, and a few lines around them. The refusal
names the file, the line, what tree-sitter found there and the line's text, so the
model's retry can mend exactly that.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from codectx.assistant.edits.plan import FileChange
from codectx.indexer.languages import grammar, has_grammar, language_of

if TYPE_CHECKING:
    from tree_sitter import Node

NEAR = 2
"""Lines around a change that still count as the change's, in a file that did not parse."""


@dataclass(frozen=True)
class SyntaxProblem:
    path: str
    line: int
    """1-based."""
    what: str
    """"missing `)`", or "cannot parse"."""
    text: str
    """The line as the change wrote it."""
    broke: bool = False
    """The file parsed before the change (a new file, or one that never parsed: False)."""

    def describe(self) -> str:
        shown = f": `{self.text.strip()[:80]}`" if self.text.strip() else ""
        return (f"{self.path}: the changed file does not parse at line {self.line} "
                f"({self.what}){shown}; write complete, valid code")


@dataclass(frozen=True)
class _Error:
    line: int
    """0-based: where it begins, as the model can mend it."""
    first: int
    last: int
    """The lines it spans (0-based), nested errors included."""
    what: str


def _errors(root: Node) -> Iterator[_Error]:
    """Every error and missing node under root, nested ones too."""
    stack = [root]
    while stack:
        node = stack.pop()
        first, last = node.start_point[0], node.end_point[0]
        if node.is_missing:
            yield _Error(first, first, last, f"missing `{node.type}`")
            continue
        if node.type == "ERROR":
            yield _Error(_error_line(node), first, last, "cannot parse")
        if node.has_error:
            stack.extend(reversed(node.children))


def _in_written(errors: list[_Error], written: set[int]) -> _Error | None:
    """In a file that parsed before the change, the error is the change's, and the
    parser notices it where it goes wrong or after (a colon left out shows on the line
    below, or dozens of lines later). So: the first error at or after the first line the
    change wrote, on its own line when the change wrote that, else on the written line
    nearest before it. An error that begins before the change spans it (tree-sitter's
    recovery can swallow a whole module from its docstring on): with no other, the
    innermost such, on the first written line it spans."""
    if not errors or not written:
        return None
    later = [e for e in errors if e.line >= min(written)]
    if later:
        first = min(later, key=lambda e: (e.line, e.what))
        if first.line in written:
            return first
        line = max(w for w in written if w < first.line)
        return _Error(line, first.first, first.last, first.what)
    spanning = [e for e in errors if any(e.first <= w <= e.last for w in written)]
    if not spanning:
        return None
    inner = min(spanning, key=lambda e: (e.last - e.first, e.first))
    line = min(w for w in written if inner.first <= w <= inner.last)
    return _Error(line, inner.first, inner.last, inner.what)


CLOSING = {")": "(", "]": "[", "}": "{"}


def _error_line(node: Node) -> int:
    """Where an error begins, as the model can mend it. An error that swallows several
    lines often began at a token that never ended (a string left open): such a token
    the error holds bare; else a bracket it holds bare and never closes; else the first
    token in it that spans lines, a comment aside; else the error's own first line."""
    bare = [child for child in node.children if not child.child_count]
    for child in bare:
        if _spans_lines(child):
            return int(child.start_point[0])
    unclosed: list[Node] = []
    for child in bare:
        if child.type in CLOSING.values():
            unclosed.append(child)
        elif unclosed and CLOSING.get(child.type) == unclosed[-1].type:
            unclosed.pop()
    if unclosed:
        return int(unclosed[-1].start_point[0])
    stack = list(reversed(node.children))
    while stack:
        child = stack.pop()
        if child.child_count:
            stack.extend(reversed(child.children))
        elif _spans_lines(child):
            return int(child.start_point[0])
    return int(node.start_point[0])


def _spans_lines(token: Node) -> bool:
    """A token, a comment aside, that runs over more than one line."""
    return token.end_point[0] > token.start_point[0] and "comment" not in token.type


def _written_lines(before: str, after: str, near: int = NEAR) -> set[int]:
    """The 0-based lines of `after` that the change wrote, with `near` lines either side (a
    deletion marks the lines around where it was)."""
    old, new = before.splitlines(), after.splitlines()
    marked: set[int] = set()
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            marked.update(range(max(0, j1 - near), max(j2 + near, j1 + 1)))
    return marked


def _parse(language: str, text: str) -> Node:
    from tree_sitter import Parser

    return Parser(grammar(language)).parse(text.encode("utf-8", "surrogateescape")).root_node


def problem(change: FileChange) -> SyntaxProblem | None:
    """Why the change leaves its file unparseable, or None."""
    if change.after is None:
        return None
    language = language_of(change.path)
    if not has_grammar(language):
        return None
    tree = _parse(language, change.after)
    if not tree.has_error:
        return None
    errors = list(_errors(tree))
    broke = False
    if change.before is not None:
        broke = not _parse(language, change.before).has_error
        if broke:
            located = _in_written(errors, _written_lines(change.before, change.after, 0))
            errors = [located] if located is not None else errors
        else:
            written = _written_lines(change.before, change.after)
            errors = [e for e in errors if e.line in written]
    if not errors:
        return None
    first = min(errors, key=lambda e: (e.line, e.what))
    lines = change.after.splitlines()
    text = lines[first.line] if first.line < len(lines) else ""
    return SyntaxProblem(change.path, first.line + 1, first.what, text, broke)


def problems(changes: Sequence[FileChange]) -> list[str]:
    """The gate's refusals for a planned change (empty: every changed file parses)."""
    found = (problem(change) for change in changes)
    return [p.describe() for p in found if p is not None]
