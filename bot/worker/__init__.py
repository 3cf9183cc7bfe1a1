"""Workers: claim a task, implement it in a worktree, open its PR, and own the PR until it merges."""
