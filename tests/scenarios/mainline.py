"""Main never red, checked: run a project's suite on every first-parent commit of a branch.

The orchestra's promise under `merge.queue: batch` is that every commit it puts on the default
branch is a tree CI passed as such. This checker does not trust the forge's check runs for it: it
checks out each first-parent commit of `branch` after `since` in a throw-away worktree and runs the
suite there, the way localhub's CI runs it (`replay.run_shell`: bash, a minimal environment, this
interpreter's `python3` first on PATH).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.scenarios.replay import run_shell
from tests.support.git_repos import git


@dataclass(frozen=True)
class Commit:
    """One first-parent commit and what the suite said of its tree."""

    sha: str
    subject: str
    passed: bool
    tail: str = ""


def first_parents(repo: Path, branch: str, since: str) -> list[str]:
    """The first-parent commits of `branch` after `since`, oldest first."""
    return git(repo, "rev-list", "--reverse", "--first-parent", f"{since}..{branch}").split()


def check_first_parents(repo: Path, branch: str, since: str, suite: str) -> list[Commit]:
    """Run `suite` on each first-parent commit of `branch` after `since` (oldest first)."""
    found = []
    scratch = Path(tempfile.mkdtemp(prefix="mainline-"))
    tree = scratch / "tree"
    git(repo, "worktree", "add", "--quiet", "--detach", str(tree), since)
    try:
        for sha in first_parents(repo, branch, since):
            git(tree, "checkout", "--quiet", "--detach", "--force", sha)
            git(tree, "clean", "-qfdx")
            done = run_shell(tree, suite)
            output = (done.stdout + done.stderr).strip().splitlines()
            subject = git(repo, "log", "-1", "--format=%s", sha).strip()
            found.append(Commit(sha, subject, done.returncode == 0, "\n".join(output[-3:])))
    finally:
        git(repo, "worktree", "remove", "--force", str(tree))
        shutil.rmtree(scratch, ignore_errors=True)
    return found


def red(commits: list[Commit]) -> list[Commit]:
    """The commits whose suite failed."""
    return [c for c in commits if not c.passed]
