"""Imports of a module from itself, and of names it defines: what a small model writes
when told to use a helper of the file it changes.

Asked to add a function to `pkg/utils.py` that calls `helper`, defined there too, a
small model writes `from pkg.utils import helper` (or `from .utils import helper`, or
`import pkg.utils`) above its code. Inside `pkg/utils.py` that import runs while the
module is half made, and fails: `cannot import name 'helper' from partially
initialized module 'pkg.utils'`. An import from elsewhere of a name the file defines
itself is the same mistake in another form (one of the two shadows the other).

A file's module names are the ones the indexer resolves imports by
(`indexer.imports.python.module_names`: packages found by their `__init__.py`, `src/`
layouts); a relative import is resolved against the file's package. A name a package's
`__init__.py` imports from itself may be a submodule (`from pkg import utils`), which
is not the module's own. Only Python is read, and only imports at the top of a file.

The other mistake of the kind: asked to add a function, a small model imports it from
a sibling module instead, as if it were there. Which names an instruction asks to be
defined is read plainly ("add a function NAME", "define `NAME`"), so that an import of
a name it only mentions is never refused.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from codectx.indexer.imports._common import norm
from codectx.indexer.imports.python import module_names

if TYPE_CHECKING:
    from tree_sitter import Node

IsFile = Callable[[str], bool]
"""Whether a repository-relative path is a file of the repository."""


@dataclass(frozen=True)
class Imported:
    """One name an import statement binds."""

    text: str
    """As written in the statement: `helper`, `helper as h`, `pkg.utils as u`."""
    name: str
    """What is imported: the module of an `import`, else the name taken from the module."""
    bound: str
    """The name it binds in the importing file."""


@dataclass(frozen=True)
class Statement:
    """An import statement, read."""

    source: str
    """The module names are taken from, as written (`pkg.utils`, `.utils`, `.`); empty for
    an `import` statement."""
    level: int
    """How many dots a relative `from` import starts with."""
    names: tuple[Imported, ...]
    star: bool = False
    """`from m import *`."""

    def without(self, dropped: Iterable[Imported]) -> str | None:
        """The statement as it reads without `dropped` (None: nothing is left of it)."""
        gone = set(dropped)
        kept = [n.text for n in self.names if n not in gone]
        if not kept or self.star:
            return None
        if self.source:
            return f"from {self.source} import {', '.join(kept)}"
        return f"import {', '.join(kept)}"


@dataclass(frozen=True)
class OwnImport:
    """What of an import statement is the module's own, and what is left of it."""

    statement: str
    name: str
    """The file's module name, as the statement names it where it does (`pkg.utils`)."""
    source: str
    """Where the statement imports from (empty for an `import` statement)."""
    whole: tuple[str, ...]
    """What stands for the module itself (`pkg.utils` of `import pkg.utils`, `utils` of
    `from . import utils`, `*` of `from .utils import *` in `pkg/utils.py`)..."""
    itself: tuple[str, ...]
    """... names taken from the module itself (`from pkg.utils import helper`), ..."""
    local: tuple[str, ...]
    """... those of them the file defines, ..."""
    shadowed: tuple[str, ...]
    """... and names the file defines, imported from another module."""
    kept: str | None
    """The statement without the module's own names (None: nothing is left of it)."""

    def note(self, path: str) -> str:
        """One line saying what the merge left out, and why."""
        dropped = f"`{_one_line(self.statement)}`"
        if self.kept is not None:
            dropped = f"{_quoted([*self.whole, *self.itself, *self.shadowed])} from {dropped}"
        whys = []
        if self.whole or set(self.itself) - set(self.local):
            whys.append(f"{path} is {self.name} itself")
        if self.local or self.shadowed:
            whys.append(f"{path} defines {_quoted([*self.local, *self.shadowed], '')} itself")
        return f"dropped {dropped}: {'; '.join(whys)}"

    def reason(self, path: str) -> str:
        """One line for the model's retry: what is wrong, and what to write instead."""
        if self.whole:
            return (f"{path} imports itself ({self.name}), and a module cannot import "
                    "itself: use its names directly and remove the import")
        if self.itself:
            names = _quoted(list(self.itself), "")
            if set(self.itself) <= set(self.local):
                one = len(self.itself) == 1
                return (f"{path} imports {names} from itself ({self.name}); {names} "
                        f"{'is' if one else 'are'} defined in this file: call "
                        f"{'it' if one else 'them'} directly and remove the import")
            return (f"{path} imports {names} from itself ({self.name}), and a module cannot "
                    f"import from itself: define {names} in this file and remove the import")
        names = _quoted(list(self.shadowed), "")
        return (f"{path} imports {names} from {self.source}, but {path} defines {names} "
                "itself: use the file's own and remove the import")


