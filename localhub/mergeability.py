"""Mergeability of open PRs, computed by real git in the background after a push, as GitHub does.

A PR's `mergeable` is `null` until computed for the current (base tip, head tip) pair. The base's protection and
rulesets turn a mergeable PR `blocked` (required checks, approvals) or `behind` (strict policy). A push to
either side forgets it and schedules a computation; a GET of the PR schedules one too when the
stored answer is stale. A clean result also writes GitHub's test merge commit (`merge_commit_sha`);
no `refs/pull/*` refs are written, so pushes never see refs move under them.
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from localhub import checkstore, gitops, mergegate, pullstore
from localhub.background import Pending
from localhub.store import Row, Store

log = logging.getLogger(__name__)
FORGE = gitops.Identity("localhub", "noreply@localhub.invalid")


def live_shas(git_dir: Path, pull: Row) -> tuple[str, str]:
    """(base tip, head tip) now; the stored shas when a branch is gone or the PR is closed."""
    if pull["state"] != "open":
        return pull["base_sha"], pull["head_sha"]
    base = gitops.rev_parse(git_dir, f"refs/heads/{pull['base_ref']}") or pull["base_sha"]
    head = gitops.rev_parse(git_dir, f"refs/heads/{pull['head_ref']}") or pull["head_sha"]
    return base, head


class Mergeability:
    """A single background lane computing mergeability; `drain()` waits until it is idle."""

    def __init__(self, store: Store, git_dir_of: Any) -> None:
        self.store = store
        self.git_dir_of = git_dir_of  # repo row -> Path of its bare repo
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="localhub-mergeable")
        self._queued: set[int] = set()
        self._pending = Pending()
        self._lock = threading.Lock()

    def schedule(self, issue_id: int) -> None:
        """Compute the PR's mergeability soon (once, however often asked meanwhile)."""
        with self._lock:
            if issue_id in self._queued:
                return
            self._queued.add(issue_id)
            self._pending.submit(self._pool, self._compute, issue_id)

    def _compute(self, issue_id: int) -> None:
        with self._lock:
            self._queued.discard(issue_id)
        try:
            self.compute(issue_id)
        except gitops.GitOpsError:  # stays null (as GitHub's can); the next GET tries again
            log.exception("mergeability of PR (issue id %s) could not be computed", issue_id)

    def compute(self, issue_id: int) -> None:
        """Merge head into base in memory now and store the answer (and the test merge commit)."""
        pull = pullstore.pull_by_issue(self.store, issue_id)
        if pull["state"] != "open":
            return
        git_dir = self.git_dir_of(self.store.repo_by_id(pull["repo_id"]))
        base, head = live_shas(git_dir, pull)
        check = gitops.check_merge(git_dir, base, head)
        test_merge = None
        if check.clean:
            message = f"Merge {head} into {base}\n"
            test_merge = gitops.commit_tree(git_dir, check.tree, [base, head], message, FORGE)
        pullstore.update_pull(
            self.store,
            issue_id,
            mergeable=int(check.clean),
            computed_for=f"{base}:{head}",
            test_merge_sha=test_merge,
            conflicts=json.dumps(list(check.conflicts)),
            base_sha=base,
            head_sha=head,
        )

    def view(self, pull: Row) -> tuple[bool | None, str]:
        """(`mergeable`, `mergeable_state`) to show now; schedules a computation when stale."""
        if pull["state"] != "open":
            return None, "unknown"
        git_dir = self.git_dir_of(self.store.repo_by_id(pull["repo_id"]))
        base, head = live_shas(git_dir, pull)
        if pull["mergeable"] is None or pull["computed_for"] != f"{base}:{head}":
            self.schedule(pull["issue_id"])
            return None, "unknown"
        if not pull["mergeable"]:
            return False, "dirty"
        if pull["draft"]:
            return True, "draft"
        repo = self.store.repo_by_id(pull["repo_id"])
        held = mergegate.state(self.store, git_dir, repo, pull, base, head)
        if held is not None:
            return True, held
        checks = checkstore.head_state(self.store, pull["repo_id"], head)
        return True, "unstable" if checks in ("failure", "pending") else "clean"

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until no computation is queued or running; True if so within `timeout`."""
        return self._pending.drain(timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
