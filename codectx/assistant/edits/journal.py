"""Applying planned changes so that they can be undone, byte for byte.

Before anything is written, the previous and new content of every touched
file goes into a journal record (under the user cache directory, one stack
per repository). Each file is written to a temporary file and renamed into
place; if a write fails half-way, the files already written are put back.
`undo_last` restores the state before the last applied edit, and refuses if
any of those files changed since. A record is a file on disk, so its paths are
checked again before anything is written, as a reply's are.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import tempfile
import time
from pathlib import Path

from codectx.assistant.edits.paths import EditRefused, safe_path
from codectx.assistant.edits.plan import EditPlan, FileChange
from codectx.errors import CodectxError
from codectx.files import repository_state_dir, write_bytes_atomic


class UndoError(CodectxError):
    """Nothing to undo, or the files changed since the edit."""


class StaleEdit(CodectxError):
    """A file changed between planning an edit and applying it."""


def journal_dir(cache_dir: Path, root: Path) -> Path:
    return repository_state_dir(cache_dir, "undo", root)


def _encode(text: str | None) -> str | None:
    return None if text is None else base64.b64encode(_bytes(text)).decode()


def _decoded(value: str | None) -> bytes | None:
    return None if value is None else base64.b64decode(value)


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def file_bytes(path: Path) -> bytes | None:
    """A file's bytes, or None when there is no such file."""
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None


def put_bytes(target: Path, data: bytes | None) -> None:
    """Write a file atomically (its directories made), or with None remove it."""
    if data is None:
        target.unlink(missing_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(target, data)


def _missing_dirs(root: Path, plan: EditPlan) -> list[str]:
    """Directories the plan's new files will create (undo removes them again)."""
    missing: set[str] = set()
    for change in plan.changes:
        parent = Path(change.path).parent
        while str(parent) not in ("", ".") and not (root / parent).exists():
            missing.add(parent.as_posix())
            parent = parent.parent
    return sorted(missing)


def apply_plan(plan: EditPlan, root: Path, journal: Path) -> Path:
    """Write the plan's changes; returns the journal record that can undo them."""
    for change in plan.changes:
        before = None if change.before is None else _bytes(change.before)
        if file_bytes(root / change.path) != before:
            raise StaleEdit(f"{change.path} changed since the edit was planned; nothing written",
                            "Run the edit again.")
    journal.mkdir(parents=True, exist_ok=True)
    record = {"time": time.time(), "files": [
        {"path": c.path, "before": _encode(c.before), "after": _encode(c.after)}
        for c in plan.changes], "new_dirs": _missing_dirs(root, plan)}
    fd, tmp = tempfile.mkstemp(dir=journal, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(record, fh)
    record_path = journal / f"{time.time_ns()}.json"
    os.replace(tmp, record_path)
    written: list[FileChange] = []
    try:
        for change in plan.changes:
            put_bytes(root / change.path, None if change.after is None else _bytes(change.after))
            written.append(change)
    except BaseException as exc:
        for change in written:  # put back what was already written
            put_bytes(root / change.path, None if change.before is None else _bytes(change.before))
        record_path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            failed = plan.changes[len(written)].path
            raise CodectxError(f"could not write {failed}: {exc.strerror or exc}; "
                               "nothing was changed") from exc
        raise
    return record_path


def undo_last(root: Path, journal: Path) -> list[str]:
    """Restore the files of the last applied edit; returns their paths."""
    records = sorted(journal.glob("*.json"), key=lambda p: int(p.stem)) if journal.is_dir() \
        else []
    if not records:
        raise UndoError("nothing to undo: no edit applied by codectx in this repository")
    return undo_record(root, records[-1])


def undo_record(root: Path, record_path: Path) -> list[str]:
    """Restore the files of one applied edit and drop its record; returns their paths.
    Refuses if any of them changed since."""
    try:
        record = json.loads(record_path.read_text())
        files = record["files"]
    except (OSError, ValueError, KeyError) as exc:
        raise UndoError(f"the undo record {record_path} is damaged; nothing was changed",
                        "Delete it to undo the edit before it, or restore the files with git."
                        ) from exc
    for place in [str(f["path"]) for f in files] + list(record.get("new_dirs", [])):
        try:
            safe_path(root, place)
        except EditRefused as exc:
            raise UndoError(f"the undo record {record_path} names a path codectx may not "
                            f"write: {exc.message}; nothing was changed",
                            "Delete the record, and restore the files with git.") from exc
    changed = [f["path"] for f in files if file_bytes(root / f["path"]) != _decoded(f["after"])]
    if changed:
        raise UndoError(f"cannot undo: changed since the edit: {', '.join(changed)}",
                        "Undo your own changes to these files first, or leave them as they are.")
    restored: list[dict[str, str | None]] = []
    try:
        for f in files:
            put_bytes(root / f["path"], _decoded(f["before"]))
            restored.append(f)
    except OSError as exc:
        for f in restored:  # all or nothing: put the edit back as it was
            put_bytes(root / str(f["path"]), _decoded(f["after"]))
        raise UndoError(f"could not restore {files[len(restored)]['path']}: "
                        f"{exc.strerror or exc}; nothing was changed") from exc
    for directory in sorted(record.get("new_dirs", []), key=len, reverse=True):
        with contextlib.suppress(OSError):  # not empty any more: the user put files there
            (root / directory).rmdir()
    record_path.unlink()
    return [f["path"] for f in files]
