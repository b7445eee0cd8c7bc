"""Edits as a model writes them: SEARCH/REPLACE blocks, whole files, unified diffs.

    path/to/file.py
    <<<<<<< SEARCH
    old lines
    =======
    new lines
    >>>>>>> REPLACE

A whole file is a path line and a fenced block with the complete content;
`DELETE path` removes a file; an empty SEARCH creates one. Unified diffs
(`--- a/x`, `+++ b/x`, `@@` hunks) become SEARCH/REPLACE edits. Prose around
the edits is ignored; a reply that stops inside an edit is reported as
truncated rather than half-used.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Literal

SEARCH = re.compile(r"^\s*<{5,9} ?SEARCH\s*$")
DIVIDER = re.compile(r"^\s*={5,9}\s*$")
REPLACE = re.compile(r"^\s*>{5,9} ?REPLACE\s*$")
FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([\w+.-]*)\s*$")
DELETE = re.compile(r"^\s*DELETE:?\s+`?([^`\s]+)`?\s*$")
DIFF_OLD = re.compile(r"^--- (?:a/)?(\S+)")
DIFF_NEW = re.compile(r"^\+\+\+ (?:b/)?(\S+)")
HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@")
_PATH_DECORATION = re.compile(r"^(?:#+\s*|\*\*|File:\s*|Path:\s*|`)+|(?:\*\*|`|:)+$")


@dataclass(frozen=True)
class Edit:
    kind: Literal["replace", "whole", "definitions", "create", "delete"]
    path: str
    search: str = ""
    replace: str = ""


@dataclass(frozen=True)
class Parsed:
    edits: tuple[Edit, ...]
    errors: tuple[str, ...]


def _path_from(line: str) -> str | None:
    text = _PATH_DECORATION.sub("", line.strip()).strip()
    if not text or " " in text or text.startswith(("<<<", "===", ">>>", "```")):
        return None
    if "/" in text or "." in text.rpartition("/")[2]:
        return text
    return None


def _looks_like_path_line(lines: list[str], i: int) -> str | None:
    """The path named just above line i (skipping blank lines and fence openers)."""
    j = i - 1
    while j >= 0 and (not lines[j].strip() or FENCE.match(lines[j])):
        j -= 1
    return _path_from(lines[j]) if j >= 0 else None


def parse_reply(text: str, whole_files: bool = True) -> Parsed:
    """Edits in a reply; with `whole_files` off, fenced code is never taken for a whole file
    (a model asked for SEARCH/REPLACE blocks may quote code under a path-like heading)."""
    lines = text.replace("\r\n", "\n").split("\n")
    edits: list[Edit] = []
    errors: list[str] = []
    last_path: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if SEARCH.match(line):
            path = _looks_like_path_line(lines, i) or last_path
            i, edit, error = _search_replace(lines, i, path)
            if error:
                errors.append(error)
            elif edit:
                edits.append(edit)
                last_path = edit.path
            continue
        if (m := DELETE.match(line)) is not None:
            following = next((x for x in lines[i + 1:] if x.strip()), "")
            if FENCE.match(following) or SEARCH.match(following):
                # Seen from small models: DELETE, then the code they meant to add.
                errors.append(f"{m.group(1)}: `DELETE {m.group(1)}` is followed by code; a "
                              "deletion carries no content (to change the file, write the "
                              "change without DELETE)")
            else:
                edits.append(Edit("delete", m.group(1)))
            i += 1
            continue
        if DIFF_OLD.match(line) and i + 1 < len(lines) and DIFF_NEW.match(lines[i + 1]):
            i, found, error = _unified_diff(lines, i)
            edits.extend(found)
            if error:
                errors.append(error)
            continue
        fence = FENCE.match(line)
        if fence and fence.group(2) != "diff" and whole_files:
            path = _looks_like_path_line(lines, i)
            end = _closing_fence(lines, i, fence.group(1))
            body = lines[i + 1 : end]
            if path and not any(SEARCH.match(b) for b in body) and not _has_diff(body):
                if end >= len(lines):
                    errors.append(f"{path}: the reply ends inside the file's code block "
                                  "(truncated?)")
                else:
                    edits.append(Edit("whole", path, replace="\n".join(body) + "\n"))
                    last_path = path
                i = end + 1
                continue
        i += 1
    return Parsed(tuple(edits), tuple(errors))


def unclosed_block(text: str) -> tuple[str, str, str] | None:
    """For a reply that ends inside a fenced block under a path: the text before the
    block's code (its opening fence included), the path, and the code; else None."""
    lines = text.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if fence is None:
            i += 1
            continue
        end = _closing_fence(lines, i, fence.group(1))
        path = _looks_like_path_line(lines, i)
        if end >= len(lines):
            if path is None:
                return None
            return "\n".join(lines[: i + 1]) + "\n", path, "\n".join(lines[i + 1 :])
        i = end + 1
    return None


