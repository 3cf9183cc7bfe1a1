"""localhub: a GitHub-compatible forge that runs on one machine."""
