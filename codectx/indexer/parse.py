"""One file in, its facts out: the imports it names and its skeleton.

Tree-sitter queries (one file per language under `queries/`) find the import
statements and definitions; this module only reads the captured nodes, the
way the language's record in `languages` says: which reader turns an import
capture into references, and whether a skeleton's bodies are braces or
indentation. The result is plain data so the incremental cache can store it
by content hash.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from codectx.indexer.languages import LanguageSpec, grammar, has_grammar, query, spec

if TYPE_CHECKING:
    from tree_sitter import Node


@dataclass(frozen=True)
class ImportRef:
    """An import as written: `kind` says how to resolve `spec` (see `imports/`)."""

    kind: str
    spec: str
    names: tuple[str, ...] = ()
    level: int = 0


@dataclass(frozen=True)
class FileFacts:
    """What a parse says of a file: its imports and its cheaper views (see `levels`)."""

    imports: tuple[ImportRef, ...] = ()
    skeleton: str | None = None
    package: str | None = None
    parse_errors: bool = False
    outline: str | None = None
    names: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        # By hand: dataclasses.asdict deep-copies and costs more than the parse it caches.
        return {
            "imports": [[i.kind, i.spec, list(i.names), i.level] for i in self.imports],
            "skeleton": self.skeleton, "package": self.package, "parse_errors": self.parse_errors,
            "outline": self.outline, "names": list(self.names), "symbols": list(self.symbols),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileFacts:
        imports = tuple(
            ImportRef(kind, spec, tuple(names), level)
            for kind, spec, names, level in data["imports"]
        )
        return cls(imports, data["skeleton"], data["package"], data["parse_errors"],
                   data["outline"], tuple(data["names"]), tuple(data["symbols"]))


def parse_batch(items: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
    """`parse_file` over many files, returning cacheable JSON (runs in worker processes)."""
    return [parse_file(language, source).to_json() for language, source in items]


def parse_file(language: str, source: bytes) -> FileFacts:
    """Facts for a file; a file in a language without a grammar has no imports and its
    outline and names from a text rule (`levels.text_shapes`)."""
    if not has_grammar(language):
        from codectx.indexer.levels import text_shapes

        text = text_shapes(language, source.decode("utf-8", "replace"))
        return FileFacts(outline=text.outline, names=text.names)
    from tree_sitter import Parser, QueryCursor

    record = spec(language)
    read = READERS[record.import_reader]
    tree = Parser(grammar(language)).parse(source)
    captures = QueryCursor(query(language)).captures(tree.root_node)
    imports: list[ImportRef] = []
    package = None
    for name, nodes in sorted(captures.items()):
        if not name.startswith("import."):
            continue
        kind = name.removeprefix("import.")
        for node in sorted(nodes, key=lambda n: n.start_byte):
            # In any language's query, `import.package` names the file's package, not an import.
            if kind == "package":
                package = _text(node)
            else:
                imports.extend(read(kind, node))
    shapes = _shapes(record, source, captures)
    return FileFacts(tuple(imports), shapes.skeleton, package, tree.root_node.has_error,
                     shapes.outline, shapes.names, shapes.symbols)


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] in "\"'`<" and text[-1] in "\"'`>":
        return text[1:-1]
    return text


def _quoted_import(kind: str, node: Node) -> list[ImportRef]:
    """The capture is the module as written, perhaps in quotes or angle brackets."""
    return [ImportRef(kind, _unquote(_text(node)))]


def _python_imports(kind: str, node: Node) -> list[ImportRef]:
    """The capture is a whole `import` or `from` statement; one reference per module."""

    def dotted(name_node: Node) -> str:
        if name_node.type == "aliased_import":
            inner = name_node.child_by_field_name("name")
            return _text(inner) if inner else ""
        return _text(name_node)

    names = [dotted(n) for n in node.children_by_field_name("name")]
    if node.type == "import_statement":
        return [ImportRef(kind, n) for n in names if n]
    module = node.child_by_field_name("module_name")
    if module is None:
        return []
    if module.type == "relative_import":
        text = _text(module)
        level = len(text) - len(text.lstrip("."))
        return [ImportRef(kind, text[level:], tuple(names), level)]
    return [ImportRef(kind, _text(module), tuple(names))]


def _java_import(kind: str, node: Node) -> list[ImportRef]:
    """The capture is a whole declaration; `static` is kept as the reference's one name."""
    text = _text(node).removeprefix("import").strip().rstrip(";").strip()
    is_static = text.startswith("static ")
    dotted = text.removeprefix("static ").strip().replace(" ", "")
    return [ImportRef(kind, dotted, ("static",) if is_static else ())]


