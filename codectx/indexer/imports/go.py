"""Go: import paths under a module a `go.mod` of the repository declares name a package
directory, that is its non-test `.go` files."""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict

from codectx.indexer.imports._common import Files
from codectx.indexer.parse import ImportRef

_GO_MODULE = re.compile(r"^\s*module\s+(\S+)", re.MULTILINE)


class Rule:
    def __init__(self, files: Files) -> None:
        self.dir_files: dict[str, list[str]] = defaultdict(list)
        for path in sorted(files.paths):
            self.dir_files[posixpath.dirname(path)].append(path)
        self.modules = _modules(files)

    def __call__(self, path: str, ref: ImportRef) -> list[str]:
        for module, directory in self.modules:
            if ref.spec == module or ref.spec.startswith(module + "/"):
                package_dir = posixpath.join(directory, ref.spec[len(module) :].lstrip("/"))
                package_dir = package_dir.rstrip("/")
                return [p for p in self.dir_files.get(package_dir, [])
                        if p.endswith(".go") and not p.endswith("_test.go")]
        return []


def _modules(files: Files) -> list[tuple[str, str]]:
    """Each module path a `go.mod` declares and its directory, longest path first."""
    modules = []
    for path in files.paths:
        if posixpath.basename(path) == "go.mod":
            match = _GO_MODULE.search(files.read_text(path) or "")
            if match:
                modules.append((match.group(1), posixpath.dirname(path)))
    return sorted(modules, key=lambda m: -len(m[0]))
