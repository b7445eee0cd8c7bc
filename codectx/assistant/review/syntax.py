"""Parse errors a change brings in, found for certain, without the model.

Every changed file in a language with a tree-sitter grammar is parsed as the
change leaves it, by the same gate that refuses an edit which no longer parses
(assistant/edits/syntax.py). A file that parsed before and no longer does is
an error, on the line the change broke; a new file, or one that never parsed (a
template, syntax the grammar lags behind), is a warning, and the latter only
where the change wrote. Versions come from where the review reads them: git's
index for staged changes, a commit for a range, the work tree otherwise; the
earlier version from the change's base. Symlinks and binary files are not
parsed, and nothing outside the repository is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from codectx.assistant.edits.paths import ReadRefused, readable_path
from codectx.assistant.edits.plan import FileChange
from codectx.assistant.edits.syntax import problem
from codectx.assistant.review.change import Change, ChangedFile
from codectx.assistant.review.findings import Finding, Severity
from codectx.indexer.content import is_binary
from codectx.indexer.gittree import BlobReader, TreeEntry, list_tree
from codectx.indexer.languages import has_grammar, language_of

FILE_MODES = ("100644", "100755")
"""git's modes for a file; a symlink (120000) and a submodule (160000) are not parsed."""


class _Versions:
    """File contents by path in one version: a git tree (the index or a revision), or the
    work tree when `tree` is None."""

    def __init__(self, root: Path, tree: str | None, blobs: BlobReader | None) -> None:
        self.root = root
        self.blobs = blobs
        self.entries: dict[str, TreeEntry] | None = None
        if tree is not None:
            self.entries = {e.path: e for e in list_tree(root, tree)}

    def text(self, path: str) -> str | None:
        """The file's text, or None: not in this version, not a file, binary, or unsafe."""
        if self.entries is not None:
            entry = self.entries.get(path)
            if entry is None or entry.mode not in FILE_MODES or self.blobs is None:
                return None
            data = self.blobs.read(entry.blob)
        else:
            try:
                safe = self.root / readable_path(self.root, path, path)
            except ReadRefused:
                return None
            if safe.is_symlink() or not safe.is_file():
                return None
            data = safe.read_bytes()
        return None if is_binary(data) else data.decode("utf-8", errors="replace")


@contextmanager
def _blob_reader(root: Path, change: Change) -> Iterator[BlobReader | None]:
    if change.tree is None and change.base is None:
        yield None
        return
    with BlobReader(root) as blobs:
        yield blobs


Versions = list[tuple[ChangedFile, str | None, str]]
"""Changed files with their text before the change (None: new, or nothing to compare
with) and after it."""


def versions(root: Path, change: Change, wanted: Callable[[ChangedFile], bool],
             ) -> Versions:
    """The `wanted` changed files that can be read, each with its text before the change
    (None: it is new, or there is nothing to compare with) and after it."""
    files = [f for f in change.reviewable if wanted(f)]
    if not files:
        return []
    read = []
    with _blob_reader(root, change) as blobs:
        after = _Versions(root, change.tree, blobs)
        before = _Versions(root, change.base, blobs) if change.base is not None else None
        for changed in files:
            new = after.text(changed.path)
            if new is None:
                continue
            old = None
            if before is not None and changed.status != "added":
                old = before.text(changed.old_path or changed.path)
            read.append((changed, old, new))
    return read


def code_versions(root: Path, change: Change) -> Versions:
    """The versions of the changed files a grammar parses: what every check of the review
    reads (syntax, ruff and attributes, the project's checkers, the definitions)."""
    return versions(root, change, lambda f: has_grammar(language_of(f.path)))


def syntax_findings(root: Path, change: Change, code: Versions | None = None,
                    ) -> list[Finding]:
    """One finding for each changed file the change leaves unparseable (see _finding);
    `code`: the change's `code_versions`, when already read."""
    if code is None:
        code = code_versions(root, change)
    found = (_finding(changed, old, new) for changed, old, new in code)
    return [f for f in found if f is not None]


def _finding(changed: ChangedFile, before: str | None, after: str) -> Finding | None:
    """An error where a file that parsed no longer does; a warning where a new file, or one
    that never parsed, does not parse where the change wrote (it may be a template)."""
    found = problem(FileChange(changed.path, "create" if before is None else "modify",
                               before, after))
    if found is None:
        return None
    if found.broke:
        severity: Severity = "error"
        message = f"the file no longer parses here ({found.what})"
    else:
        severity = "warning"
        new = "new " if changed.status == "added" else ""
        message = f"the {new}file does not parse here ({found.what})"
    if changed.text_at(found.line) is None and found.text.strip():
        message += f": `{found.text.strip()[:80]}`"  # the line is not shown with the change
    return Finding(changed.path, found.line, severity, message, found_by="parser")
