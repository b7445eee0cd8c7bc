"""Rust: `mod` declarations and `use` paths (`crate::`, `self::`, `super::`, nested
groups) walked through module files and `mod.rs` directories."""

from __future__ import annotations

import posixpath
import re

from codectx.indexer.imports._common import Files, norm
from codectx.indexer.parse import ImportRef


class Rule:
    def __init__(self, files: Files) -> None:
        self.files = files

    def __call__(self, path: str, ref: ImportRef) -> list[str]:
        if ref.kind == "mod":
            hit = self._module_file(_module_dir(path), ref.spec)
            return [hit] if hit else []
        src = self._crate_src(path)
        found = []
        for use_path in _expand_use(ref.spec):
            segments = use_path.split("::")
            directory: str | None
            if segments[0] == "crate":
                directory, segments = src, segments[1:]
            elif segments[0] in ("self", "super"):
                directory = _module_dir(path)
                while segments and segments[0] in ("self", "super"):
                    if segments[0] == "super":
                        directory = norm(posixpath.join(directory or "", ".."))
                    segments = segments[1:]
            else:
                directory = _module_dir(path)
            if directory is None:
                continue
            hit = None
            for segment in segments:
                step = self._module_file(directory, segment)
                if step is None:
                    break
                hit, directory = step, _module_dir(step)
            if hit:
                found.append(hit)
        return found

    def _crate_src(self, path: str) -> str | None:
        """The `src` directory of the crate a file belongs to."""
        directory = posixpath.dirname(path)
        while True:
            if posixpath.join(directory, "Cargo.toml") in self.files.paths:
                return posixpath.join(directory, "src") if directory else "src"
            if not directory:
                return None
            directory = posixpath.dirname(directory)

    def _module_file(self, directory: str, name: str) -> str | None:
        return self.files.first((posixpath.join(directory, f"{name}.rs"),
                                 posixpath.join(directory, name, "mod.rs")))


def _module_dir(path: str) -> str:
    """Where the child modules of the module in `path` live."""
    name = posixpath.basename(path)
    if name in ("lib.rs", "main.rs", "mod.rs"):
        return posixpath.dirname(path)
    return path[: -len(".rs")]


def _expand_use(spec: str) -> list[str]:
    """`a::{b, c::{d, e}}` -> ["a::b", "a::c::d", "a::c::e"], aliases and globs dropped."""
    spec = re.sub(r"\s+as\s+\w+", "", spec)
    spec = re.sub(r"\s+", "", spec).replace("::*", "")
    if "{" not in spec:
        return [spec.removesuffix("::self")] if spec else []
    head, _, rest = spec.partition("{")
    body = rest[: rest.rfind("}")]
    items, depth, current = [], 0, ""
    for char in body:
        if char == "," and depth == 0:
            items.append(current)
            current = ""
            continue
        depth += char == "{"
        depth -= char == "}"
        current += char
    items.append(current)
    out = []
    for item in filter(None, items):
        out.extend(_expand_use(head + item if item != "self" else head.rstrip(":")))
    return out
