"""Java: a class by its package and file name, a package's every file for `.*`, and the
class itself for a static import."""

from __future__ import annotations

import posixpath
from collections import defaultdict

from codectx.indexer import languages
from codectx.indexer.imports._common import Files
from codectx.indexer.parse import ImportRef


class Rule:
    def __init__(self, files: Files) -> None:
        self.classes: dict[str, str] = {}
        self.packages: dict[str, list[str]] = defaultdict(list)
        for path in sorted(files.facts):
            language, file_facts = files.facts[path]
            # The files of every language this family resolves, Java's own.
            if languages.spec(language).import_rule != "java":
                continue
            stem = posixpath.splitext(posixpath.basename(path))[0]
            package = file_facts.package or ""
            self.classes.setdefault(f"{package}.{stem}" if package else stem, path)
            self.packages[package].append(path)

    def __call__(self, path: str, ref: ImportRef) -> list[str]:
        spec = ref.spec
        if spec.endswith(".*"):
            package = spec[:-2]
            if package in self.packages:
                return list(self.packages[package])
            spec = package  # `import static a.B.*`: the class B
        parts = spec.split(".")
        for end in range(len(parts), 0, -1):
            hit = self.classes.get(".".join(parts[:end]))
            if hit:
                return [hit]
        return []
