"""The chaos suite: a goal of eight tasks in local mode with RQ worker processes and one fault per run."""
