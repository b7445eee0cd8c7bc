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

    def describe(self) -> str:
        shown = f": `{self.text.strip()[:80]}`" if self.text.strip() else ""
        return (f"{self.path}: the changed file does not parse at line {self.line} "
                f"({self.what}){shown}; write complete, valid code")


def _errors(root: Node) -> Iterator[tuple[int, str]]:
    """Every error and missing node under root, in document order: (0-based line, what)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_missing:
            yield node.start_point[0], f"missing `{node.type}`"
            continue
        if node.type == "ERROR":
            yield _error_line(node), "cannot parse"
            continue
        if node.has_error:
            stack.extend(reversed(node.children))


def _error_line(node: Node) -> int:
    """Where an error begins, as the model can mend it. An error that swallows several
    lines often began at a token that never ended (a string left open): the first such
    token in it, a comment aside; else the error's own first line."""
    stack = list(reversed(node.children))
    while stack:
        child = stack.pop()
        if child.child_count:
            stack.extend(reversed(child.children))
        elif child.end_point[0] > child.start_point[0] and "comment" not in child.type:
            return int(child.start_point[0])
    return int(node.start_point[0])


def _written_lines(before: str, after: str) -> set[int]:
    """The 0-based lines of `after` that the change wrote, with NEAR lines either side (a
    deletion marks the lines around where it was)."""
    old, new = before.splitlines(), after.splitlines()
    marked: set[int] = set()
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            marked.update(range(max(0, j1 - NEAR), j2 + NEAR))
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
    if change.before is not None and _parse(language, change.before).has_error:
        written = _written_lines(change.before, change.after)
        errors = [(line, what) for line, what in errors if line in written]
    if not errors:
        return None
    line, what = min(errors)
    lines = change.after.splitlines()
    return SyntaxProblem(change.path, line + 1, what, lines[line] if line < len(lines) else "")


def problems(changes: Sequence[FileChange]) -> list[str]:
    """The gate's refusals for a planned change (empty: every changed file parses)."""
    found = (problem(change) for change in changes)
    return [p.describe() for p in found if p is not None]
