"""Reuse plans: which cells a new prompt keeps, where they move, what is evaluated."""

from __future__ import annotations

import hashlib

from codectx.models.backend import Span
from codectx.models.runtime.reuse import Held, Move, choose, prefix_plan, shift_plan, valid


def token(name: str, i: int) -> int:
    """The `i`th token of a part called `name`: the same in every run and process."""
    return int.from_bytes(hashlib.sha256(f"{name}/{i}".encode()).digest()[:4], "big") % 50_000


def layout(*parts: tuple[str, int]) -> tuple[list[int], list[Span]]:
    """Tokens and spans for named parts of given lengths; a part's tokens depend on its
    name only, so the same name gives the same tokens anywhere."""
    tokens: list[int] = []
    spans: list[Span] = []
    for name, n in parts:
        start = len(tokens)
        tokens += [token(name, i) for i in range(n)]
        spans.append(Span(name, start, len(tokens)))
    return tokens, spans


def test_a_parts_tokens_depend_on_its_name_only() -> None:
    first, _ = layout(("head", 4), ("a", 6))
    second, spans = layout(("a", 6), ("b", 6), ("head", 4))
    assert first[4:] == second[:6] and first[:4] == second[12:]  # the same anywhere
    assert spans == [Span("a", 0, 6), Span("b", 6, 12), Span("head", 12, 16)]
    # different names, different tokens: no accidental match between parts
    assert len(set(first) | set(second)) == 16
    assert first[:3] == [token("head", 0), token("head", 1), token("head", 2)] == [
        19_255, 37_073, 35_191]  # and the same in every process


def held(spans: list[Span], stale: frozenset[str] = frozenset()) -> list[Held]:
    return [Held(s.key, s.start, s.end, s.key in stale) for s in spans]


def test_an_unchanged_prompt_keeps_everything() -> None:
    tokens, spans = layout(("head", 10), ("a", 30), ("b", 20), ("tail", 3))
    plan = shift_plan(held(spans), tokens, tokens, spans)
    assert plan.evaluate == () and plan.moves == () and plan.drop == ()
    assert plan.reused == 63 and plan.stale == 0 and plan.keep_prefix == 63


def test_an_edit_to_the_first_file_evaluates_only_that_file() -> None:
    old, old_spans = layout(("head", 10), ("a", 30), ("b", 20), ("c", 25), ("tail", 3))
    new, new_spans = layout(("head", 10), ("a2", 34), ("b", 20), ("c", 25), ("tail", 3))
    plan = shift_plan(held(old_spans), old, new, new_spans)
    assert plan.keep_prefix == 10
    assert plan.evaluate == ((10, 44),)
    assert plan.drop == ((10, 40),)
    # moving right: the last range first, so no range lands on cells still to move
    assert plan.moves == (Move(85, 88, 4), Move(60, 85, 4), Move(40, 60, 4))
    assert plan.evaluated == 34 and plan.shifted == 48 and plan.reused == 58
    assert [h.stale for h in plan.held] == [False, False, True, True, True]
    assert valid(plan.held, len(new))


def test_an_exact_plan_pays_for_everything_after_the_change() -> None:
    old, old_spans = layout(("head", 10), ("a", 30), ("b", 20), ("tail", 3))
    new, new_spans = layout(("head", 10), ("a2", 28), ("b", 20), ("tail", 3))
    plan = prefix_plan(held(old_spans), old, new, new_spans)
    assert plan.keep_prefix == 10 and plan.evaluate == ((10, 61),) and plan.stale == 0


def test_added_removed_and_reordered_files() -> None:
    old, old_spans = layout(("head", 5), ("a", 10), ("b", 10), ("c", 10), ("d", 10))
    # b removed, e added after c, a and d swapped
    new, new_spans = layout(("head", 5), ("d", 10), ("c", 10), ("e", 7), ("a", 10))
    plan = shift_plan(held(old_spans), old, new, new_spans)
    kept = {h.key for h in plan.held} - {new_spans[i].key for i in range(len(new_spans))
                                          if any(s <= new_spans[i].start < e
                                                 for s, e in plan.evaluate)}
    # An order-preserving match: d, c and a come in the opposite order, so one of them
    # survives the swap, never two; the match keeps a (the first of them in the old order)
    # and moves its cells behind the evaluated d, c and e.
    assert kept == {"head", "a"}
    assert plan.evaluate == ((5, 32),) and plan.moves == (Move(5, 15, 27),)
    assert plan.reused == 15 and plan.drop == ((15, 45),)
    assert plan.evaluated + plan.reused == len(new)
    assert valid(plan.held, len(new))
    # moving left, left to right: nothing lands on a range still to be moved
    lefts = [m for m in plan.moves if m.delta < 0]
    assert lefts == sorted(lefts, key=lambda m: m.old_start)


