"""Resolve imports as written to files of this repository.

Resolution comes in families, one module each in this package, named for how it finds
a file: `python` (packages and relative imports), `js` (JS/TS specifiers with extension
and `index` resolution plus tsconfig `paths`), `go` (module paths), `rust` (`mod`/`use`),
`java` (packages), `include` (C/C++ include directories). Which family a language follows
is its record's `import_rule` in `languages`; the resolver loads the module of that name,
never tests a language's name and keeps no table of families. A family's module holds a
`Rule`: built once per index from the repository's `Files`, then called per reference.
An import that names no file of the repository is external: recorded, never an edge of
the dependency graph.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass

from codectx.indexer import languages
from codectx.indexer.imports._common import Files, Rule
from codectx.indexer.parse import FileFacts

__all__ = ["RULES", "Files", "Resolved", "Resolver", "family_rule"]

RULES: frozenset[str] = frozenset(
    module.name for module in pkgutil.iter_modules(__path__) if not module.name.startswith("_")
)
"""The families this package holds: what a record's `import_rule` may name."""


@dataclass(frozen=True)
class Resolved:
    internal: tuple[str, ...]
    external: tuple[str, ...]


def family_rule(name: str, files: Files) -> Rule:
    """The rule of the family module `name`, built for this repository."""
    rule: Rule = importlib.import_module(f"{__name__}.{name}").Rule(files)
    return rule


class Resolver:
    """Built once per index from every file's path and facts; resolves one file at a time."""

    def __init__(self, files: Files) -> None:
        named = dict.fromkeys(r.import_rule for r in languages.LANGUAGES.values() if r.import_rule)
        self.rules = {name: family_rule(name, files) for name in named}

    def resolve(self, path: str, language: str, facts: FileFacts) -> Resolved:
        rule_name = languages.spec(language).import_rule
        rule = self.rules[rule_name] if rule_name else None
        internal: list[str] = []
        external: list[str] = []
        for ref in facts.imports:
            found = rule(path, ref) if rule else []
            if found:
                internal.extend(p for p in found if p != path)
            else:
                external.append(ref.spec if not ref.level else "." * ref.level + ref.spec)
        return Resolved(tuple(dict.fromkeys(internal)), tuple(dict.fromkeys(external)))