# A record's `import_reader` -> how one captured node becomes references of the capture's kind.
READERS: dict[str, Callable[[str, Node], list[ImportRef]]] = {
    "text": _quoted_import,
    "python": _python_imports,
    "java": _java_import,
}


def _line_indent(source: bytes, start: int) -> bytes:
    line_start = source.rfind(b"\n", 0, start) + 1
    prefix = source[line_start:start]
    return prefix if not prefix.strip() else b""


def _docstring(body: Node) -> Node | None:
    """A body's first statement when it is a bare string."""
    first = body.named_children[0] if body.named_children else None
    if first is not None and first.type == "expression_statement" and first.named_children:
        string = first.named_children[0]
        if string.type == "string":
            return first
    return None


def _first_line(doc: bytes) -> bytes:
    """A docstring cut to its first line of text, closed with its own quotes."""
    text = doc.strip()
    if b"\n" not in text:
        return text
    quote = next((q for q in (b'"""', b"'''") if q in text[:6]), b'"')
    opening = text[: text.index(quote) + len(quote)]
    first = next((line.strip() for line in text[len(opening):].split(b"\n") if line.strip()),
                 b"")
    return opening + first.removesuffix(quote) + quote


def _signature(header: bytes) -> bytes:
    """A definition's header as one outline line: its first line, without an opening
    brace or a trailing colon."""
    line = header.strip().split(b"\n")[0].rstrip()
    return line.removesuffix(b"{").rstrip().removesuffix(b":").rstrip()


NAME_TYPES = ("identifier", "type_identifier", "field_identifier")


def _definition_name(node: Node) -> str | None:
    """The name a definition introduces: its `name` field, else the name of a spec or
    declarator inside it (Go's `type X struct`, C's `int f(void)`)."""
    for _ in range(4):
        named = node.child_by_field_name("name")
        if named is not None:
            return _text(named) if named.type in NAME_TYPES or named.child_count == 0 \
                else _definition_name(named)
        if node.type in NAME_TYPES:
            return _text(node)
        inner = node.child_by_field_name("declarator") or next(
            (c for c in node.named_children if c.type.endswith(("_spec", "declarator"))), None)
        if inner is None:
            return None
        node = inner
    return None


@dataclass(frozen=True)
class Shapes:
    """The cheaper views of a parsed file."""

    skeleton: str
    outline: str
    names: tuple[str, ...]
    symbols: tuple[str, ...]
    """Every name the file defines, nested ones included, for the definition index."""


def _shapes(record: LanguageSpec, source: bytes, captures: dict[str, list[Node]]) -> Shapes:
    skeleton = _Skeleton(record, source)
    for start, neg_end, kind, node in _skeleton_items(captures):
        skeleton.add(start, -neg_end, kind, node)
    skeleton.close_until(None)
    # Constants and variables are definitions to look up, not skeleton lines.
    symbols = skeleton.symbols + [
        _text(n) for name, nodes in sorted(captures.items()) if name.startswith("symbol.")
        for n in sorted(nodes, key=lambda n: n.start_byte)]
    return Shapes(_joined(skeleton.out), _joined(skeleton.outline),
                  tuple(dict.fromkeys(skeleton.names)), tuple(dict.fromkeys(symbols)))


def _skeleton_items(captures: dict[str, list[Node]]) -> list[tuple[int, int, str, Node]]:
    """The `skeleton.<kind>` captures as (start, -end, kind, node), in source order with an
    enclosing node before the nodes inside it."""
    items: list[tuple[int, int, str, Node]] = []
    for name, nodes in captures.items():
        if name.startswith("skeleton."):
            kind = name.removeprefix("skeleton.")
            items.extend((n.start_byte, -n.end_byte, kind, n) for n in nodes)
    items.sort(key=lambda item: (item[0], item[1]))
    return items


def _joined(lines: list[bytes]) -> str:
    return b"\n".join(lines).decode("utf-8", "replace") + ("\n" if lines else "")


