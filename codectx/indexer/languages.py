"""Which language a file is in, and the tree-sitter grammar and query for it.

Grammars come from packages that ship them compiled in their wheels, so
nothing is downloaded at run time. They are imported lazily: `codectx --help`
never pays for them.
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Language, Query

# language name -> (grammar module, function returning the grammar, query file stem)
GRAMMARS: dict[str, tuple[str, str, str]] = {
    "python": ("tree_sitter_python", "language", "python"),
    "javascript": ("tree_sitter_javascript", "language", "javascript"),
    "typescript": ("tree_sitter_typescript", "language_typescript", "typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx", "typescript"),
    "go": ("tree_sitter_go", "language", "go"),
    "rust": ("tree_sitter_rust", "language", "rust"),
    "java": ("tree_sitter_java", "language", "java"),
    "c": ("tree_sitter_c", "language", "c"),
    "cpp": ("tree_sitter_cpp", "language", "cpp"),
}

EXTENSIONS: dict[str, str] = {
    ".py": "python", ".pyi": "python",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c", ".h": "c",
    ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp", ".hh": "cpp", ".hxx": "cpp",
    # Files without a grammar here still get a language label in the prompt.
    ".md": "markdown", ".markdown": "markdown", ".rst": "rst", ".txt": "text",
    ".toml": "toml", ".json": "json", ".yaml": "yaml", ".yml": "yaml", ".ini": "ini",
    ".cfg": "ini", ".xml": "xml", ".html": "html", ".htm": "html", ".css": "css",
    ".scss": "scss", ".sh": "shell", ".bash": "shell", ".zsh": "shell", ".sql": "sql",
    ".rb": "ruby", ".php": "php", ".kt": "kotlin", ".swift": "swift", ".cs": "csharp",
    ".scala": "scala", ".lua": "lua", ".r": "r", ".proto": "protobuf", ".scm": "query",
    ".mod": "go-mod",
}

FILENAMES: dict[str, str] = {
    "Makefile": "make", "makefile": "make", "GNUmakefile": "make",
    "Dockerfile": "dockerfile", "CMakeLists.txt": "cmake", "go.mod": "go-mod",
}


def language_of(path: str) -> str:
    """A stable language label for a repository path ("text" when unknown)."""
    name = path.rpartition("/")[2]
    if name in FILENAMES:
        return FILENAMES[name]
    stem, dot, suffix = name.rpartition(".")
    return EXTENSIONS.get(f".{suffix.lower()}", "text") if dot and stem else "text"


def has_grammar(language: str) -> bool:
    return language in GRAMMARS


@cache
def grammar(language: str) -> Language:
    from tree_sitter import Language

    module_name, func, _ = GRAMMARS[language]
    module = importlib.import_module(module_name)
    return Language(getattr(module, func)())


@cache
def query(language: str) -> Query:
    from tree_sitter import Query

    stem = GRAMMARS[language][2]
    source = resources.files("codectx.indexer").joinpath("queries", f"{stem}.scm").read_text()
    return Query(grammar(language), source)
