"""What a rebuild will evaluate, by the same rules a prefill follows (the watcher says it
before it prefills)."""

from __future__ import annotations

from codectx.models.runtime.reuse import evaluated_estimate

OLD = [("head", 10), ("a.py", 100), ("b.py", 200), ("c.py", 300)]


def test_nothing_changed_evaluates_nothing() -> None:
    assert evaluated_estimate(OLD, OLD, "shift", 0.5) == 0
    assert evaluated_estimate(OLD, OLD, "prefix", 0.5) == 0


def test_prefix_reuse_evaluates_from_the_first_change_on() -> None:
    new = [("head", 10), ("a.py", 100), ("b.py v2", 200), ("c.py", 300)]
    assert evaluated_estimate(OLD, new, "prefix", 0.5) == 500


def test_shift_reuse_evaluates_only_the_changed_span() -> None:
    new = [("head", 10), ("a.py", 100), ("b.py v2", 150), ("c.py", 300)]
    assert evaluated_estimate(OLD, new, "shift", 0.5) == 150
    # The head of each span moved past the change evaluated again, if asked for.
    assert evaluated_estimate(OLD, new, "shift", 0.5, recompute=16) == 166


def test_a_stale_state_past_the_limit_is_prefilled_exactly() -> None:
    """Every held cell counted stale (the watcher knows only that some are): past the
    limit, nothing is exact, so all of it is evaluated again; under it, the shift holds."""
    new = [("head", 10), ("a.py", 100), ("b.py v2", 150), ("c.py", 300)]
    assert evaluated_estimate(OLD, new, "shift", 0.5, stale=True) == 560
    assert evaluated_estimate(OLD, new, "shift", 1.0, stale=True) == 150


def test_a_new_or_removed_file() -> None:
    added = [*OLD[:2], ("a2.py", 50), *OLD[2:]]
    assert evaluated_estimate(OLD, added, "shift", 0.5) == 50
    assert evaluated_estimate(OLD, added, "prefix", 0.5) == 550
    removed = [OLD[0], *OLD[2:]]
    assert evaluated_estimate(OLD, removed, "shift", 0.5) == 0
