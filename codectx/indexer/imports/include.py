"""C and C++: `#include` paths, a quoted one first beside the including file, then under
the include directories beside every enclosing directory."""

from __future__ import annotations

import posixpath

from codectx.indexer.imports._common import Files, norm
from codectx.indexer.parse import ImportRef

DEFAULT_INCLUDE_DIRS = ("include", "src", "")


class Rule:
    def __init__(self, files: Files) -> None:
        self.files = files
        self.include_dirs = tuple(dict.fromkeys([*files.include_dirs, *DEFAULT_INCLUDE_DIRS]))

    def __call__(self, path: str, ref: ImportRef) -> list[str]:
        directory = posixpath.dirname(path)
        bases = [directory] if ref.kind == "local" else []
        # Include directories are looked for beside every enclosing directory, nearest first,
        # so a project nested in a larger repository finds its own `include/`.
        while True:
            bases += [posixpath.join(directory, inc) for inc in self.include_dirs]
            if not directory:
                break
            directory = posixpath.dirname(directory)
        hit = self.files.first(norm(posixpath.join(base, ref.spec)) for base in bases)
        return [hit] if hit else []