def _quoted(names: list[str], tick: str = "`") -> str:
    marked = [f"{tick}{n}{tick}" for n in dict.fromkeys(names)]
    return marked[0] if len(marked) == 1 else ", ".join(marked[:-1]) + " and " + marked[-1]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def is_python(path: str) -> bool:
    return path.endswith((".py", ".pyi"))


def read_statement(node: Node) -> Statement | None:
    """An `import` or `from ... import` statement's node, read (None: another statement,
    or `from __future__`)."""
    if node.type == "import_statement":
        return Statement("", 0, tuple(_imported(n, module=True)
                                      for n in node.children_by_field_name("name")))
    if node.type != "import_from_statement":
        return None
    module = node.child_by_field_name("module_name")
    if module is None:
        return None
    source = _text(module)
    level = len(source) - len(source.lstrip(".")) if module.type == "relative_import" else 0
    star = any(c.type == "wildcard_import" for c in node.named_children)
    return Statement(source, level, tuple(_imported(n, module=False)
                                          for n in node.children_by_field_name("name")), star)


def _imported(node: Node, module: bool) -> Imported:
    inner, alias = node, None
    if node.type == "aliased_import":
        inner = node.child_by_field_name("name") or node
        alias_node = node.child_by_field_name("alias")
        alias = _text(alias_node) if alias_node is not None else None
    name = _text(inner)
    bound = alias or (name.split(".")[0] if module else name)
    return Imported(" ".join(_text(node).split()), name, bound)


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def parse_statement(statement: str) -> Statement | None:
    """An import statement's text, read (None: not one import statement)."""
    from tree_sitter import Parser

    from codectx.indexer.languages import grammar

    root = Parser(grammar("python")).parse(statement.encode("utf-8")).root_node
    if root.has_error or len(root.named_children) != 1:
        return None
    return read_statement(root.named_children[0])


def defined_names(text: str) -> set[str]:
    """The functions and classes a Python file defines at top level (assignments are
    left out: rebinding an imported name at top level is ordinary code)."""
    from codectx.indexer.parse import top_level_names

    return set(top_level_names("python", text.encode("utf-8", "replace")))


def _package_of(path: str) -> str:
    """The directory standing for the file's module: `pkg/utils` for `pkg/utils.py`,
    `pkg` for `pkg/__init__.py` ("" for a top-level `__init__.py`)."""
    base = path.rsplit(".", 1)[0]
    if base == "__init__" or base.endswith("/__init__"):
        return posixpath.dirname(base)
    return base


def _is_init(path: str) -> bool:
    return posixpath.basename(path).rsplit(".", 1)[0] == "__init__"


def _submodule(package: str, name: str, is_file: IsFile) -> bool:
    base = posixpath.join(package, name)
    return any(is_file(f"{base}{end}") for end in (".py", "/__init__.py", ".pyi"))


def own_names(path: str, statement: Statement, defined: set[str],
              is_file: IsFile) -> OwnImport | None:
    """What of `statement`, in the Python file at `path` defining `defined` at top level,
    is the module's own (None: nothing)."""
    names = module_names(path, is_file)
    package = _package_of(path)
    shown = min(names, key=lambda n: (n.count("."), n)) if names else package
    whole: list[Imported] = []
    itself: list[Imported] = []
    shadowed: list[Imported] = []
    if not statement.source:  # import a.b [as c]
        whole = [n for n in statement.names if n.name in names]
        shown = whole[0].name if whole else shown
    else:
        from_self, target = (_relative(path, statement, package) if statement.level
                             else (statement.source in names, None))
        if from_self and not statement.level:
            shown = statement.source
        for imported in statement.names:
            if (posixpath.join(target, imported.name) == package if target is not None
                    else f"{statement.source}.{imported.name}" in names):
                whole.append(imported)
                shown = shown if statement.level else f"{statement.source}.{imported.name}"
            elif from_self and not (_is_init(path)
                                    and _submodule(package, imported.name, is_file)):
                itself.append(imported)
            elif imported.bound in defined:
                shadowed.append(imported)
        if from_self and statement.star:
            return OwnImport(_statement_text(statement), shown, statement.source, ("*",),
                             (), (), (), None)
    if not (whole or itself or shadowed):
        return None
    return OwnImport(
        _statement_text(statement), shown, statement.source, tuple(n.name for n in whole),
        tuple(n.name for n in itself), tuple(n.name for n in itself if n.name in defined),
        tuple(n.bound for n in shadowed), statement.without([*whole, *itself, *shadowed]))


def _relative(path: str, statement: Statement, package: str) -> tuple[bool, str | None]:
    """Whether a relative `from` import takes its names from the file's own module, and
    the directory of the module it names (None: it climbs out of the repository)."""
    base = norm(posixpath.join(posixpath.dirname(path), *([".."] * (statement.level - 1))))
    if base is None:
        return False, None
    dotted = statement.source[statement.level:]
    target = posixpath.join(base, *dotted.split(".")) if dotted else base
    return target == package, target


