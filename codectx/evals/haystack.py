"""Haystacks: the repository's own prompt, cut to a length, with needles put in at depths.

A haystack is the serialized repository in its real order (the header, then
whole files as long as they fit the length; a file too large is passed over
for later ones that fit, so the order is kept; the room they leave is filled
with the first lines of the files passed over, each marked as an excerpt),
and needles are inserted as lines inside files, after the cut: at a depth of
40%, on the first line boundary after 40% of the haystack's tokens, in the
language of the file found there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from codectx.evals.needles import Needle
from codectx.indexer.levels import Level
from codectx.indexer.result import IndexResult
from codectx.indexer.serialize import Segment, file_block
from codectx.tokens import EstimateCounter, TokenCounter


@dataclass(frozen=True)
class Placed:
    needle: Needle
    path: str
    language: str
    position: int
    """About how many haystack tokens come before the needle."""


@dataclass(frozen=True)
class Haystack:
    segments: tuple[Segment, ...]
    tokens: int
    """Tokens of the haystack before any needle went in."""
    placed: tuple[Placed, ...] = ()

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)


REPORT = re.compile(r"(^|/)eval-(niah|ruler|reuse)\.json$")
"""An earlier run's report: its needles and answers would leak into the haystack."""


def available(index: IndexResult) -> int:
    """The most tokens a haystack of this repository can have: the header and every file."""
    return sum(s.tokens for s in index.segments if _usable(s))


def _usable(segment: Segment) -> bool:
    return segment.kind != "tree" and not REPORT.search(segment.path or "")


def cut(index: IndexResult, length: int, fmt: str = "xml",
        counter: TokenCounter | None = None) -> Haystack:
    """The header and whole files, in prompt order, within `length` tokens (never a report
    of an earlier evaluation); the room left is filled with the first lines of the files
    passed over, in order, each block counted with `counter` (the index's own)."""
    counter = counter or EstimateCounter()
    kept: list[Segment] = []
    passed: list[int] = []
    total = 0
    segments = [s for s in index.segments if _usable(s)]
    for i, segment in enumerate(segments):
        if segment.kind == "header" or total + segment.tokens <= length:
            kept.append(segment)
            total += segment.tokens
        elif segment.kind == "file":
            passed.append(i)
    full = {f.path for f in index.files if f.mode is Level.FULL}
    languages = {f.path: f.language for f in index.files}
    for i in passed:
        path = segments[i].path or ""
        if path not in full:
            continue
        excerpt = _excerpt(segments[i], languages.get(path, "text"), length - total, fmt,
                           counter)
        if excerpt is not None:
            kept.append(excerpt)
            total += excerpt.tokens
    kept.sort(key=lambda s: s.start)  # the prompt's order, with the excerpts in their places
    placed, at = [], 0
    for segment in kept:
        placed.append(replace(segment, start=at))
        at += segment.tokens
    return Haystack(tuple(placed), total)


def _excerpt(segment: Segment, language: str, room: int, fmt: str,
             counter: TokenCounter) -> Segment | None:
    """The file's block cut after its last line that lets the block fit `room` tokens;
    None when not even its first line does."""
    start, end = _body(segment.text, fmt)
    lines = segment.text[start:end].splitlines(keepends=True)

    def block(n: int) -> str:
        return file_block(segment.path or "", language, "".join(lines[:n]), Level.FULL, fmt,
                          part="excerpt")

    low, high = 0, len(lines) - 1  # the whole file did not fit
    while low < high:  # the most lines whose block fits
        mid = (low + high + 1) // 2
        if counter.count(block(mid)) <= room:
            low = mid
        else:
            high = mid - 1
    if low == 0:
        return None
    text = block(low)
    return replace(segment, text=text, tokens=counter.count(text))


def _body(text: str, fmt: str) -> tuple[int, int]:
    """Where a file block's content starts and ends in its text."""
    if fmt == "markdown":
        first = text.index("\n\n") + 2
        start = text.index("\n", first) + 1  # after the opening fence line
        end = text.rstrip("\n").rfind("\n") + 1  # the closing fence line
        return start, max(end, start)
    start = text.index("\n") + 1
    end = text.rfind("</file>")
    return start, max(end, start)


def insert(haystack: Haystack, needles: Sequence[tuple[Needle, float]],
           languages: Mapping[str, str], fmt: str = "xml") -> Haystack:
    """The haystack with each needle at its depth (0.0: the first file's first line, 1.0: the
    end of the last file)."""
    files = [i for i, s in enumerate(haystack.segments) if s.kind == "file"]
    if not files:
        raise ValueError("the haystack holds no file to put a needle in")
    edits: dict[int, list[tuple[int, Needle]]] = {}
    placed: list[Placed] = []
    for needle, depth in needles:
        target = depth * haystack.tokens
        i = next((i for i in files if haystack.segments[i].end > target), files[-1])
        segment = haystack.segments[i]
        start, end = _body(segment.text, fmt)
        fraction = min(max((target - segment.start) / max(segment.tokens, 1), 0.0), 1.0)
        at = start + int(fraction * (end - start))
        if start < at < end and segment.text[at - 1] != "\n":  # to the next line's start
            newline = segment.text.find("\n", at, end)
            at = end if newline < 0 else newline + 1
        edits.setdefault(i, []).append((at, needle))
        language = languages.get(segment.path or "", "text")
        share = (at - start) / max(end - start, 1)
        placed.append(Placed(needle, segment.path or "", language,
                             segment.start + round(share * segment.tokens)))
    segments = list(haystack.segments)
    for i, inserts in edits.items():
        text = segments[i].text
        language = languages.get(segments[i].path or "", "text")
        for at, needle in sorted(inserts, key=lambda e: -e[0]):
            text = text[:at] + needle.line(language) + "\n" + text[at:]
        segments[i] = replace(segments[i], text=text)
    return Haystack(tuple(segments), haystack.tokens, (*haystack.placed, *placed))
