"""Auto-merge (GraphQL `enablePullRequestAutoMerge` / `disablePullRequestAutoMerge`), as GitHub runs it.

With a merge queue on the base, a PR with auto-merge joins the queue as soon as its required
checks pass (at once if they already have). Without one, the repository must allow auto-merge
(`PATCH /repos/{o}/{r}` `allow_auto_merge`), a PR that could be merged right now is refused
(`Pull request is in clean status`), and the PR is merged by the person who enabled auto-merge
once the base's rules let it (`pull_request auto_merge_enabled` / `auto_merge_disabled` events).
"""

from __future__ import annotations

from typing import Any

from localhub import gitops, mergegate, pullstore, queuestore
from localhub.mergequeue import QueueError
from localhub.protection import rules_for, unmet_checks
from localhub.pullflow import MergeRefused
from localhub.repos import git_for
from localhub.store import Row

SETTING = "allow_auto_merge:{}"


def allowed(store: Any, repo: Row) -> bool:
    """The repository's `allow_auto_merge` setting (off by default, as on GitHub)."""
    return store.setting(SETTING.format(repo["id"])) == "1"


class AutoMerge:
    """Auto-merge requests of one hub (`hub.auto_merge`)."""

    def __init__(self, hub: Any) -> None:
        self.hub = hub
        self.store = hub.store

    def enable(
        self,
        repo: Row,
        pull: Row,
        user: Row,
        method: str,
        headline: str | None = None,
        body: str | None = None,
        email: str | None = None,
        expected_head: str | None = None,
    ) -> None:
        """Turn auto-merge on (QueueError when GitHub would refuse); may enqueue or merge at once."""
        if pull["state"] != "open" or pull["merged"]:
            raise QueueError("UNPROCESSABLE", "Pull request is closed")
        if expected_head and expected_head != pull["head_sha"]:
            raise QueueError("UNPROCESSABLE", "The expected head OID does not match the pull request's head")
        queued = rules_for(self.store, repo, pull["base_ref"]).merge_queue is not None
        if not queued:
            if not allowed(self.store, repo):
                raise QueueError("UNPROCESSABLE", "Pull request Auto merge is not allowed for this repository")
            if self._mergeable_now(repo, pull, user):
                raise QueueError("UNPROCESSABLE", "Pull request is in clean status")
        queuestore.set_auto_merge(self.store, pull, user["id"], method, headline, body, email)
        self.hub.pulls.emit(repo, "auto_merge_enabled", pullstore.pull_by_issue(self.store, pull["issue_id"]), user)
        self.try_pull(repo, pull["issue_id"])

    def disable(self, repo: Row, pull: Row, user: Row) -> None:
        """Turn auto-merge off; a PR queued through it leaves the queue."""
        if queuestore.clear_auto_merge(self.store, pull["issue_id"]):
            self.hub.pulls.emit(repo, "auto_merge_disabled", pull, user, reason="")
        self.hub.merge_queue.dequeue(repo, pull, user, "MANUAL")

    def _mergeable_now(self, repo: Row, pull: Row, user: Row) -> bool:
        git_dir = git_for(self.store, repo).path
        base = gitops.rev_parse(git_dir, f"refs/heads/{pull['base_ref']}") or pull["base_sha"]
        if not gitops.check_merge(git_dir, base, pull["head_sha"]).clean:
            return False
        return mergegate.refusal(self.store, git_dir, repo, pull, base, pull["head_sha"], user, None) is None

    def checks_changed(self, repo: Row, sha: str) -> None:
        """The head of a PR with auto-merge may be ready now."""
        rows = self.store.all(
            "SELECT a.pull_id FROM auto_merge_requests a JOIN pulls p ON p.issue_id=a.pull_id"
            " WHERE a.repo_id=? AND p.head_sha=?",
            (repo["id"], sha),
        )
        for row in rows:
            self.try_pull(repo, row["pull_id"])

    def rules_changed(self, repo: Row) -> None:
        for row in queuestore.auto_merges(self.store, repo["id"]):
            self.try_pull(repo, row["pull_id"])

    def try_pull(self, repo: Row, pull_id: int) -> None:
        """Enqueue (merge queue) or merge the PR if its auto-merge request can be honoured now."""
        request = queuestore.auto_merge(self.store, pull_id)
        pull = pullstore.pull_by_issue(self.store, pull_id)
        if request is None or pull["state"] != "open" or queuestore.entry_for_pull(self.store, pull_id):
            return
        user = self.store.user_by_id(request["enabled_by_id"])
        rules = rules_for(self.store, repo, pull["base_ref"])
        if unmet_checks(self.store, repo["id"], pull["head_sha"], rules.checks):
            return
        try:
            if rules.merge_queue is not None:
                self.hub.merge_queue.enqueue(repo, pull, user)
                return
            self.hub.pulls.merge(
                repo,
                pull,
                user,
                request["merge_method"].lower(),
                None,
                request["commit_headline"],
                request["commit_body"],
            )
        except (QueueError, MergeRefused):
            return  # not yet (conflicts, approvals, pending checks): tried again on the next change
        queuestore.clear_auto_merge(self.store, pull_id)
