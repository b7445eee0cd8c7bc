"""Levels of detail, and what kind of file each file is.

A file can be in the prompt at one of five levels, dearest first:
full text; skeleton (signatures, class and function headers, each
docstring's first line); outline (one line per definition, members
indented); names (the path and its top-level names on one line); listed (in
the file tree only); collapsed (counted in one line of the tree that stands for
its directory). Files in a language with a grammar get their views from
the tree-sitter parse (`parse`); the others from a text rule here: markdown
shows its headings, JSON, YAML and TOML their top-level keys, other text its
first lines.

A file's kind weighs its importance: source before tests, tests before docs
and configuration, those before changelogs, and data, fixtures, snapshots,
vendored and generated files last. Those last start at a low level (their
head or their keys) and reach full text only when everything else is full.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum

from codectx.indexer.content import generated_reason


class Level(StrEnum):
    FULL = "full"
    SKELETON = "skeleton"
    OUTLINE = "outline"
    NAMES = "names"
    LISTED = "listed"
    COLLAPSED = "collapsed"
    """In a directory the file tree shows as one line (below every file's own levels)."""


DEEPEST_LAST = (Level.LISTED, Level.NAMES, Level.OUTLINE, Level.SKELETON, Level.FULL)
"""The levels from the cheapest to full text."""

HEAD_LINES = 8  # what the outline of plain text or data shows
MAX_NAMES = 40  # names beyond these are counted, not listed


@dataclass(frozen=True)
class TextShapes:
    outline: str | None
    names: tuple[str, ...]


_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_YAML_KEY = re.compile(r"^([A-Za-z0-9_][\w.\-]*|\"[^\"]+\"|'[^']+')\s*:(?:\s|$)")
_TOML_KEY = re.compile(r"^([A-Za-z0-9_\-\"'.]+)\s*=")
_TOML_TABLE = re.compile(r"^\[\[?([^\]]+)\]\]?\s*$")


def head(text: str, lines: int = HEAD_LINES) -> str:
    """The first lines of a text, each cut to 200 characters."""
    kept = [line[:200] for line in text.splitlines()[:lines]]
    return "\n".join(kept) + ("\n" if kept else "")


def text_shapes(language: str, text: str) -> TextShapes:
    """The outline and names of a file without a grammar."""
    if language == "markdown":
        headings = []
        fenced = False
        for line in text.splitlines():
            if line.lstrip().startswith(("```", "~~~")):
                fenced = not fenced
            match = None if fenced else _HEADING.match(line)
            if match:
                headings.append((len(match.group(1)), match.group(2)))
        if headings:
            top = min(level for level, _ in headings)
            outline = "".join("  " * (level - top) + f"{title}\n" for level, title in headings)
            return TextShapes(outline, tuple(t for level, t in headings if level == top))
    keys = data_keys(language, text)
    if keys:
        return TextShapes("".join(f"{k}\n" for k in keys), tuple(keys))
    return TextShapes(head(text) or None, ())


def data_keys(language: str, text: str) -> list[str]:
    """The top-level keys of a JSON, YAML or TOML document (empty when it has none)."""
    if language == "json":
        try:
            value = json.loads(text)
        except ValueError:
            return []
        return [str(k) for k in value] if isinstance(value, dict) else []
    pattern = {"yaml": _YAML_KEY, "toml": _TOML_KEY}.get(language)
    if pattern is None:
        return []
    keys: list[str] = []
    for line in text.splitlines():
        if language == "toml" and (table := _TOML_TABLE.match(line)):
            keys.append(f"[{table.group(1).strip()}]")
        elif match := pattern.match(line):
            if language == "toml" and any(k.startswith("[") for k in keys):
                continue  # a key inside a table, not at the top level
            keys.append(match.group(1).strip("\"'"))
    return list(dict.fromkeys(keys))


# -- kinds -------------------------------------------------------------------------------

KIND_WEIGHT = {"source": 1.0, "test": 0.5, "docs": 0.25, "config": 0.25, "changelog": 0.1,
               "data": 0.01}
"""How much a file's PageRank counts, by kind."""

DATA_SIZE = 20_000  # bytes of JSON, CSV, SVG or other markup above which a file is data
_SNAPSHOT_DIRS = ("__snapshots__/", "snapshots/", "__fixtures__/", "fixtures/", "testdata/")
_VENDORED = ("vendor/", "vendored/", "third_party/", "third-party/", "external/")
_DATA_LANGUAGES = {"json", "csv", "tsv", "ndjson", "jsonl", "svg", "xml", "html"}
_DATA_SUFFIXES = (".json", ".csv", ".tsv", ".ndjson", ".jsonl", ".svg", ".xml", ".html",
                  ".htm", ".geojson")
_CONFIG_SUFFIXES = (".toml", ".yaml", ".yml", ".ini", ".cfg", ".conf", ".json", ".lock")
_DOC_SUFFIXES = (".md", ".markdown", ".rst", ".txt", ".adoc")
_TEST = re.compile(r"(^|/)(tests?|spec|__tests__)/|(^|/)test_[^/]*$|_test\.[^/]+$|"
                   r"\.(test|spec)\.[^/]+$|(^|/)conftest\.py$")
_CHANGELOG = re.compile(r"(^|/)(changelog|changes|history|news|releases?)(\.[^/]*)?$",
                        re.IGNORECASE)


@dataclass(frozen=True)
class Kind:
    name: str
    """"source", "test", "docs", "config", "changelog" or "data"."""
    reason: str | None = None
    """Why a file is data ("test snapshot", "JSON data over 20 kB", ...)."""

    @property
    def weight(self) -> float:
        return KIND_WEIGHT[self.name]


def data_reason(path: str, size: int, head_bytes: bytes, code: bool = False) -> str | None:
    """Why a file counts as data, fixtures or generated (None: it does not); `code`: it is
    in a language with a grammar (source under a fixtures directory is a test's input, but
    still code)."""
    lowered = path.lower()
    padded = "/" + lowered
    if lowered.endswith(".snap") or any(f"/{d}" in padded for d in _SNAPSHOT_DIRS[:1]):
        return "test snapshot"
    if any(f"/{d}" in padded for d in _VENDORED):
        return "vendored"
    if lowered.endswith((".min.js", ".min.css", ".map")):
        return "minified"
    generated = generated_reason(head_bytes)
    if generated:
        return generated
    suffix = lowered[lowered.rfind("."):] if "." in lowered.rpartition("/")[2] else ""
    if suffix in _DATA_SUFFIXES and size > DATA_SIZE:
        return f"{suffix[1:].upper()} over {DATA_SIZE // 1000} kB"
    if not code and any(f"/{d}" in padded for d in _SNAPSHOT_DIRS[1:]):
        return "test fixture"
    return None


def is_test_path(path: str) -> bool:
    """Whether a repository path is a test's: under tests/, spec/ or __tests__/, named
    test_*, *_test.* or *.test.*/*.spec.*, or a conftest.py."""
    return bool(_TEST.search(path))


def kind_of(path: str, language: str, size: int, head_bytes: bytes) -> Kind:
    """What kind of file a path is, from its path, size and first bytes."""
    from codectx.indexer.languages import has_grammar

    reason = data_reason(path, size, head_bytes, has_grammar(language))
    if reason:
        return Kind("data", reason)
    name = path.rpartition("/")[2]
    if _CHANGELOG.search(path):
        return Kind("changelog")
    if is_test_path(path):
        return Kind("test")
    lowered = name.lower()
    if lowered.endswith(_DOC_SUFFIXES) or lowered.startswith(("readme", "license", "copying")):
        return Kind("docs")
    if lowered.endswith(_CONFIG_SUFFIXES) or lowered.startswith(".") or language in (
            "text", "makefile", "dockerfile") or language in _DATA_LANGUAGES:
        return Kind("config")
    return Kind("source")
