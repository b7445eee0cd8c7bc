"""From parsed edits and current file contents to planned changes, or reasons why not.

Each SEARCH text is looked for by a ladder, strictest first: exactly; ignoring
trailing whitespace; ignoring indentation (the replacement is re-indented to
match); fuzzily, above a similarity threshold (rapidfuzz). A SEARCH found in
two places, or nowhere, fails, with the closest lines found as a hint. If
anything fails, the plan holds no changes at all.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rapidfuzz import fuzz

from codectx.assistant.edits.parse import Edit
from codectx.assistant.edits.paths import EditRefused, safe_path

FUZZY_THRESHOLD = 90.0  # rapidfuzz ratio (0-100) a fuzzy match needs


@dataclass(frozen=True)
class FileChange:
    path: str
    action: Literal["modify", "create", "delete"]
    before: str | None
    after: str | None

    @property
    def diff(self) -> str:
        old = (self.before or "").splitlines(keepends=True)
        new = (self.after or "").splitlines(keepends=True)
        src = "/dev/null" if self.before is None else f"a/{self.path}"
        dst = "/dev/null" if self.after is None else f"b/{self.path}"
        return "".join(difflib.unified_diff(old, new, src, dst))


@dataclass(frozen=True)
class Failure:
    path: str
    reason: str
    closest: str | None = None

    def describe(self) -> str:
        hint = f"\nDid you mean these lines?\n{self.closest}" if self.closest else ""
        return f"{self.path}: {self.reason}{hint}"


@dataclass(frozen=True)
class EditPlan:
    changes: tuple[FileChange, ...]
    failures: tuple[Failure, ...]
    notes: tuple[str, ...] = ()
    """What planning left out of the reply, and why, a line each (the definition-level
    merge drops an import of the module from itself)."""

    @property
    def ok(self) -> bool:
        return not self.failures and bool(self.changes)

    @property
    def files_made_or_removed(self) -> tuple[FileChange, ...]:
        """The changes that create or delete a file (shown apart, confirmed apart)."""
        return tuple(c for c in self.changes if c.action != "modify")

    def only(self, *actions: str) -> EditPlan:
        """The same plan with only the changes of these actions."""
        return EditPlan(tuple(c for c in self.changes if c.action in actions), self.failures,
                        self.notes)


Reader = Callable[[str], str | None]
"""Current text of a repository path, or None when there is no such file."""


def plan_edits(edits: Sequence[Edit], root: Path, read: Reader | None = None) -> EditPlan:
    read = read or _disk_reader(root)
    current: dict[str, str | None] = {}
    original: dict[str, str | None] = {}
    failures: list[Failure] = []
    notes: list[str] = []
    for edit in edits:
        try:
            path = safe_path(root, edit.path)
        except EditRefused as exc:
            failures.append(Failure(edit.path, exc.message))
            continue
        blocked = _not_a_file_path(root, path)
        if blocked:
            failures.append(Failure(path, blocked))
            continue
        if path not in current:
            current[path] = original[path] = read(path)
        failure = _apply_one(edit, path, current, notes, lambda p: read(p) is not None)
        if failure:
            failures.append(failure)
    if failures:
        return EditPlan((), tuple(failures))
    changes = []
    for path, after in current.items():
        before = original[path]
        if before == after:
            continue
        action: Literal["modify", "create", "delete"] = (
            "create" if before is None else "delete" if after is None else "modify")
        changes.append(FileChange(path, action, before, after))
    return EditPlan(tuple(changes), (), tuple(notes))


def _not_a_file_path(root: Path, path: str) -> str | None:
    """Why `path` cannot be a file here (a directory, or under a file), or None."""
    if (root / path).is_dir():
        return "is a directory, not a file"
    parent = Path(path).parent
    while str(parent) not in ("", "."):
        if (root / parent).is_file():
            return f"cannot be created: {parent.as_posix()} is a file"
        parent = parent.parent
    return None


def _disk_reader(root: Path) -> Reader:
    def read(path: str) -> str | None:
        target = root / path
        if not target.is_file():
            return None
        with target.open(encoding="utf-8", errors="surrogateescape", newline="") as fh:
            return fh.read()

    return read


def _apply_one(edit: Edit, path: str, current: dict[str, str | None], notes: list[str],
               is_file: Callable[[str], bool]) -> Failure | None:
    text = current[path]
    if edit.kind == "delete":
        if text is None:
            return Failure(path, "cannot delete: no such file")
        current[path] = None
    elif edit.kind == "whole":
        current[path] = _with_newlines(edit.replace, text)
    elif edit.kind == "definitions":
        if text is None:
            current[path] = edit.replace
        else:
            from codectx.assistant.edits.definitions import MergeError, merge_reply

            try:
                merged = merge_reply(path, text, edit.replace, is_file)
            except MergeError as exc:
                return Failure(path, str(exc))
            current[path] = _with_newlines(merged.text, text)
            notes.extend(merged.notes)
    elif edit.kind == "create":
        if text:
            return Failure(path, "the file exists: SEARCH for the lines to change instead "
                                 "of an empty SEARCH")
        current[path] = edit.replace
    else:
        if text is None:
            return Failure(path, "no such file: to create it, use an empty SEARCH")
        result = replace_once(text, edit.search, edit.replace)
        if isinstance(result, Failure):
            return Failure(path, result.reason, result.closest)
        current[path] = result
    return None


def _with_newlines(new: str, old: str | None) -> str:
    """Keep the file's line endings (CRLF stays CRLF)."""
    if old is not None and "\r\n" in old and "\r\n" not in new:
        return new.replace("\n", "\r\n")
    return new