class _Skeleton:
    """A file's skeleton, outline and names, cut one captured node at a time."""

    def __init__(self, record: LanguageSpec, source: bytes) -> None:
        self.record = record
        self.source = source
        self.out: list[bytes] = []
        self.outline: list[bytes] = []
        self.names: list[str] = []
        self.symbols: list[str] = []
        self.open_containers: list[tuple[int, bytes]] = []  # (end byte, indent) still open
        self.depth_ends: list[int] = []  # end bytes of the containers around the current item
        self.covered_until = -1
        self.last_start = -1

    def add(self, start: int, end: int, kind: str, node: Node) -> None:
        """One captured node, unless it lies inside a function already cut."""
        if start < self.covered_until or start == self.last_start:
            return
        self.last_start = start
        self.close_until(start)
        while self.depth_ends and self.depth_ends[-1] <= start:
            self.depth_ends.pop()
        defined = _definition_name(node)
        if defined:
            self.symbols.append(defined)
            if not self.depth_ends:
                self.names.append(defined)
        indent = _line_indent(self.source, start)
        if kind in ("whole", "function"):
            self.covered_until = end  # nothing inside a function body belongs in a skeleton
        if kind == "whole":
            self._whole(self.source[start:end], indent, defined)
        else:
            self._definition(start, end, kind, node, indent)

    def close_until(self, start: int | None) -> None:
        """Close the containers that end by `start` (all still open, when None)."""
        while self.open_containers and (start is None or self.open_containers[-1][0] <= start):
            _, indent = self.open_containers.pop()
            if self.record.braces:
                self.out.append(indent + b"}")

    def _whole(self, whole: bytes, indent: bytes, defined: str | None) -> None:
        """A node kept whole; a leading docstring only by its first line."""
        if defined:  # a module docstring is no definition: the outline leaves it out
            self.outline.append(b"  " * len(self.depth_ends) + _signature(whole))
        shown = _first_line(whole) if self.record.docstrings and whole.lstrip()[:1] in b"\"'" \
            else whole.rstrip()
        self.out.append(indent + shown)

    def _definition(self, start: int, end: int, kind: str, node: Node, indent: bytes) -> None:
        """A function or container: its header, then its body elided or left open."""
        body = node.child_by_field_name("body")
        body_start = body.start_byte if body is not None else end
        header = indent + self.source[start:body_start].rstrip()
        self.outline.append(b"  " * len(self.depth_ends)
                            + _signature(self.source[start:body_start]))
        if kind != "function":
            self.depth_ends.append(end)
        if not self.record.braces:
            self._indented(header, kind, body, indent)
        elif kind == "function" or body is None:
            self.out.append(header + (b" { ... }" if body is not None else b""))
        else:
            self.out.append(header + b" {")
            self.open_containers.append((end, indent))

    def _indented(self, header: bytes, kind: str, body: Node | None, indent: bytes) -> None:
        """An indented body: a docstring's first line, and `...` for a function's."""
        self.out.append(header)
        doc = _docstring(body) if body is not None and self.record.docstrings else None
        inner = _line_indent(self.source, body.start_byte) if body is not None else indent + b"    "
        if doc is not None:
            self.out.append(inner + _first_line(self.source[doc.start_byte : doc.end_byte]))
        if kind == "function":
            self.out.append(inner + b"...")


IMPORT_TYPES = ("import", "use_declaration", "preproc_include", "package_clause")


@dataclass(frozen=True)
class TopLevel:
    """One top-level statement of a parsed file (or member of a class body)."""

    kind: str
    """ "import", or the definition's node type ("function_definition", ...)."""
    name: str | None
    start: int
    end: int
    """Its bytes, a decorator or an `export` included."""
    node: Node
    """The definition itself, inside any decorator or export."""


def top_level(parent: Node) -> list[TopLevel]:
    """The statements directly under `parent` (a module, or a class's body), in order."""
    found = []
    for node in parent.named_children:
        # A decorator or an export wraps the definition itself.
        inner = (node.child_by_field_name("definition")
                 or node.child_by_field_name("declaration") or node)
        name = inner.child_by_field_name("name")
        text = name.text.decode("utf-8", errors="replace") if name is not None and name.text \
            else None
        kind = "import" if any(t in node.type for t in IMPORT_TYPES) else inner.type
        found.append(TopLevel(kind, text, node.start_byte, node.end_byte, inner))
    return found


def top_level_names(language: str, source: bytes) -> list[str]:
    """The names of a file's top-level definitions (functions, classes, types), in order;
    empty for a language without a grammar or a file that does not parse."""
    if not has_grammar(language):
        return []
    from tree_sitter import Parser

    tree = Parser(grammar(language)).parse(source)
    if tree.root_node.has_error:
        return []
    return [part.name for part in top_level(tree.root_node)
            if part.kind != "import" and part.name is not None]