def test_moves_never_land_on_cells_still_to_move() -> None:
    old, old_spans = layout(("head", 4), ("a", 8), ("b", 3), ("c", 9), ("d", 2), ("e", 6))
    new, new_spans = layout(("head", 4), ("a", 8), ("x", 12), ("c", 9), ("d", 2), ("e", 6))
    plan = shift_plan(held(old_spans), old, new, new_spans)
    occupied = {p for h in old_spans for p in range(h.start, h.end)}
    for start, end in plan.drop:
        occupied -= set(range(start, end))
    for move in plan.moves:
        moving = set(range(move.old_start, move.old_end))
        landing = {p + move.delta for p in moving}
        assert not (landing & (occupied - moving))
        occupied = (occupied - moving) | landing
    evaluated = {p for s, e in plan.evaluate for p in range(s, e)}
    assert occupied | evaluated == set(range(len(new))) and not occupied & evaluated


def test_recompute_evaluates_the_head_of_each_moved_span() -> None:
    old, old_spans = layout(("head", 10), ("a", 30), ("b", 20), ("c", 25))
    new, new_spans = layout(("head", 10), ("a2", 31), ("b", 20), ("c", 25))
    plan = shift_plan(held(old_spans), old, new, new_spans, recompute=4)
    assert plan.evaluate == ((10, 45), (61, 65))
    assert plan.evaluated == 31 + 4 + 4


def test_stale_cells_are_not_an_exact_prefix_and_the_limit_forces_exactness() -> None:
    old, old_spans = layout(("head", 10), ("a", 30), ("b", 20), ("c", 25))
    stale_table = held(old_spans, frozenset({"b", "c"}))  # 45 of 85 tokens
    # the same prompt again: an exact plan may keep only what is not stale ...
    assert prefix_plan(stale_table, old, old, old_spans).keep_prefix == 40
    # ... a shifting one keeps everything, stale or not: nothing changed
    same, note = choose(stale_table, old, old, old_spans, "shift", stale_limit=0.2)
    assert same.evaluated == 0 and same.stale == 45 and note is None
    new, new_spans = layout(("head", 10), ("a2", 30), ("b", 20), ("c", 25))
    # a change to a state over the limit is prefilled exactly, from its first stale cell
    plan, note = choose(stale_table, old, new, new_spans, "shift", stale_limit=0.5)
    assert plan.moves == () and plan.evaluate == ((10, 85),) and plan.stale == 0
    assert note is not None and "stale limit" in note
    # under the limit, or from an exact state, the change is shifted
    plan, note = choose(stale_table, old, new, new_spans, "shift", stale_limit=0.6)
    assert plan.evaluate == ((10, 40),) and plan.stale == 45 and note is None
    plan, note = choose(held(old_spans), old, new, new_spans, "shift", stale_limit=0.0)
    assert plan.evaluate == ((10, 40),) and note is None
    plan, _ = choose(held(old_spans), old, new, new_spans, "prefix", stale_limit=1.0)
    assert plan.evaluate == ((10, 85),)


def test_a_table_that_does_not_tile_its_tokens_is_invalid() -> None:
    assert valid([Held("a", 0, 5), Held("b", 5, 9)], 9)
    assert not valid([Held("a", 0, 5), Held("b", 6, 9)], 9)
    assert not valid([Held("a", 0, 5)], 9)
    assert not valid([Held("unreadable", 0, 0)], 0)


def test_the_first_changed_span_keeps_the_head_it_shares() -> None:
    old, old_spans = layout(("head", 10), ("a", 30), ("b", 20))
    new = list(old)
    new[10 + 12] += 1  # a token in the middle of a's block changes
    new_spans = [Span("head", 0, 10), Span("a'", 10, 40), Span("b", 40, 60)]
    plan = shift_plan(held(old_spans), old, new, new_spans)
    assert plan.keep_prefix == 22 and plan.evaluate == ((22, 40),)
    assert plan.drop == ((22, 40),) and plan.moves == ()
    # b stays in place but was computed with the old a in view
    assert [h.stale for h in plan.held] == [False, False, True] and plan.stale == 20
    assert plan.reused == 42
