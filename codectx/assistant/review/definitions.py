"""The definitions a change touches, each shown as it changed, with what uses it.

The model reviews one changed definition at a time: a small model asked about a whole
diff answers "no findings"; asked about one function, before and after, beside its
callers and its tests, it has one question to answer. A definition is a top-level
function, constant or type, or a member of a class (a method) when the class is long;
found with the tree-sitter parse of the file as changed. Changed lines outside any
definition (imports, a module's own statements) are left to the analysis.

Callers and tests come from the repository's files in the change's version, read
through `repository_files` (nothing outside the repository, through no link): a line
that calls the name, and the test functions that mention it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from codectx.assistant.edits.defines import members_of, names_of
from codectx.assistant.review.change import ChangedFile
from codectx.indexer.languages import grammar, has_grammar, language_of
from codectx.indexer.levels import is_test_path
from codectx.indexer.parse import TopLevel, top_level

if TYPE_CHECKING:
    from tree_sitter import Node

WHOLE_CLASS_LINES = 40
"""A class at most this long is one definition; a longer one is reviewed by member."""
MAX_SHOWN_LINES = 80
"""Lines of one definition shown at most: the changed ones and those around them."""
MAX_CALLERS = 3
MAX_TESTS = 3
MAX_READ_FILES = 3_000
"""Files read at most when looking for callers and tests."""
_TEST_FUNCTION = re.compile(r"^\s*(?:async\s+)?(?:def|fn|function)\s+(test\w*)|"
                            r"^\s*(?:it|test)\(\s*['\"]([^'\"]{1,60})")


@dataclass(frozen=True)
class Definition:
    """One changed definition, as the model is shown it."""

    path: str
    name: str
    """Its name ("Class.method" for a member)."""
    first: int
    last: int
    """Its first and last lines in the file as changed."""
    lines: tuple[int, ...]
    """Its changed lines (of the file as changed)."""
    shown: str
    """Its text, each line numbered and marked + (added), - (removed) or a space; a
    removed line has the number of the line after it, where a finding about it lands."""
    new: bool
    """It did not exist before the change."""

    @property
    def short_name(self) -> str:
        return self.name.rpartition(".")[2]


def _parts(node: Node) -> list[TopLevel]:
    return [p for p in top_level(node) if p.kind not in ("import", "comment", "ERROR")]


def _line(node_start: int, source: bytes) -> int:
    return source.count(b"\n", 0, node_start) + 1


def _spans(language: str, text: str) -> list[tuple[str, int, int]]:
    """(name, first line, last line) of each definition of `text`, a long class's members
    in its place."""
    from tree_sitter import Parser

    source = text.encode("utf-8")
    root = Parser(grammar(language)).parse(source).root_node
    spans: list[tuple[str, int, int]] = []
    for part in _parts(root):
        names = names_of(part)
        if not names:
            continue
        first, last = _line(part.start, source), _line(max(part.end - 1, part.start), source)
        body = members_of(part)
        members = [m for m in _parts(body) if names_of(m)] if body is not None else []
        if last - first + 1 <= WHOLE_CLASS_LINES or not members:
            spans.append((names[0], first, last))
            continue
        for member in members:
            spans.append((f"{names[0]}.{names_of(member)[0]}", _line(member.start, source),
                          _line(max(member.end - 1, member.start), source)))
    return spans


def changed_definitions(files: Iterable[tuple[ChangedFile, str | None, str]],
                        ) -> list[Definition]:
    """The definitions each file's change touches, in file order (files parsed by
    tree-sitter only; one that does not parse is the parse check's)."""
    found: list[Definition] = []
    for changed, before, after in files:
        language = language_of(changed.path)
        if not has_grammar(language):
            continue
        had = {name for name, _, _ in _spans(language, before)} if before is not None else None
        lines = changed.changed
        removed = _removed_at(changed)
        text = after.splitlines()
        for name, first, last in _spans(language, after):
            touched = tuple(n for n in range(first, last + 1) if n in lines)
            if not touched:
                continue
            found.append(Definition(changed.path, name, first, last, touched,
                                    _show(text, first, last, changed, removed),
                                    had is not None and name not in had))
    return found


def _removed_at(changed: ChangedFile) -> dict[int, list[str]]:
    """Removed lines by the line of the new version they stood before."""
    at: dict[int, list[str]] = {}
    for hunk in changed.hunks:
        next_new = max(hunk.start, 1)
        for line in hunk.lines:
            if line.kind == "-":
                at.setdefault(next_new, []).append(line.text)
            if line.number is not None:
                next_new = line.number + 1
    return at


