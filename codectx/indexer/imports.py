"""Resolve imports as written to files of this repository.

There is one rule per way of naming a file (Python packages and relative
imports, JS/TS specifiers with extension and `index` resolution plus tsconfig
`paths`, Go module paths, Rust `mod`/`use`, Java packages, C/C++ include
directories), kept in `RULES` under a key; which rule a language follows is
its record's `import_rule` in `languages`, never a test of its name here.
An import that names no file of the repository is external: recorded, never
an edge of the dependency graph.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from codectx.indexer import languages
from codectx.indexer.parse import FileFacts, ImportRef

JS_EXTENSIONS = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
JS_RUNTIME_TO_SOURCE = {
    ".js": (".ts", ".tsx"), ".jsx": (".tsx",), ".mjs": (".mts",), ".cjs": (".cts",),
}
DEFAULT_INCLUDE_DIRS = ("include", "src", "")
_GO_MODULE = re.compile(r"^\s*module\s+(\S+)", re.MULTILINE)


@dataclass(frozen=True)
class Resolved:
    internal: tuple[str, ...]
    external: tuple[str, ...]


def _norm(path: str) -> str | None:
    """Normalize a repository-relative path; None when it climbs out of the repository."""
    norm = posixpath.normpath(path)
    if norm == ".":
        return ""
    return None if norm.startswith("../") or norm == ".." or norm.startswith("/") else norm


class Resolver:
    """Built once per index from every file's path and facts; resolves one file at a time."""

    def __init__(
        self,
        facts: Mapping[str, tuple[str, FileFacts]],
        read_text: Callable[[str], str | None],
        include_dirs: Iterable[str] = (),
    ) -> None:
        self.paths = frozenset(facts)
        self.read_text = read_text
        self.include_dirs = tuple(dict.fromkeys([*include_dirs, *DEFAULT_INCLUDE_DIRS]))
        self.dir_files: dict[str, list[str]] = defaultdict(list)
        for path in sorted(self.paths):
            self.dir_files[posixpath.dirname(path)].append(path)
        self.python_modules = self._python_index()
        self.js_modules = self._js_index()
        self.go_modules = self._go_modules()
        self.java_classes, self.java_packages = self._java_index(facts)
        self.tsconfigs: dict[str, tuple[str, list[tuple[str, list[str]]]] | None] = {}

    # -- dispatch ---------------------------------------------------------------

    def resolve(self, path: str, language: str, facts: FileFacts) -> Resolved:
        rule_name = languages.spec(language).import_rule
        rule = RULES[rule_name] if rule_name else None
        internal: list[str] = []
        external: list[str] = []
        for ref in facts.imports:
            found = rule(self, path, ref) if rule else []
            if found:
                internal.extend(p for p in found if p != path)
            else:
                external.append(ref.spec if not ref.level else "." * ref.level + ref.spec)
        return Resolved(tuple(dict.fromkeys(internal)), tuple(dict.fromkeys(external)))

    def _first(self, candidates: Iterable[str | None]) -> str | None:
        for candidate in candidates:
            if candidate is not None and candidate in self.paths:
                return candidate
        return None

    # -- Python -----------------------------------------------------------------

    def _python_index(self) -> dict[str, str]:
        index: dict[str, str] = {}
        for path in sorted(self.paths, key=lambda p: (p.count("/"), p)):
            if not path.endswith((".py", ".pyi")):
                continue
            parts = path.rsplit(".", 1)[0].split("/")
            dirs = parts[:-1]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            # Inside a package, the module is named from the directory above the topmost package.
            top = len(dirs)
            while top > 0 and "/".join([*dirs[:top], "__init__.py"]) in self.paths:
                top -= 1
            names = {".".join(parts)}
            if top < len(dirs):
                names.add(".".join(parts[top:]))
            if parts and parts[0] == "src":
                names.add(".".join(parts[1:]))
            for name in names:
                if name:
                    index.setdefault(name, path)
        return index

    def _python_file(self, base: str) -> str | None:
        return self._first(
            (f"{base}.py", f"{base}/__init__.py", f"{base}.pyi", f"{base}/__init__.pyi")
        )

    def _python(self, path: str, ref: ImportRef) -> list[str]:
        if ref.level:
            base = _norm(posixpath.join(posixpath.dirname(path), *([".."] * (ref.level - 1))))
            if base is None:
                return []
            module_base = posixpath.join(base, *ref.spec.split(".")) if ref.spec else base
            submodules = [self._python_file(posixpath.join(module_base, n)) for n in ref.names]
            hits = [f for f in submodules if f is not None]
            if len(hits) < len(ref.names) or not ref.names:
                package = self._python_file(module_base) if module_base else None
                if package:
                    hits.append(package)
            return hits
        named = [self.python_modules.get(f"{ref.spec}.{n}") for n in ref.names]
        found = [h for h in named if h is not None]
        if len(found) < len(ref.names) or not ref.names:
            module = self._python_module(ref.spec, path)
            if module:
                found.append(module)
        return found

    def _python_module(self, dotted: str, importer: str) -> str | None:
        parts = dotted.split(".")
        for end in range(len(parts), 0, -1):
            hit = self.python_modules.get(".".join(parts[:end]))
            if hit:
                return hit
        # A script importing its neighbour: the importer's directory is on sys.path.
        sibling = posixpath.join(posixpath.dirname(importer), *parts)
        return self._python_file(sibling)

    # -- JavaScript / TypeScript ------------------------------------------------

    def _js(self, path: str, ref: ImportRef) -> list[str]:
        if ref.spec.startswith("."):
            base = _norm(posixpath.join(posixpath.dirname(path), ref.spec))
            hit = self._js_file(base) if base is not None else None
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
                candidate = _norm(posixpath.join(base_dir, target.replace("*", star)))
                hit = self._js_file(candidate) if candidate is not None else None
                if hit:
                    return [hit]
        candidate = _norm(posixpath.join(base_dir, ref.spec))
        hit = self._js_file(candidate) if candidate is not None else None
        return [hit] if hit else []

    def _js_index(self) -> dict[str, str]:
        """What an extensionless specifier names: `base` + extension, else `base/index` + one."""
        ranked: dict[str, tuple[int, str]] = {}
        for path in self.paths:
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

    def _js_file(self, base: str) -> str | None:
        if base in self.paths:
            return base
        stem, ext = posixpath.splitext(base)
        swapped = self._first(stem + alt for alt in JS_RUNTIME_TO_SOURCE.get(ext, ()))
        return swapped or self.js_modules.get(base)

    def _tsconfig_for(self, path: str) -> tuple[str, list[tuple[str, list[str]]]] | None:
        directory = posixpath.dirname(path)
        while True:
            if directory not in self.tsconfigs:
                self.tsconfigs[directory] = self._load_tsconfig(directory)
            if self.tsconfigs[directory] is not None:
                return self.tsconfigs[directory]
            if not directory:
                return None
            directory = posixpath.dirname(directory)

    def _load_tsconfig(self, directory: str) -> tuple[str, list[tuple[str, list[str]]]] | None:
        import json5

        for name in ("tsconfig.json", "jsconfig.json"):
            cfg_path = posixpath.join(directory, name)
            text = self.read_text(cfg_path) if cfg_path in self.paths else None
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
            base_dir = _norm(posixpath.join(directory, base_url or ".")) or ""
            mappings = [(k, [t for t in v if isinstance(t, str)]) for k, v in paths.items()
                        if isinstance(v, list)]
            # The longest prefix before `*` wins, as in TypeScript.
            mappings.sort(key=lambda kv: -len(kv[0].split("*")[0]))
            return base_dir, mappings
        return None

    # -- Go ---------------------------------------------------------------------

    def _go_modules(self) -> list[tuple[str, str]]:
        modules = []
        for path in self.paths:
            if posixpath.basename(path) == "go.mod":
                match = _GO_MODULE.search(self.read_text(path) or "")
                if match:
                    modules.append((match.group(1), posixpath.dirname(path)))
        return sorted(modules, key=lambda m: -len(m[0]))

    def _go(self, path: str, ref: ImportRef) -> list[str]:
        for module, directory in self.go_modules:
            if ref.spec == module or ref.spec.startswith(module + "/"):
                package_dir = posixpath.join(directory, ref.spec[len(module) :].lstrip("/"))
                package_dir = package_dir.rstrip("/")
                return [p for p in self.dir_files.get(package_dir, [])
                        if p.endswith(".go") and not p.endswith("_test.go")]
        return []

    # -- Rust -------------------------------------------------------------------

    def _rust_src(self, path: str) -> str | None:
        """The `src` directory of the crate a file belongs to."""
        directory = posixpath.dirname(path)
        while True:
            if posixpath.join(directory, "Cargo.toml") in self.paths:
                return posixpath.join(directory, "src") if directory else "src"
            if not directory:
                return None
            directory = posixpath.dirname(directory)

    def _rust_module_dir(self, path: str) -> str:
        """Where the child modules of the module in `path` live."""
        name = posixpath.basename(path)
        if name in ("lib.rs", "main.rs", "mod.rs"):
            return posixpath.dirname(path)
        return path[: -len(".rs")]

    def _rust_module_file(self, directory: str, name: str) -> str | None:
        return self._first((posixpath.join(directory, f"{name}.rs"),
                            posixpath.join(directory, name, "mod.rs")))

    def _rust(self, path: str, ref: ImportRef) -> list[str]:
        if ref.kind == "mod":
            hit = self._rust_module_file(self._rust_module_dir(path), ref.spec)
            return [hit] if hit else []
        src = self._rust_src(path)
        found = []
        for use_path in _expand_use(ref.spec):
            segments = use_path.split("::")
            directory: str | None
            if segments[0] == "crate":
                directory, segments = src, segments[1:]
            elif segments[0] in ("self", "super"):
                directory = self._rust_module_dir(path)
                while segments and segments[0] in ("self", "super"):
                    if segments[0] == "super":
                        directory = _norm(posixpath.join(directory or "", ".."))
                    segments = segments[1:]
            else:
                directory = self._rust_module_dir(path)
            if directory is None:
                continue
            hit = None
            for segment in segments:
                step = self._rust_module_file(directory, segment)
                if step is None:
                    break
                hit, directory = step, self._rust_module_dir(step)
            if hit:
                found.append(hit)
        return found

    # -- Java -------------------------------------------------------------------

    @staticmethod
    def _java_index(
        facts: Mapping[str, tuple[str, FileFacts]],
    ) -> tuple[dict[str, str], dict[str, list[str]]]:
        classes: dict[str, str] = {}
        packages: dict[str, list[str]] = defaultdict(list)
        for path in sorted(facts):
            language, file_facts = facts[path]
            if languages.spec(language).import_rule != "java":
                continue
            stem = posixpath.splitext(posixpath.basename(path))[0]
            package = file_facts.package or ""
            classes.setdefault(f"{package}.{stem}" if package else stem, path)
            packages[package].append(path)
        return classes, packages

    def _java(self, path: str, ref: ImportRef) -> list[str]:
        spec = ref.spec
        if spec.endswith(".*"):
            package = spec[:-2]
            if package in self.java_packages:
                return list(self.java_packages[package])
            spec = package  # `import static a.B.*`: the class B
        parts = spec.split(".")
        for end in range(len(parts), 0, -1):
            hit = self.java_classes.get(".".join(parts[:end]))
            if hit:
                return [hit]
        return []

    # -- C / C++ ----------------------------------------------------------------

    def _include(self, path: str, ref: ImportRef) -> list[str]:
        directory = posixpath.dirname(path)
        bases = [directory] if ref.kind == "local" else []
        # Include directories are looked for beside every enclosing directory, nearest first,
        # so a project nested in a larger repository finds its own `include/`.
        while True:
            bases += [posixpath.join(directory, inc) for inc in self.include_dirs]
            if not directory:
                break
            directory = posixpath.dirname(directory)
        hit = self._first(_norm(posixpath.join(base, ref.spec)) for base in bases)
        return [hit] if hit else []


# A record's `import_rule` -> the files one reference in a file at `path` names.
RULES: dict[str, Callable[[Resolver, str, ImportRef], list[str]]] = {
    "python": Resolver._python,
    "js": Resolver._js,
    "go": Resolver._go,
    "rust": Resolver._rust,
    "java": Resolver._java,
    "include": Resolver._include,
}


def _match_star(pattern: str, spec: str) -> str | None:
    """What `*` in a tsconfig `paths` pattern matches in `spec`, or None."""
    if "*" not in pattern:
        return "" if pattern == spec else None
    prefix, suffix = pattern.split("*", 1)
    if spec.startswith(prefix) and spec.endswith(suffix) and len(spec) >= len(prefix + suffix):
        return spec[len(prefix) : len(spec) - len(suffix)]
    return None


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
