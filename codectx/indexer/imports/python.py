"""Python: dotted module names (packages, `src/` layouts, a script's neighbours) and
relative imports."""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from codectx.indexer.imports._common import Files, norm
from codectx.indexer.parse import ImportRef


class Rule:
    def __init__(self, files: Files) -> None:
        self.files = files
        self.modules = module_index(files.paths)

    def __call__(self, path: str, ref: ImportRef) -> list[str]:
        if ref.level:
            return self._relative(path, ref)
        named = [self.modules.get(f"{ref.spec}.{n}") for n in ref.names]
        found = [h for h in named if h is not None]
        if len(found) < len(ref.names) or not ref.names:
            module = self._module(ref.spec, path)
            if module:
                found.append(module)
        return found

    def _relative(self, path: str, ref: ImportRef) -> list[str]:
        base = norm(posixpath.join(posixpath.dirname(path), *([".."] * (ref.level - 1))))
        if base is None:
            return []
        module_base = posixpath.join(base, *ref.spec.split(".")) if ref.spec else base
        submodules = [self._file(posixpath.join(module_base, n)) for n in ref.names]
        hits = [f for f in submodules if f is not None]
        if len(hits) < len(ref.names) or not ref.names:
            package = self._file(module_base) if module_base else None
            if package:
                hits.append(package)
        return hits

    def _file(self, base: str) -> str | None:
        return self.files.first(
            (f"{base}.py", f"{base}/__init__.py", f"{base}.pyi", f"{base}/__init__.pyi")
        )

    def _module(self, dotted: str, importer: str) -> str | None:
        parts = dotted.split(".")
        for end in range(len(parts), 0, -1):
            hit = self.modules.get(".".join(parts[:end]))
            if hit:
                return hit
        # A script importing its neighbour: the importer's directory is on sys.path.
        sibling = posixpath.join(posixpath.dirname(importer), *parts)
        return self._file(sibling)


def module_names(path: str, is_file: Callable[[str], bool]) -> set[str]:
    """Every dotted name the Python file at `path` can be imported by; `is_file` says
    which repository paths are files (it finds the packages, by their `__init__.py`)."""
    parts = path.rsplit(".", 1)[0].split("/")
    dirs = parts[:-1]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    # Inside a package, the module is named from the directory above the topmost package.
    top = len(dirs)
    while top > 0 and is_file("/".join([*dirs[:top], "__init__.py"])):
        top -= 1
    names = {".".join(parts)}
    if top < len(dirs):
        names.add(".".join(parts[top:]))
    if parts and parts[0] == "src":
        names.add(".".join(parts[1:]))
    return {name for name in names if name}


def module_index(paths: frozenset[str]) -> dict[str, str]:
    """Every dotted name a Python file can be imported by -> the file."""
    index: dict[str, str] = {}
    for path in sorted(paths, key=lambda p: (p.count("/"), p)):
        if not path.endswith((".py", ".pyi")):
            continue
        for name in module_names(path, paths.__contains__):
            index.setdefault(name, path)
    return index
