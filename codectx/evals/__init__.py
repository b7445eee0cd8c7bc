"""Long-context evaluation on the user's own repository: needles, haystacks, tasks, runs."""

RULER_TASKS = ("multikey", "multivalue", "vartrack")
"""The RULER-style tasks, in the order they run."""
