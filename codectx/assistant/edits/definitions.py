"""The definition-level edit format: the model writes only the definitions it adds or
changes, and they are merged into the file through tree-sitter.

A small model asked for a whole file writes the new function alone; here that is
exactly the reply wanted. Each top-level definition of the reply (a function, a
class, a type) replaces the file's definition of the same name, or, when the name
is new, goes after the file's last definition of its kind (else at the end). A
class whose name the file has is merged member by member: a method with an
existing name replaces it, a new one goes at the end of the class. Imports the
reply has and the file lacks go after the file's imports, except, in Python, what of
an import is the module's own (`edits.selfimport`: the module itself, or a name it
defines): a small model imports the helper it was told to use from the very file it
changes, which would then fail to import; that much of the import is dropped, and a
note says so. So is, in Python, what of a reply's import nothing in the reply uses,
when the reply adds code (a small model writes a long `from .x import ...` of names it
has seen, from a module that is not there); `from __future__` and a package's
`__init__.py` excepted. A constant's assignment replaces the assignment of the same name where
it stands. A statement repeated as it is in the file (a small model often copies what
it was shown around its change) is left as it is. Anything else in the reply goes at
the end. A language without a grammar, or a new file, takes the reply as the whole
file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from codectx.assistant.edits.selfimport import OwnImport, own_names, read_statement
from codectx.assistant.excerpts import ELIDED, declared
from codectx.indexer.languages import grammar, has_grammar, language_of, spec
from codectx.indexer.parse import TopLevel, top_level

if TYPE_CHECKING:
    from tree_sitter import Node

class MergeError(ValueError):
    """The reply's code cannot be merged (it does not parse)."""


def _is_class(part: TopLevel) -> bool:
    return "class" in part.kind or part.kind in ("struct_item", "impl_item")


def _members(node: Node) -> tuple[Node | None, list[TopLevel]]:
    body = node.child_by_field_name("body")
    return body, (top_level(body) if body is not None else [])


def syntax_problem(root: Node) -> str:
    """Where a tree first fails to parse, as the model can mend it: the line, and what
    tree-sitter found missing there or could not parse."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_missing:
            return f"line {node.start_point[0] + 1}: missing `{node.type}`"
        if node.type == "ERROR":
            text = (node.text or b"").decode("utf-8", "replace").strip().splitlines()
            shown = text[0][:60] if text else ""
            return f"line {node.start_point[0] + 1}: cannot parse `{shown}`"
        if node.has_error:
            stack.extend(reversed(node.children))
    return "a syntax error"


@dataclass(frozen=True)
class Merged:
    """A merge's result."""

    text: str
    notes: tuple[str, ...] = ()
    """What the merge left out of the reply, and why, a line each."""


def merge(path: str, original: str, reply: str) -> str:
    """`original` with the reply's definitions merged in."""
    return merge_reply(path, original, reply).text


def merge_reply(path: str, original: str, reply: str,
                is_file: Callable[[str], bool] | None = None) -> Merged:
    """`original` with the reply's definitions merged in, and what was left out of it;
    `is_file` says which repository paths are files (it finds the file's package)."""
    language = language_of(path)
    if not has_grammar(language):
        return Merged(reply)
    from tree_sitter import Parser

    parser = Parser(grammar(language))
    # The view of a large file marks code left out with a line of `...`: not code to add.
    reply = "".join(line for line in reply.splitlines(keepends=True)
                    if line.rstrip("\r\n") != ELIDED)
    new_tree = parser.parse(reply.encode("utf-8"))
    if new_tree.root_node.has_error:
        raise MergeError(f"the reply's code for {path} does not parse ("
                         f"{syntax_problem(new_tree.root_node)}); write complete definitions")
    source = original.encode("utf-8")
    old_parts = top_level(parser.parse(source).root_node)
    gap = b"\n\n" if spec(language).braces else b"\n\n\n"
    edits: list[tuple[int, int, bytes]] = []  # (start, end, text) on the original
    tail: list[bytes] = []
    new_imports: list[bytes] = []
    old_imports = [p for p in old_parts if p.kind == "import"]
    known_imports = {source[p.start:p.end].strip() for p in old_imports}
    reply_bytes = reply.encode("utf-8")
    new_parts = top_level(new_tree.root_node)
    notes: list[str] = []
    own = _own_imports(path, language, old_parts, new_parts, is_file)
    unused = _unused_imports(path, language, new_parts, reply_bytes)
    for part in new_parts:
        text = reply_bytes[part.start:part.end]
        if part.kind == "import":
            if text.strip() in known_imports:
                continue
            found = own(part)
            if found is not None:
                notes.append(found.note(path))
                text = found.kept.encode("utf-8") if found.kept is not None else b""
            elif (left := unused(part)) is not None:
                notes.append(f"dropped `{_line(text)}`" if left[0] is None else
                             f"dropped {left[1]} from `{_line(text)}`")
                notes[-1] += ": nothing the reply adds uses it"
                text = (left[0] or "").encode("utf-8")
            if text.strip() and text.strip() not in known_imports:
                new_imports.append(text)
            continue
        same = _same(part, old_parts)
        if _copied(text, same, old_parts, source):
            continue  # repeated as it is: nothing to merge
        if same is not None and _is_class(same):
            edits.extend(_merge_members(same, part, source, reply_bytes))
        elif same is not None:
            _no_stub(same, part, path)
            edits.append((same.start, same.end, text))
        elif part.name is not None:
            kin = [p for p in old_parts if p.kind == part.kind]
            after = kin[-1].end if kin else None
            if after is None:
                tail.append(text)
            else:
                edits.append((after, after, gap + text))
        else:
            tail.append(text)
    if new_imports:
        at = old_imports[-1].end if old_imports else 0
        joined = b"\n".join(new_imports)
        edits.append((at, at, (b"\n" + joined) if old_imports else joined + b"\n"))
    merged = source
    for start, end, text in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        merged = merged[:start] + text + merged[end:]
    if tail:
        merged = merged.rstrip(b"\n") + gap + gap.join(tail)
    return Merged(merged.rstrip(b"\n").decode("utf-8") + "\n", tuple(notes))


