"""Haystacks: the repository's own prompt, cut to a length, with needles put in at depths.

A haystack is the serialized repository in its real order (the header, then
whole files as long as they fit the length; a file too large is passed over
for later ones that fit, so the order is kept), and needles are inserted as
lines inside files: at a depth of 40%, on the first line boundary after 40%
of the haystack's tokens, in the language of the file found there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from codectx.evals.needles import Needle
from codectx.indexer.result import IndexResult
from codectx.indexer.serialize import Segment


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


def cut(index: IndexResult, length: int) -> Haystack:
    """The header and whole files, in prompt order, within `length` tokens (never a report
    of an earlier evaluation)."""
    kept: list[Segment] = []
    total = 0
    for segment in index.segments:
        if segment.kind == "tree" or REPORT.search(segment.path or ""):
            continue
        if segment.kind == "header" or total + segment.tokens <= length:
            kept.append(replace(segment, start=total))
            total += segment.tokens
    return Haystack(tuple(kept), total)


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