def _has_diff(body: list[str]) -> bool:
    return any(DIFF_OLD.match(a) and DIFF_NEW.match(b) for a, b in itertools.pairwise(body))


def _closing_fence(lines: list[str], start: int, opener: str) -> int:
    """Index of the fence closing the one at `start`.

    As in CommonMark, a closer is a bare run of the same character at least as long;
    an opener with a language inside the block (a README's example) nests one level.
    """
    depth = 0
    for j in range(start + 1, len(lines)):
        stripped = lines[j].strip()
        fence = FENCE.match(lines[j])
        if fence is None or fence.group(1)[0] != opener[0]:
            continue
        if fence.group(2):
            depth += 1
        elif depth:
            depth -= 1
        elif len(stripped) >= len(opener):
            return j
    return len(lines)


def _search_replace(lines: list[str], start: int,
                    path: str | None) -> tuple[int, Edit | None, str | None]:
    search: list[str] = []
    replace: list[str] = []
    target = search
    i = start + 1
    while i < len(lines):
        if DIVIDER.match(lines[i]) and target is search:
            target = replace
        elif REPLACE.match(lines[i]):
            if target is search:
                return i + 1, None, f"{path or '?'}: a SEARCH block has no ======= divider"
            break
        else:
            target.append(lines[i])
        i += 1
    else:
        return i, None, f"{path or '?'}: the reply ends inside a SEARCH/REPLACE block (truncated?)"
    if path is None:
        return i + 1, None, "a SEARCH/REPLACE block names no file: put the path on the line above"
    old = "\n".join(search) + ("\n" if search else "")
    new = "\n".join(replace) + ("\n" if replace else "")
    if not search:
        return i + 1, Edit("create", path, replace=new), None
    return i + 1, Edit("replace", path, search=old, replace=new), None


def _unified_diff(lines: list[str], start: int) -> tuple[int, list[Edit], str | None]:
    old_m, new_m = DIFF_OLD.match(lines[start]), DIFF_NEW.match(lines[start + 1])
    assert old_m and new_m
    old_path, new_path = old_m.group(1), new_m.group(1)
    i = start + 2
    hunks: list[tuple[list[str], list[str]]] = []
    while i < len(lines):
        line = lines[i]
        if DIFF_OLD.match(line) and i + 1 < len(lines) and DIFF_NEW.match(lines[i + 1]):
            break  # the next file's diff
        if HUNK.match(line):
            hunks.append(([], []))
        elif not hunks or not (line == "" or line[0] in " +-\\"):
            break  # prose or a closing fence after the diff
        elif line.startswith("\\"):
            pass  # "\ No newline at end of file"
        else:
            tag, body = (line[0], line[1:]) if line else (" ", "")  # a bare empty context line
            if tag in " -":
                hunks[-1][0].append(body)
            if tag in " +":
                hunks[-1][1].append(body)
        i += 1
    if new_path == "/dev/null":
        return i, [Edit("delete", old_path)], None
    if old_path == "/dev/null":
        added = [line for _, new in hunks for line in new]
        while added and added[-1] == "":  # the reply's own trailing newline
            added.pop()
        return i, [Edit("create", new_path, replace="\n".join(added) + "\n")], None
    if not hunks:
        return i, [], f"{new_path}: a diff with no hunks"
    edits = []
    for old, new in hunks:
        while old and new and old[-1] == "" and new[-1] == "":  # trailing blank context
            old, new = old[:-1], new[:-1]
        edits.append(Edit("replace", new_path, "\n".join(old) + "\n",
                          "\n".join(new) + "\n" if new else ""))
    return i, edits, None