def _line(text: bytes) -> str:
    flat = " ".join(text.decode("utf-8", "replace").split())
    return flat if len(flat) <= 80 else flat[:77] + "..."


def _unused_imports(path: str, language: str, parts: list[TopLevel], reply: bytes,
                    ) -> Callable[[TopLevel], tuple[str | None, str] | None]:
    """What of a reply's Python import its code does not use: None when all of it is
    used (or the reply is imports alone, the import `__future__`, or the file a package's
    `__init__.py`), else the import as it reads without the unused names (None: nothing
    is left) and those names, quoted."""
    code = [reply[p.start:p.end] for p in parts if p.kind != "import"]
    if language != "python" or not code or path.rsplit("/", 1)[-1] == "__init__.py":
        return lambda _: None
    words = set(re.findall(rb"[A-Za-z_][A-Za-z0-9_]*", b"\n".join(code)))

    def unused(part: TopLevel) -> tuple[str | None, str] | None:
        statement = read_statement(part.node)
        if statement is None or statement.star or statement.source == "__future__":
            return None
        idle = [n for n in statement.names if n.bound.encode() not in words]
        if not idle:
            return None
        return statement.without(idle), ", ".join(f"`{n.bound}`" for n in idle)

    return unused


def _own_imports(path: str, language: str, old: list[TopLevel], new: list[TopLevel],
                 is_file: Callable[[str], bool] | None) -> Callable[[TopLevel], OwnImport | None]:
    """What of a reply's import is the module's own (`edits.selfimport`), given what the
    file defines once merged: its definitions and the reply's."""
    if language != "python":
        return lambda _: None
    defined = {p.name for p in [*old, *new] if p.kind != "import" and p.name is not None}

    def own(part: TopLevel) -> OwnImport | None:
        statement = read_statement(part.node)
        if statement is None:
            return None
        return own_names(path, statement, defined, is_file or (lambda _: False))

    return own


def _names(part: TopLevel) -> tuple[str, ...]:
    """What a statement defines: a definition's name, an assignment's targets."""
    return tuple(declared(part))


def _same(part: TopLevel, old: list[TopLevel]) -> TopLevel | None:
    """The statement of `old` that `part` stands for: the same kind defining the same
    names (a function, a class, a constant's assignment)."""
    names = _names(part)
    if not names:
        return None
    return next((p for p in old if p.kind == part.kind and _names(p) == names), None)


def _copied(text: bytes, same: TopLevel | None, old: list[TopLevel], source: bytes) -> bool:
    """Whether a reply's statement repeats one that is there already, byte for byte
    (a small model often copies the file it was shown around its change)."""
    if same is not None:
        return source[same.start:same.end].strip() == text.strip()
    return any(source[p.start:p.end].strip() == text.strip() for p in old)


def _stub(part: TopLevel) -> bool:
    """Whether a Python function's body is only `...` or `pass` (a docstring aside)."""
    body = part.node.child_by_field_name("body")
    if part.kind != "function_definition" or body is None:
        return False
    rest = [n for n in body.named_children if n.type != "comment"]
    if rest and rest[0].type == "expression_statement" and \
            rest[0].named_children and rest[0].named_children[0].type == "string":
        rest = rest[1:]  # its docstring
    return len(rest) == 1 and (rest[0].type == "pass_statement" or (
        rest[0].type == "expression_statement"
        and [c.type for c in rest[0].named_children] == ["ellipsis"]))


def _no_stub(old: TopLevel, new: TopLevel, path: str) -> None:
    """Refuse a reply that replaces a definition's body with a stub (a small model copies
    one from a `.pyi` file or an outline)."""
    if _stub(new) and not _stub(old):
        where = f" in {path}" if path else ""
        raise MergeError(f"the reply replaces `{new.name}`{where} with a stub (`...`): write "
                         "only the definitions that are new or change, each with its body")


def _docstring(members: list[TopLevel]) -> TopLevel | None:
    first = members[0] if members else None
    if first is not None and first.kind == "expression_statement" and \
            first.node.named_children and first.node.named_children[0].type == "string":
        return first
    return None


def _merge_members(old: TopLevel, new: TopLevel, source: bytes,
                   reply: bytes) -> list[tuple[int, int, bytes]]:
    old_body, old_members = _members(old.node)
    new_body, new_members = _members(new.node)
    if old_body is None or new_body is None:
        return [(old.start, old.end, reply[new.start:new.end])]
    edits = []
    old_doc = _docstring(old_members)
    for member in new_members:
        text = reply[member.start:member.end]
        same = _same(member, old_members)
        if same is None and member is _docstring(new_members) and old_doc is not None:
            same = old_doc  # the class's docstring, rewritten
        if _copied(text, same, old_members, source) or (
                text.strip() == ELIDED.encode() and old_members):
            continue  # repeated, or the view's marker of members left out
        if same is not None:
            _no_stub(same, member, "")
            edits.append((same.start, same.end, text))
        else:
            end = old_members[-1].end if old_members else old_body.end_byte
            indent = _indent(reply, member.start)
            edits.append((end, end, b"\n\n" + indent + text))
    return edits


def _indent(source: bytes, start: int) -> bytes:
    """The whitespace before `start` on its line (a member's text starts after it)."""
    line_start = source.rfind(b"\n", 0, start) + 1
    prefix = source[line_start:start]
    return prefix if not prefix.strip() else b""