def replace_once(text: str, search: str, replace: str) -> str | Failure:
    """text with the one match of `search` replaced, by the strictest rung that matches.

    Lines are compared without their endings; lines outside the match keep theirs
    byte for byte, and the new lines take the endings of the lines they replace.
    """
    lines, ends = _split_lines(text)
    want = search.replace("\r\n", "\n").rstrip("\n").split("\n")
    new = replace.replace("\r\n", "\n").rstrip("\n").split("\n") if replace.strip("\n") else []
    for rung in (_exact, _trailing, _indent):
        spans = rung(lines, want)
        if len(spans) > 1:
            return Failure("", f"the SEARCH text matches {len(spans)} places; include more "
                               "lines to make it unique")
        if spans:
            start, end, reindent = spans[0]
            return _splice(lines, ends, start, end, [reindent(line) for line in new])
    best, score, second = _best_fuzzy(lines, want)
    if best is not None and score >= FUZZY_THRESHOLD and second < score:
        return _splice(lines, ends, best, best + len(want), new)
    closest = "\n".join(lines[best : best + len(want)]) if best is not None else None
    return Failure("", "the SEARCH text matches nowhere", closest)


def _split_lines(text: str) -> tuple[list[str], list[str]]:
    """Lines without their endings, and the endings ("\n", "\r\n" or "" at the end)."""
    parts = re.split(r"(?<=\n)", text)
    if parts and parts[-1] == "":
        parts.pop()
    lines, ends = [], []
    for part in parts:
        end = "\r\n" if part.endswith("\r\n") else "\n" if part.endswith("\n") else ""
        lines.append(part[: len(part) - len(end)])
        ends.append(end)
    return lines, ends


Span = tuple[int, int, Callable[[str], str]]


def _same(line: str) -> str:
    return line


def _windows(lines: list[str], want: list[str], key: Callable[[str], str]) -> list[int]:
    target = [key(w) for w in want]
    keyed = [key(line) for line in lines]
    n = len(want)
    return [i for i in range(len(lines) - n + 1) if keyed[i : i + n] == target]


def _exact(lines: list[str], want: list[str]) -> list[Span]:
    return [(i, i + len(want), _same) for i in _windows(lines, want, _same)]


def _trailing(lines: list[str], want: list[str]) -> list[Span]:
    return [(i, i + len(want), _same) for i in _windows(lines, want, str.rstrip)]


def _indent(lines: list[str], want: list[str]) -> list[Span]:
    spans: list[Span] = []
    for i in _windows(lines, want, str.strip):
        first = next((k for k, w in enumerate(want) if w.strip()), None)
        if first is None:
            continue
        have = _leading(lines[i + first])
        had = _leading(want[first])
        spans.append((i, i + len(want), _reindenter(had, have)))
    return spans


def _leading(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _reindenter(had: str, have: str) -> Callable[[str], str]:
    def reindent(line: str) -> str:
        if not line.strip():
            return line
        if line.startswith(had):
            return have + line[len(had) :]
        return have + line.lstrip()

    return reindent


def _best_fuzzy(lines: list[str], want: list[str]) -> tuple[int | None, float, float]:
    """Best window start, its score, and the best score of any other window."""
    n = len(want)
    if not lines or n > len(lines):
        return None, 0.0, 0.0
    target = "\n".join(w.strip() for w in want)
    scored = sorted(((fuzz.ratio("\n".join(x.strip() for x in lines[i : i + n]), target), i)
                     for i in range(len(lines) - n + 1)), reverse=True)
    best, start = scored[0]
    # Overlapping windows around the best one are the same place, not a second match.
    others = [s for s, i in scored[1:] if abs(i - start) >= max(n, 1)]
    return start, best, others[0] if others else 0.0


def _splice(lines: list[str], ends: list[str], start: int, end: int, new: list[str]) -> str:
    eol = next((e for e in ends[start:end] if e), None) or next((e for e in ends if e), "\n")
    new_ends = [eol] * len(new)
    if new and end == len(lines):
        new_ends[-1] = ends[-1]  # the file's last line keeps its (missing) newline
    out = [line + e for line, e in zip(lines[:start], ends[:start], strict=True)]
    out += [line + e for line, e in zip(new, new_ends, strict=True)]
    out += [line + e for line, e in zip(lines[end:], ends[end:], strict=True)]
    return "".join(out)
