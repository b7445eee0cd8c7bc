"""Where an edit may write: inside the repository, never .git, never out through a link."""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from codectx.errors import CodectxError


class EditRefused(CodectxError):
    """An edit names a path it may not touch."""


def safe_path(root: Path, path: str) -> str:
    """The normalized repository-relative path, or EditRefused naming the offending path."""
    if not path or path.startswith(("/", "\\")) or (len(path) > 1 and path[1] == ":"):
        raise EditRefused(f"refused {path!r}: an absolute path; edits stay inside the repository")
    norm = posixpath.normpath(path.replace("\\", "/"))
    if norm == ".." or norm.startswith("../"):
        raise EditRefused(f"refused {path!r}: it leads outside the repository")
    # Case-folded, and with the trailing dots and spaces Windows ignores: on a
    # case-insensitive filesystem ".GIT/hooks" is the same directory.
    if any(part.casefold().rstrip(". ") in (".git", "git~1") for part in norm.split("/")):
        raise EditRefused(f"refused {path!r}: codectx never edits inside .git")
    real_root = os.path.realpath(root)
    # Every existing step of the way must stay inside: a symlinked directory or file
    # pointing out would carry the write with it.
    current = real_root
    for part in norm.split("/"):
        current = os.path.join(current, part)
        if os.path.lexists(current):
            resolved = os.path.realpath(current)
            if os.path.commonpath([real_root, resolved]) != real_root:
                raise EditRefused(f"refused {path!r}: a symlink on the way leads outside "
                                  "the repository")
    return norm
