"""Which cells of a saved KV state a new prompt can keep, and what must be evaluated.

A prompt's prefix is a table of spans (the instructions, each file block, the
file tree), each named by its content. Prefix reuse keeps the longest common
token prefix: exact, but one changed file costs everything after it. Shift
reuse keeps every unchanged span wherever it stands: the cells of removed or
changed spans are dropped, the later cells are moved to their new positions
(llama.cpp re-applies RoPE), and only the changed spans are evaluated. Cells
moved past a change were computed with the old text in view, so they are an
approximation: each span carries a `stale` flag, and a plan that would leave
more than `stale_limit` of the prompt stale falls back to prefix reuse.

Spans are matched in order (difflib's matching blocks over their keys), so the
kept cells never cross each other and each can be moved by one range shift.
This module is pure: `llama_cpp` carries a plan out.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from codectx.models.backend import Span


@dataclass(frozen=True)
class Held:
    """A span whose cells a state holds; `stale`: computed against text since changed."""

    key: str
    start: int
    end: int
    stale: bool = False

    @property
    def tokens(self) -> int:
        return self.end - self.start

    def to_json(self) -> list[object]:
        return [self.key, self.start, self.end, self.stale]

    @classmethod
    def from_json(cls, item: Sequence[object]) -> Held:
        key, start, end, stale = item
        if not (isinstance(key, str) and isinstance(start, int) and isinstance(end, int)):
            raise ValueError("a span is [key, start, end, stale]")
        return cls(key, start, end, bool(stale))


@dataclass(frozen=True)
class Move:
    old_start: int
    old_end: int
    delta: int


@dataclass(frozen=True)
class ReusePlan:
    """How to turn the cells held into those of the new prompt's prefix."""

    keep_prefix: int
    """Cells [0, keep_prefix) stay as they are."""
    drop: tuple[tuple[int, int], ...]
    """Old position ranges to remove (changed or removed spans, and all cells past the
    old table)."""
    moves: tuple[Move, ...]
    """Kept ranges and how far each moves, in the order they must be applied."""
    evaluate: tuple[tuple[int, int], ...]
    """New position ranges to evaluate, in order."""
    held: tuple[Held, ...]
    """The new prompt's span table once the plan is carried out."""

    @property
    def reused(self) -> int:
        """Cells kept, whether or not they move."""
        return sum(h.tokens for h in self.held) - self.evaluated

    @property
    def shifted(self) -> int:
        return sum(m.old_end - m.old_start for m in self.moves)

    @property
    def evaluated(self) -> int:
        return sum(end - start for start, end in self.evaluate)

    @property
    def stale(self) -> int:
        return sum(h.tokens for h in self.held if h.stale)