def _statement_text(statement: Statement) -> str:
    if statement.star:
        return f"from {statement.source} import *"
    return statement.without(()) or ""


def own_import(path: str, text: str, statement: str,
               is_file: IsFile | None = None) -> OwnImport | None:
    """Whether the import `statement`, in the Python file at `path` whose text is `text`,
    imports the module itself or a name the file defines at top level; what of it does,
    and what is left of it (None: nothing of it is the module's own).

    `is_file` says which repository paths are files (default: none, so no directory is
    taken for a package)."""
    if not is_python(path):
        return None
    read = parse_statement(statement)
    if read is None:
        return None
    found = own_names(path, read, defined_names(text), is_file or (lambda _: False))
    return found if found is None else replace(found, statement=statement.strip())


ASKED_KIND = re.compile(
    r"\b(?:add|define|write|create|implement)\s+(?:an?\s+|the\s+)?(?:new\s+)?"
    r"(?:(?:async|static|private|public)\s+)?"
    r"(?:function|method|class|exception(?:\s+class)?|decorator|coroutine)\s+"
    r"(?:called\s+|named\s+)?`?([A-Za-z_]\w*)", re.IGNORECASE)
"""'add a function NAME', 'define a class NAME', 'add an exception class NAME'..."""
ASKED_NAME = re.compile(
    r"\b(?:define|implement)\s+(?:`([A-Za-z_]\w*)(?:\(\))?`|([A-Za-z_]\w*)\()", re.IGNORECASE)
"""'define `NAME`', 'implement NAME(...)': a name marked as code."""


def asked_to_define(instruction: str) -> tuple[str, ...]:
    """The names an instruction plainly asks to be defined ("add a function NAME",
    "define `NAME`"); a name it only mentions is not one (so none is refused by mistake)."""
    found = [m.group(1) for m in ASKED_KIND.finditer(instruction)]
    found += [m.group(1) or m.group(2) for m in ASKED_NAME.finditer(instruction)]
    return tuple(dict.fromkeys(found))


def top_imports(text: str) -> list[Statement]:
    """The import statements at the top level of a Python file, read."""
    from tree_sitter import Parser

    from codectx.indexer.languages import grammar
    from codectx.indexer.parse import top_level

    root = Parser(grammar("python")).parse(text.encode("utf-8", "replace")).root_node
    read = (read_statement(p.node) for p in top_level(root) if p.kind == "import")
    return [s for s in read if s is not None]


def _items(statements: Iterable[Statement]) -> set[tuple[str, str]]:
    return {(s.source, "*" if s.star else n.text) for s in statements
            for n in (s.names or (Imported("*", "*", "*"),))}


def added_imports(before: str | None, after: str) -> list[Statement]:
    """The import statements of `after` that bring in something `before` did not (each
    whole, as written)."""
    had = _items(top_imports(before)) if before is not None else set()
    return [s for s in top_imports(after) if not _items([s]) <= had]


def added_own_imports(path: str, before: str | None, after: str,
                      is_file: IsFile) -> list[OwnImport]:
    """The imports a change to the Python file at `path` adds that are the module's own:
    of the module itself, or of a name the file, as changed, defines."""
    if not is_python(path):
        return []
    defined = defined_names(after)
    had = _items(top_imports(before)) if before is not None else set()
    found = []
    for statement in added_imports(before, after):
        own = own_names(path, statement, defined, is_file)
        if own is None:
            continue
        mine = {*own.whole, *own.itself, *own.shadowed}
        if any((statement.source, n.text) not in had for n in statement.names
               if n.name in mine or n.bound in mine) or statement.star:
            found.append(own)
    return found


def defines(text: str, name: str) -> bool:
    """Whether Python `text` defines `name` anywhere: a function, a method, a class, or an
    assignment at the start of a line."""
    word = re.escape(name)
    return re.search(rf"^[ \t]*(?:(?:async[ \t]+)?def|class)[ \t]+{word}\b|^{word}[ \t]*[:=]",
                     text, re.MULTILINE) is not None


def imported_instead(changes: Iterable[tuple[str, str | None, str | None]],
                     instruction: str) -> list[str]:
    """Why a change that imports a name the instruction asks to be defined, and defines it
    nowhere, is refused (empty: none does). `changes` are (path, before, after)."""
    asked = asked_to_define(instruction)
    if not asked:
        return []
    changed = [(p, b, a) for p, b, a in changes if a is not None and is_python(p)]
    problems = []
    for name in asked:
        if any(defines(after, name) for _, _, after in changed):
            continue
        for path, before, after in changed:
            for statement in added_imports(before, after):
                if any(n.bound == name for n in statement.names):
                    where = f" from {statement.source}" if statement.source else ""
                    problems.append(
                        f"{path} imports {name}{where} instead of defining it, and the "
                        f"instruction asks for {name} to be defined: write its definition "
                        f"in {path} and remove the import")
    return problems
