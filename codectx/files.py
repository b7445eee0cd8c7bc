"""File helpers every layer needs: atomic writes, a cheap identity for model files, and
whether a repository path stays inside the repository."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def new_file_mode(target: Path) -> int:
    """What an ordinary write would give: the old file's mode, else 0666 less the umask."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_bytes_atomic(target: Path, data: bytes) -> None:
    """Write via a temporary file renamed into place: a reader never sees half a file."""
    mode = new_file_mode(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def resolves_inside(root: str | os.PathLike[str], path: str | os.PathLike[str]) -> bool:
    """Whether `path` (relative to `root`) leads to `root` or under it once every symlink on
    the way is followed.

    A repository is untrusted input: a link in it (a file, or a directory on the way) must
    never carry a read outside. A path that does not exist is judged by the part that does.
    """
    real_root = os.path.realpath(root)
    target = os.path.realpath(os.path.join(real_root, path))
    try:
        return os.path.commonpath([real_root, target]) == real_root
    except ValueError:  # another drive, on Windows
        return False


def repository_state_dir(cache_dir: Path, kind: str, root: Path) -> Path:
    """Where codectx keeps one kind of state (undo journal, conversations, build output)
    for the repository at root: keyed by its resolved path."""
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return cache_dir / kind / key


def gguf_identity(path: Path) -> str:
    """Cheap and content-based: the size and the first 16 MiB (metadata and vocabulary)."""
    digest = hashlib.sha256(str(path.stat().st_size).encode())
    with path.open("rb") as fh:
        digest.update(fh.read(16 << 20))
    return digest.hexdigest()[:16]


def human_size(n: float) -> str:
    """Bytes as B, KiB, MiB or GiB, for messages."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"