def valid(held: Sequence[Held], n_tokens: int) -> bool:
    """A span table that tiles exactly the tokens it describes."""
    at = 0
    for h in held:
        if h.start != at or h.end <= h.start:
            return False
        at = h.end
    return at == n_tokens


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """How many tokens `a` and `b` share from their start."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def exact_prefix(held: Sequence[Held], old: Sequence[int], new: Sequence[int]) -> int:
    """The common token prefix, cut at the first stale cell (those are not exact)."""
    limit = next((h.start for h in held if h.stale), len(old))
    return common_prefix(old[:limit], new)


def prefix_plan(held: Sequence[Held], old: Sequence[int], new: Sequence[int],
                spans: Sequence[Span]) -> ReusePlan:
    """Exact reuse: keep the common prefix, evaluate the rest."""
    keep = exact_prefix(held, old, new)
    n = spans[-1].end if spans else len(new)
    keep = min(keep, n)
    table = tuple(Held(s.key, s.start, s.end) for s in spans)
    drop = ((keep, max(len(old), keep)),) if len(old) > keep else ()
    evaluate = ((keep, n),) if n > keep else ()
    return ReusePlan(keep, drop, (), evaluate, table)


def shift_plan(held: Sequence[Held], old: Sequence[int], new: Sequence[int],
               spans: Sequence[Span], recompute: int = 0) -> ReusePlan:
    """Keep every unchanged span, wherever it now stands; `recompute`: evaluate again the
    first tokens of each span moved past a change."""
    keep = tokens_in_common = exact_prefix(held, old, new)
    # The spans wholly inside the exact prefix stay where they are; matching starts after.
    first = 0
    while (first < min(len(held), len(spans)) and held[first].key == spans[first].key
           and held[first].end == spans[first].end and held[first].end <= keep):
        first += 1
    keep = spans[first - 1].end if first else 0
    old_rest, new_rest = held[first:], spans[first:]
    matcher = difflib.SequenceMatcher(None, [h.key for h in old_rest],
                                      [s.key for s in new_rest], autojunk=False)
    pairs: dict[int, Held] = {}
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            before, after = old_rest[block.a + k], new_rest[block.b + k]
            if before.tokens == after.tokens and \
                    tuple(old[before.start:before.end]) == tuple(new[after.start:after.end]):
                pairs[block.b + k] = before
    table: list[Held] = list(held[:first])
    # The first changed span keeps the head it shares with the old one (its opening tag).
    head = keep
    if new_rest and 0 not in pairs and old_rest and old_rest[0] not in pairs.values():
        head = max(keep, min(tokens_in_common, new_rest[0].end - 1, old_rest[0].end))
    moves: list[Move] = []
    evaluate: list[tuple[int, int]] = []
    kept_old: list[tuple[int, int]] = [(0, head)]
    changed = False
    for i, span in enumerate(new_rest):
        if i not in pairs:
            changed = True
            _extend(evaluate, head if i == 0 else span.start, span.end)
            table.append(Held(span.key, span.start, span.end))
            continue
        before = pairs[i]
        stale = before.stale or changed or before.start != span.start
        changed = changed or before.start != span.start
        kept_old.append((before.start, before.end))
        if before.start != span.start:
            moves.append(Move(before.start, before.end, span.start - before.start))
        if stale and recompute > 0:
            _extend(evaluate, span.start, span.start + min(recompute, span.tokens))
        table.append(Held(span.key, span.start, span.end, stale))
    drop = _complement(kept_old, len(old))
    # Moving left, left to right; moving right, right to left: no range ever lands on
    # cells that are still to be moved.
    ordered = ([m for m in moves if m.delta < 0]
               + [m for m in reversed(moves) if m.delta > 0])
    return ReusePlan(head, tuple(drop), tuple(ordered), tuple(evaluate), tuple(table))


def _extend(ranges: list[tuple[int, int]], start: int, end: int) -> None:
    if ranges and ranges[-1][1] == start:
        ranges[-1] = (ranges[-1][0], end)
    else:
        ranges.append((start, end))


def _complement(kept: list[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    gaps: list[tuple[int, int]] = []
    at = 0
    for start, end in sorted(kept):
        if start > at:
            gaps.append((at, start))
        at = max(at, end)
    if at < n:
        gaps.append((at, n))
    return gaps


def choose(held: Sequence[Held], old: Sequence[int], new: Sequence[int],
           spans: Sequence[Span], mode: str, stale_limit: float,
           recompute: int = 0) -> tuple[ReusePlan, str | None]:
    """The plan for `mode` ("shift" or "prefix"), and a note when shift gave way.

    Approximations compound: cells moved past a change, moved again past the next one,
    drift further from what an exact prefill gives. So a state whose stale share is over
    `stale_limit` is not shifted again: the next change is prefilled exactly (the same
    prompt asked again keeps its cells either way)."""
    exact = prefix_plan(held, old, new, spans)
    if mode != "shift" or not spans or not held:
        return exact, None
    shifted = shift_plan(held, old, new, spans, recompute)
    if not (shifted.evaluated or shifted.moves or shifted.drop):
        return shifted, None  # nothing changed: the cells stay as they are
    stale = sum(h.tokens for h in held if h.stale)
    if stale > stale_limit * held[-1].end:
        return exact, (f"{stale:,} of the saved state's {held[-1].end:,} tokens were reused at "
                       f"new positions before (over the stale limit, {stale_limit:.0%}): this "
                       "change was prefilled exactly")
    if shifted.evaluated >= exact.evaluated:
        return exact, None
    return shifted, None


def evaluated_estimate(old: Sequence[tuple[str, int]], new: Sequence[tuple[str, int]],
                       mode: str, stale_limit: float, recompute: int = 0,
                       stale: bool = False) -> int:
    """How many tokens a prefix of spans `new` would evaluate against a state that holds
    spans `old` (each a (key, tokens) pair), by the rules a prefill follows (`choose`).
    `stale`: the state's cells were reused at new positions before; all of them are then
    counted stale, so the figure is at most what is evaluated. Each span's tokens are
    stood in for by one id per key, so spans match exactly when their keys do."""
    ids: dict[str, int] = {}

    def lay(spans: Sequence[tuple[str, int]]) -> tuple[list[int], list[Span]]:
        tokens: list[int] = []
        table: list[Span] = []
        for key, n in spans:
            table.append(Span(key, len(tokens), len(tokens) + n))
            tokens += [ids.setdefault(key, len(ids))] * n
        return tokens, table

    old_tokens, old_table = lay(old)
    new_tokens, new_table = lay(new)
    held = [Held(s.key, s.start, s.end, stale) for s in old_table if s.end > s.start]
    plan, _ = choose(held, old_tokens, new_tokens, [s for s in new_table if s.end > s.start],
                     mode, stale_limit, recompute)
    return plan.evaluated
