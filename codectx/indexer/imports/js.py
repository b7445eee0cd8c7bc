"""JavaScript and TypeScript: relative specifiers with extension and `index` resolution,
and bare ones through the nearest tsconfig's (or jsconfig's) `baseUrl` and `paths`."""

from __future__ import annotations

import posixpath
from typing import Any

from codectx.indexer.imports._common import Files, norm
from codectx.indexer.parse import ImportRef

JS_EXTENSIONS = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
JS_RUNTIME_TO_SOURCE = {
    ".js": (".ts", ".tsx"), ".jsx": (".tsx",), ".mjs": (".mts",), ".cjs": (".cts",),
}

TsConfig = tuple[str, list[tuple[str, list[str]]]]
"""A config's base directory, and its `paths` patterns with their targets, longest first."""


class Rule:
    def __init__(self, files: Files) -> None:
        self.files = files
        self.modules = _module_index(files.paths)
        self.tsconfigs: dict[str, TsConfig | None] = {}

    def __call__(self, path: str, ref: ImportRef) -> list[str]:
        if ref.spec.startswith("."):
            base = norm(posixpath.join(posixpath.dirname(path), ref.spec))
            hit = self._file(base) if base is not None else None
            return [hit] if hit else []
        config = self._tsconfig_for(path)
        if config is None:
            return []
        base_dir, mappings = config
        for pattern, targets in mappings:
            star = _match_star(pattern, ref.spec)
            if star is None:
                continue
            for target in targets:
                candidate = norm(posixpath.join(base_dir, target.replace("*", star)))
                hit = self._file(candidate) if candidate is not None else None
                if hit:
                    return [hit]
        candidate = norm(posixpath.join(base_dir, ref.spec))
        hit = self._file(candidate) if candidate is not None else None
        return [hit] if hit else []

    def _file(self, base: str) -> str | None:
        if base in self.files.paths:
            return base
        stem, ext = posixpath.splitext(base)
        swapped = self.files.first(stem + alt for alt in JS_RUNTIME_TO_SOURCE.get(ext, ()))
        return swapped or self.modules.get(base)

    def _tsconfig_for(self, path: str) -> TsConfig | None:
        directory = posixpath.dirname(path)
        while True:
            if directory not in self.tsconfigs:
                self.tsconfigs[directory] = self._load_tsconfig(directory)
            if self.tsconfigs[directory] is not None:
                return self.tsconfigs[directory]
            if not directory:
                return None
            directory = posixpath.dirname(directory)

    def _load_tsconfig(self, directory: str) -> TsConfig | None:
        import json5

        for name in ("tsconfig.json", "jsconfig.json"):
            cfg_path = posixpath.join(directory, name)
            text = self.files.read_text(cfg_path) if cfg_path in self.files.paths else None
            if text is None:
                continue
            try:
                data: Any = json5.loads(text)
            except ValueError:
                return None
            options = data.get("compilerOptions", {}) if isinstance(data, dict) else {}
            base_url = options.get("baseUrl")
            paths = options.get("paths") or {}
            if base_url is None and not paths:
                return None
            base_dir = norm(posixpath.join(directory, base_url or ".")) or ""
            mappings = [(k, [t for t in v if isinstance(t, str)]) for k, v in paths.items()
                        if isinstance(v, list)]
            # The longest prefix before `*` wins, as in TypeScript.
            mappings.sort(key=lambda kv: -len(kv[0].split("*")[0]))
            return base_dir, mappings
        return None


def _module_index(paths: frozenset[str]) -> dict[str, str]:
    """What an extensionless specifier names: `base` + extension, else `base/index` + one."""
    ranked: dict[str, tuple[int, str]] = {}
    for path in paths:
        ext = next((e for e in JS_EXTENSIONS if path.endswith(e)), None)
        if ext is None:
            continue
        rank = JS_EXTENSIONS.index(ext)
        stem = path[: -len(ext)]
        keys = [(stem, rank)]
        if stem.endswith("/index") or stem == "index":
            keys.append((stem.rpartition("/")[0] if "/" in stem else "", 100 + rank))
        for key, key_rank in keys:
            if key not in ranked or (key_rank, path) < ranked[key]:
                ranked[key] = (key_rank, path)
    return {key: path for key, (_, path) in ranked.items()}


def _match_star(pattern: str, spec: str) -> str | None:
    """What `*` in a tsconfig `paths` pattern matches in `spec`, or None."""
    if "*" not in pattern:
        return "" if pattern == spec else None
    prefix, suffix = pattern.split("*", 1)
    if spec.startswith(prefix) and spec.endswith(suffix) and len(spec) >= len(prefix + suffix):
        return spec[len(prefix) : len(spec) - len(suffix)]
    return None
