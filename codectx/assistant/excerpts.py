"""The part of a large file that a question needs: what it names, in context.

A small model given a 3,000-token file to find one constant in reads the wrong
line; on a CPU the same file costs half a minute to evaluate. So when a large
file is retrieved for a name it defines, the question gets an excerpt instead:
the file's imports, each named definition in full (a function, a class, a
constant's assignment) and, for a method or a class attribute, the header of
the class around it, in file order, with an elision marker between parts. Found
with the tree-sitter parse; None where the file has no grammar, does not parse,
or defines none of the names at its top level or in a class.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from codectx.indexer.languages import grammar, has_grammar
from codectx.indexer.parse import TopLevel, top_level

if TYPE_CHECKING:
    from tree_sitter import Node

# The node types that declare names without a `name` field of their own.
_DECLARATIONS = ("lexical_declaration", "variable_declaration", "const_declaration",
                 "var_declaration", "field_declaration", "declaration")
ELIDED = "..."


@dataclass(frozen=True)
class Excerpt:
    text: str
    names: tuple[str, ...]
    """The names it shows the definitions of."""


def declared(part: TopLevel) -> list[str]:
    """The names a top-level statement or class member defines."""
    if part.name is not None:
        return [part.name]
    node = part.node
    if node.type == "expression_statement" and node.named_children:
        node = node.named_children[0]  # Python: the assignment inside
    if node.type == "assignment":
        left = node.child_by_field_name("left")
        return [_text(left)] if left is not None and left.type == "identifier" else []
    if node.type in _DECLARATIONS:
        names = []
        for child in node.named_children:
            if child.type.endswith(("declarator", "_spec")):
                inner = child.child_by_field_name("name") or child.child_by_field_name(
                    "declarator")
                while inner is not None and inner.type not in ("identifier",
                                                               "field_identifier"):
                    inner = inner.child_by_field_name("declarator")
                if inner is not None:
                    names.append(_text(inner))
        return names
    return []


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def excerpt(language: str, text: str, names: Iterable[str],
            headers: Iterable[str] = ()) -> Excerpt | None:
    """The imports and the named definitions of a file, or None (see the module's doc).
    A class named in `headers` is shown as its header and docstring (and the members
    named), not whole: what a change that adds to it needs."""
    wanted = set(names)
    short = set(headers)
    if not wanted or not has_grammar(language):
        return None
    from tree_sitter import Parser

    source = text.encode("utf-8", errors="surrogateescape")
    tree = Parser(grammar(language)).parse(source)
    spans: list[tuple[int, int]] = []
    found: list[str] = []
    for part in top_level(tree.root_node):
        if part.kind == "import":
            spans.append((part.start, part.end))
            continue
        hit = [n for n in declared(part) if n in wanted]
        body = part.node.child_by_field_name("body")
        is_class = body is not None and part.kind.startswith(
            ("class", "struct", "interface", "impl"))
        if hit and not (is_class and set(hit) <= short):
            spans.append((part.start, part.end))
            found += hit
            continue
        if body is None or not is_class:
            continue
        inside = top_level(body)
        members = [(m, [n for n in declared(m) if n in wanted]) for m in inside]
        members = [(m, named) for m, named in members if named]
        if inside and inside[0].kind == "expression_statement" and hit:
            members.insert(0, (inside[0], []))  # the docstring, with the header
        if members or hit:
            # The class's header; a body on lines of its own keeps its first indentation.
            end = body.start_byte
            if not source[_line_start(source, end):end].strip():
                end = _line_start(source, end)
            spans.append((part.start, end))
            found += hit
            for member, named in members:
                spans.append((max(_line_start(source, member.start), end), member.end))
                found += named
    if not found:
        return None
    return Excerpt(_join(source, spans), tuple(dict.fromkeys(found)))


def _line_start(source: bytes, at: int) -> int:
    """A member from the start of its line, so its indentation comes along."""
    return source.rfind(b"\n", 0, at) + 1


def _join(source: bytes, spans: list[tuple[int, int]]) -> str:
    parts: list[str] = []
    last_end = 0
    for start, end in sorted(spans):
        if start < last_end:
            continue
        if source[last_end:start].strip():
            parts.append(ELIDED)
        parts.append(source[start:end].decode("utf-8", "replace").rstrip())
        last_end = end
    if source[last_end:].strip():
        parts.append(ELIDED)
    return "\n".join(parts) + "\n"
