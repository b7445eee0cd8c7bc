"""What a file to change already defines, said before its text: which module it is, and
its definitions by their signatures.

Told to add a function to `pkg/utils.py` that uses `helper`, defined there too, a small
model shown code without being told whose it is imports `helper` from `pkg.utils` (a
self-import, which fails while the module is half made) or writes `helper` again; told
to subclass a class of the module, it imports the class. What makes the module plain is
data, not wording: the module's dotted name (Python, named the way the indexer resolves
imports) and one line per definition it has, its signature without its body (a def
line, a class line with its bases, and the members of the classes the change names),
under one sentence saying they are used directly, never imported. Any language with a
grammar gets the lines; only Python has a module name to say.

The header is small by design (signatures only, at most `LINES` lines) and is sized
by the view's budget: it loses lines, the least needed first (private names, then
public ones; never before those the change names), before the file's own code is cut.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from codectx.assistant.excerpts import declared
from codectx.indexer.languages import grammar, has_grammar, language_of
from codectx.indexer.parse import TopLevel, top_level
from codectx.tokens import TokenCounter

if TYPE_CHECKING:
    from tree_sitter import Node

LINES = 40
"""Definitions a header lists at most (beyond: "... and N more")."""
_CONTAINERS = ("class", "struct", "interface", "impl", "trait", "enum")
_STATEMENT = 80
"""Characters of a definition without a body (a constant, a type alias) shown at most."""
_SIGNATURE = 200
_PREFIX = 48
"""Characters of decorators or an `export` kept before a signature at most: `@property`
says how a member is used, a long `@pytest.mark.parametrize(...)` says nothing of it."""
_OPEN = re.compile(r"([(\[{])\s+")
_CLOSE = re.compile(r",?\s+([)\]}])")


@dataclass(frozen=True)
class Entry:
    """One definition the file has."""

    text: str
    """Its signature, on one line."""
    names: tuple[str, ...]
    owner: int | None
    """The index of the class it is a member of; None at top level."""
    container: bool
    """A class (struct, interface, ...): its members are listed when the change names it."""


@dataclass(frozen=True)
class Defines:
    """What a file defines, to be said before it (see the module's doc)."""

    path: str
    module: str | None
    """Its dotted import name (Python only)."""
    entries: tuple[Entry, ...]

    def header(self, words: Collection[str], *, every_member: bool = False,
               most: int | None = LINES, room: int | None = None,
               counter: TokenCounter | None = None) -> str:
        """The header: `words` are the instruction's, whose classes (and the classes of its
        members) have their members listed, as has every class with `every_member`; at most
        `most` lines, and within `room` tokens by `counter` where it says (never less than
        its sentence)."""
        ranked = self._ranked(set(words), every_member)
        keep = len(ranked) if most is None else min(most, len(ranked))
        if room is not None and counter is not None:
            low, high = 0, keep
            while low < high:  # the most lines that fit
                middle = (low + high + 1) // 2
                if counter.count(self._render(ranked, middle)) <= room:
                    low = middle
                else:
                    high = middle - 1
            keep = low
        return self._render(ranked, keep)

    def _ranked(self, words: set[str], every_member: bool) -> list[int]:
        """The entries to list, most needed first: those the change names (with their
        class), the public members of the classes it names, other public names, then
        private ones; in file order within a rank."""
        named = [bool(words.intersection(e.names)) for e in self.entries]
        wanted = {e.owner for e, hit in zip(self.entries, named, strict=True)
                  if hit and e.owner is not None}
        wanted |= {i for i, e in enumerate(self.entries) if e.container and named[i]}
        opened = wanted | {i for i, e in enumerate(self.entries)
                           if e.container and every_member}
        rank: dict[int, int] = {}
        for i, entry in enumerate(self.entries):
            if entry.owner is not None and entry.owner not in opened:
                continue
            own = 0 if named[i] or i in wanted else 3 if _private(entry.names) \
                else 1 if entry.owner in wanted else 2
            # A member never ranks above its class, so it is never listed without it.
            rank[i] = max(own, rank[entry.owner]) if entry.owner is not None else own
        return sorted(rank, key=lambda i: (rank[i], i))

    def _render(self, ranked: list[int], keep: int) -> str:
        if self.module is None and not self.entries:
            return ""
        said, it = ((f"\n\n{self.path} is the module `{self.module}`. ", "It")
                    if self.module is not None else ("\n\n", self.path))
        if not self.entries:
            return f"{said}It defines nothing yet."
        if keep == 0:
            count = sum(1 for e in self.entries if e.owner is None)
            return (f"{said}Code in it uses the {count} names it defines directly, never "
                    "imports them." if self.module is not None else
                    f"{said}Code in {self.path} uses the {count} names it defines directly, "
                    "never imports them.")
        lines = [("    " if self.entries[i].owner is not None else "  ") + self.entries[i].text
                 for i in sorted(ranked[:keep])]
        if keep < len(ranked):
            lines.append(f"  ... and {len(ranked) - keep} more")
        return (f"{said}{it} already defines these (signatures only); code in it uses "
                "them directly by name, never imports them:\n" + "\n".join(lines))


def _private(names: tuple[str, ...]) -> bool:
    return all(n.startswith("_") and not n.endswith("__") for n in names)


def defines(path: str, text: str, is_file: Callable[[str], bool]) -> Defines | None:
    """What the file at the repository path `path` defines; None where its language has
    no grammar. `is_file` says which repository paths are files (a Python module's name
    comes from its packages' `__init__.py`)."""
    language = language_of(path)
    if not has_grammar(language):
        return None
    from tree_sitter import Parser

    source = text.encode("utf-8", errors="surrogateescape")
    root = Parser(grammar(language)).parse(source).root_node
    entries: list[Entry] = []
    for part in top_level(root):
        names = names_of(part)
        if not names:
            continue
        container = members_of(part)
        entries.append(Entry(_signature(source, part), names, None, container is not None))
        owner = len(entries) - 1
        for member in top_level(container) if container is not None else ():
            inner = names_of(member)
            if inner:
                entries.append(Entry(_signature(source, member), inner, owner, False))
    module = None
    if language == "python":
        from codectx.indexer.imports.python import module_names

        found = module_names(path, is_file)
        # The shortest name is the one code imports it by (`pkg.utils`, not `src.pkg.utils`).
        module = min(found, key=lambda n: (n.count("."), n)) if found else None
    return Defines(path, module, tuple(entries))


def names_of(part: TopLevel) -> tuple[str, ...]:
    """The names a statement defines: none for an import, a call, a docstring, an error;
    an `impl` block is known by the type it implements, Go's `type` by its specs."""
    if part.kind in ("import", "ERROR"):
        return ()
    names = declared(part)
    if not names:
        specs = [c.child_by_field_name("name") for c in part.node.named_children
                 if c.type.endswith("_spec")]
        names = [n.text.decode("utf-8", "replace") for n in specs if n is not None and n.text]
    if not names and part.kind.startswith(_CONTAINERS):
        implemented = part.node.child_by_field_name("type")
        if implemented is not None and implemented.text:
            names = [implemented.text.decode("utf-8", "replace")]
    return tuple(names)


def members_of(part: TopLevel) -> Node | None:
    body = part.node.child_by_field_name("body")
    return body if body is not None and part.kind.startswith(_CONTAINERS) else None


def _signature(source: bytes, part: TopLevel) -> str:
    """A definition's line: its header up to its body, on one line, with the decorators
    or `export` before it when they are short; a statement without a body as its start."""
    node = part.node
    prefix = _one_line(source[part.start:node.start_byte])
    prefix = f"{prefix} " if prefix and len(prefix) <= _PREFIX else ""
    body = node.child_by_field_name("body")
    if body is None:
        line = _one_line(source[node.start_byte:node.end_byte]).removesuffix(";")
        if len(line) > _STATEMENT:
            cut = line.find(" = ", 0, _STATEMENT)
            line = (line[:cut + 3] if cut > 0 else line[:_STATEMENT - 4] + " ") + "..."
        return prefix + line
    # Up to the last token before the body: a comment after a Python `:` is no part of it.
    end = max((c.end_byte for c in node.children
               if c.end_byte <= body.start_byte and c.type != "comment"),
              default=body.start_byte)
    line = _one_line(source[node.start_byte:end]).removesuffix(":").rstrip()
    if len(line) > _SIGNATURE:
        line = line[:_SIGNATURE - 4] + " ..."
    return prefix + line


def _one_line(code: bytes) -> str:
    """Code on one line: its whitespace runs as one space, none inside brackets' edges
    nor before a closing bracket (a trailing comma of a multi-line list dropped)."""
    line = " ".join(code.decode("utf-8", "replace").split())
    return _CLOSE.sub(r"\1", _OPEN.sub(r"\1", line))
