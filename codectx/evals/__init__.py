"""Long-context evaluation on the user's own repository: needles, haystacks, tasks, runs."""
