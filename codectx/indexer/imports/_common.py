"""What every resolution family is handed, and the helpers they share."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from codectx.indexer.parse import FileFacts, ImportRef


class Rule(Protocol):
    """One family's resolution: the files a reference, in the file at `path`, names."""

    def __call__(self, path: str, ref: ImportRef) -> list[str]: ...


class Files:
    """The repository being indexed, as every family sees it: built once per index."""

    def __init__(
        self,
        facts: Mapping[str, tuple[str, FileFacts]],
        read_text: Callable[[str], str | None],
        include_dirs: Iterable[str] = (),
    ) -> None:
        self.facts = facts
        """Each file's language and facts, by path."""
        self.paths = frozenset(facts)
        self.read_text = read_text
        self.include_dirs = tuple(include_dirs)
        """Include directories the settings name, before a family's own defaults."""

    def first(self, candidates: Iterable[str | None]) -> str | None:
        """The first candidate that is a file of the repository."""
        for candidate in candidates:
            if candidate is not None and candidate in self.paths:
                return candidate
        return None


def norm(path: str) -> str | None:
    """Normalize a repository-relative path; None when it climbs out of the repository."""
    normed = posixpath.normpath(path)
    if normed == ".":
        return ""
    return None if normed.startswith("../") or normed == ".." or normed.startswith("/") else normed
