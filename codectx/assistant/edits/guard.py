"""Replies that cannot do damage: what a planned change may do, given what was asked.

A model's reply is untrusted. Beyond applying cleanly, a change must keep to
the request:
- it deletes a file only when the instruction asks for a deletion (it says
  "delete", "remove" or "rm" and names the file) or `allow_delete` is given;
- it creates a file only when the request names that path (`--files`, or in
  the instruction), the instruction asks for a new file ("new file", "create
  a file", "add a file"...), or `allow_new` is given;
- a whole-file reply keeps every top-level definition of the file that the
  instruction does not mention (a small model often writes only the new code);
- it is not the format's example copied (its path or its function's name);
- it does not import, in place of a definition the instruction asks for ("add a
  function NAME"), that name from elsewhere;
- every changed file still parses (`syntax`), and no Python file is made to import
  itself or a name it defines (`selfimport`: it would fail at import time, or shadow
  its own definition).
Each refusal says what was wrong, so the retry can put it right.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from codectx.assistant.edits import selfimport, syntax
from codectx.assistant.edits.formats import (
    EXAMPLE_NAME,
    EXAMPLE_PATH,
    REPEATS,
    UNCHANGED,
    named,
)
from codectx.assistant.edits.parse import Edit, Parsed, parse_reply
from codectx.assistant.edits.plan import EditPlan, FileChange, plan_edits

DELETE_WORDS = re.compile(r"\b(delete|remove|rm)\b", re.IGNORECASE)
NEW_FILE_WORDS = re.compile(
    r"\b(new|create|add|write)\b(?:\s+\S+){0,3}?\s+(file|module|script)s?\b", re.IGNORECASE)


def changed_nothing(problems: Sequence[str]) -> bool:
    """Whether a reply was refused for leaving the files as they were."""
    return any(REPEATS in p or p == UNCHANGED for p in problems)


@dataclass(frozen=True)
class Request:
    """What the user asked for, as far as what the change may touch."""

    instruction: str
    files: tuple[str, ...] = ()
    allow_new: bool = False
    allow_delete: bool = False


def _named(path: str, instruction: str) -> bool:
    name = path.rpartition("/")[2]
    return path in instruction or re.search(rf"(?<![\w./-]){re.escape(name)}(?![\w-])",
                                            instruction) is not None


def asks_for_deletion(instruction: str) -> bool:
    """Whether the instruction asks for some file to be deleted."""
    return DELETE_WORDS.search(instruction) is not None


def asks_for_new_file(instruction: str) -> bool:
    """Whether the instruction asks for a new file."""
    return NEW_FILE_WORDS.search(instruction) is not None


def asks_to_delete(request: Request, path: str) -> bool:
    return request.allow_delete or (asks_for_deletion(request.instruction)
                                    and _named(path, request.instruction))


def asks_to_create(request: Request, path: str) -> bool:
    return (request.allow_new or path in request.files or _named(path, request.instruction)
            or asks_for_new_file(request.instruction))


def copied_example(edits: Sequence[Edit]) -> str | None:
    """A refusal when the reply reproduces the format's example."""
    for edit in edits:
        if edit.path == EXAMPLE_PATH or EXAMPLE_NAME in edit.replace:
            return ("the reply copies the format's example (EXAMPLE-ONLY/not_a_file.py) "
                    "instead of making the change: edit the repository's own files")
    return None


def dropped_definitions(change: FileChange, instruction: str) -> list[str]:
    """Top-level definitions a whole-file change leaves out that the instruction does not
    mention."""
    from codectx.indexer.languages import language_of
    from codectx.indexer.parse import top_level_names

    if change.before is None or change.after is None:
        return []
    language = language_of(change.path)
    before = top_level_names(language, change.before.encode("utf-8", errors="replace"))
    if not before:
        return []
    after = set(top_level_names(language, change.after.encode("utf-8", errors="replace")))
    return [name for name in before if name not in after
            and re.search(rf"\b{re.escape(name)}\b", instruction) is None]


def _quoted(names: list[str]) -> str:
    marked = [f"`{n}`" for n in names]
    return marked[0] if len(marked) == 1 else ", ".join(marked[:-1]) + " and " + marked[-1]


def refusals(edits: Sequence[Edit], changes: Sequence[FileChange],
             request: Request) -> list[str]:
    """Why the planned changes go beyond the request (empty: they may be applied)."""
    problems: list[str] = []
    whole = {posixpath.normpath(e.path) for e in edits if e.kind == "whole"}
    merged = {posixpath.normpath(e.path) for e in edits if e.kind == "definitions"}
    for change in changes:
        if change.action == "delete" and not asks_to_delete(request, change.path):
            problems.append(f"{change.path}: the reply deletes this file, but the instruction "
                            "does not ask for it to be deleted; change the file instead")
        elif change.action == "create" and not asks_to_create(request, change.path):
            problems.append(f"{change.path}: the reply creates this file, which the request "
                            "does not name; change the files that exist instead")
        elif (change.action == "modify" and change.path in merged
              and (change.before or "").split() == (change.after or "").split()):
            problems.append(f"{change.path}: {REPEATS}")
        elif change.action == "modify" and change.path in whole:
            dropped = dropped_definitions(change, request.instruction)
            if dropped:
                problems.append(f"the reply drops {_quoted(dropped)} from {change.path}; "
                                "write the whole file, keeping everything that does not change")
    problems += selfimport.imported_instead(((c.path, c.before, c.after) for c in changes),
                                            request.instruction)
    return problems


def own_imports(changes: Sequence[FileChange], root: Path) -> list[str]:
    """Refusals for changes that make a Python file import itself, or a name it defines
    (`selfimport`)."""
    def is_file(path: str) -> bool:
        return (root / path).is_file()

    return [own.reason(c.path) for c in changes if c.after is not None
            for own in selfimport.added_own_imports(c.path, c.before, c.after, is_file)]


def plan_reply(reply: str, root: Path, fmt: str,
               request: Request | None) -> tuple[EditPlan, tuple[str, ...]]:
    """A reply in format `fmt` as a plan, and what is wrong with it (empty: it may be
    applied).

    Parsed, checked against the format's example, planned against the files, then held
    to `request` (None: the planned change is not held to any request).
    """
    form = named(fmt)
    parsed = parse_reply(reply, whole_files=form.fenced_whole)
    if form.merges:  # a fenced block under a path holds definitions to merge
        parsed = Parsed(tuple(replace(e, kind="definitions") if e.kind == "whole" else e
                              for e in parsed.edits), parsed.errors)
    if parsed.errors:
        return EditPlan((), ()), parsed.errors
    if not parsed.edits:
        return EditPlan((), ()), ("the reply holds no edits in the requested format",)
    copied = copied_example(parsed.edits)
    if copied and request is not None:
        return EditPlan((), ()), (copied,)
    plan = plan_edits(parsed.edits, root)
    if not plan.failures and not plan.changes:
        return plan, (form.unchanged,)
    unparseable = syntax.problems(plan.changes)  # first: it explains what else looks wrong
    if unparseable:
        return EditPlan((), ()), tuple(unparseable)
    circular = own_imports(plan.changes, root)
    if circular:
        return EditPlan((), ()), tuple(circular)
    refused = refusals(parsed.edits, plan.changes, request) if request is not None else []
    if refused:
        return EditPlan((), ()), tuple(refused)
    return plan, tuple(f.describe() for f in plan.failures)