def _show(text: list[str], first: int, last: int, changed: ChangedFile,
          removed: dict[int, list[str]]) -> str:
    """Lines first..last, numbered and marked; a long one cut to the changed lines and
    those around them."""
    added = {line.number for line in changed.lines if line.kind == "+"}
    if last - first + 1 > MAX_SHOWN_LINES:
        marked = sorted(n for n in range(first, last + 1) if n in added or n in removed)
        middle = marked[len(marked) // 2] if marked else first
        start = max(first, middle - MAX_SHOWN_LINES // 2)
        first, last = start, min(last, start + MAX_SHOWN_LINES - 1)
    out = []
    for number in range(first, last + 1):
        out += [f"-{number:<4}|{gone}" for gone in removed.get(number, ())]
        mark = "+" if number in added else " "
        out.append(f"{mark}{number:<4}|{text[number - 1] if number <= len(text) else ''}")
    return "\n".join(out)


@dataclass(frozen=True)
class Uses:
    callers: tuple[str, ...]
    """Lines that call it: `path:line: code`."""
    tests: tuple[str, ...]
    """Test functions that mention it: `path: name`, the likeliest first."""
    test_bodies: tuple[str, ...] = ()
    """The likeliest tests' text (MAX_TEST_BODIES of them, each cut at TEST_LINES)."""


MAX_TEST_BODIES = 2
TEST_LINES = 25
_SEEN_TESTS = 30
"""Tests that mention a name weighed at most, to choose the likeliest."""


@dataclass
class _Test:
    path: str
    name: str
    lines: list[str]
    start: int
    """Its first line's index in `lines`."""
    mentions: int = 0

    def rank(self, short_name: str) -> tuple[bool, int]:
        """Named after the definition first, then by how often it mentions it."""
        return (short_name.strip("_").lower() in self.name.lower(), self.mentions)

    def body(self) -> str:
        head = self.lines[self.start]
        indent = len(head) - len(head.lstrip())
        out = [head]
        for line in self.lines[self.start + 1:self.start + TEST_LINES]:
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            out.append(line)
        return "\n".join(out).rstrip()


def uses(definitions: list[Definition], paths: Iterable[str],
         read: Callable[[str], str | None]) -> dict[str, Uses]:
    """Each definition's callers and tests (by `Definition.name`), from the repository's
    files of the same language; a definition's own lines are not its callers."""
    wanted = {d.short_name for d in definitions if len(d.short_name) > 2}
    if not wanted:
        return {}
    languages = {language_of(d.path) for d in definitions}
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, wanted))) + r")\b\s*[(\[!]?")
    callers: dict[str, list[str]] = {n: [] for n in wanted}
    tests: dict[str, dict[tuple[str, int], _Test]] = {n: {} for n in wanted}
    own: dict[str, set[tuple[str, int]]] = {n: set() for n in wanted}
    for d in definitions:
        own.get(d.short_name, set()).update((d.path, n) for n in range(d.first, d.last + 1))
    for path in [p for p in paths if language_of(p) in languages][:MAX_READ_FILES]:
        text = read(path)
        if text is None:
            continue
        is_test = is_test_path(path)
        lines = text.splitlines()
        test: tuple[str, int] | None = None
        for number, line in enumerate(lines, 1):
            named = _TEST_FUNCTION.match(line)
            if named:
                test = (named[1] or named[2], number - 1)
            for match in pattern.finditer(line):
                name = match[1]
                if (path, number) in own[name]:
                    continue
                if is_test and test is not None:
                    found = tests[name].get((path, test[1]))
                    if found is None and len(tests[name]) < _SEEN_TESTS:
                        found = tests[name][(path, test[1])] = _Test(path, test[0], lines,
                                                                     test[1])
                    if found is not None:
                        found.mentions += 1
                elif (not is_test and match[0].rstrip().endswith(("(", "[", "!"))
                      and not _defines(line, name) and len(callers[name]) < MAX_CALLERS):
                    callers[name].append(f"{path}:{number}: {line.strip()[:120]}")
    result = {}
    for d in definitions:
        ranked = sorted(tests.get(d.short_name, {}).values(), key=lambda t: t.rank(
            d.short_name), reverse=True)[:MAX_TESTS]
        result[d.name] = Uses(tuple(callers.get(d.short_name, ())),
                              tuple(f"{t.path}: {t.name}" for t in ranked),
                              tuple(t.body() for t in ranked[:MAX_TEST_BODIES]))
    return result


def _defines(line: str, name: str) -> bool:
    return re.search(rf"\b(def|fn|function|class|struct|func)\s+{re.escape(name)}\b",
                     line) is not None
