"""The life of a pull request after the REST call: events, reactions to pushes, merging, closing issues.

`PullFlow` is attached to a hub (`hub.pulls`). It emits `pull_request` events, answers pushes
(head → `synchronize` + fresh mergeability + CI; base → fresh mergeability, and a PR whose head
landed on its base by a push is marked merged, as GitHub does; a merge queue's batch branch,
`orchestra/queue/**` → CI, as a workflow with `on: push` for those branches would), merges with merge/squash/rebase
under a compare-and-swap of the base ref, and closes the issues a merged PR references.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from localhub import gitops, issueevents, mergegate, payloads, pullstore
from localhub import issues as issuemodel
from localhub.ci import CiJob, runs_on_push
from localhub.mergeability import FORGE, Mergeability, live_shas
from localhub.pullshapes import PullShapes
from localhub.repos import git_for
from localhub.store import Row, now_iso

ZERO_SHA = gitops.ZERO_SHA
CLOSING = re.compile(r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\b:?\s+#(\d+)\b", re.IGNORECASE)


class MergeRefused(Exception):
    """GitHub's answer to a merge that cannot happen: `status` (405/409) and `message`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def closing_references(text: str) -> list[int]:
    """Issue numbers a PR's title/body closes with GitHub's keywords (`Fixes #12`), in order."""
    return list(dict.fromkeys(int(n) for n in CLOSING.findall(text)))


def _message(title: str, message: str | None, default_body: str) -> str:
    body = default_body if message is None else message
    return f"{title}\n\n{body}".rstrip() + "\n"


def identity_of(user: Row) -> gitops.Identity:
    return gitops.Identity(user["name"] or user["login"], user["email"] or f"{user['login']}@users.noreply.localhub")


class PullFlow:
    """PR behaviour of one hub (events, pushes, merges); `hub.pulls`."""

    def __init__(self, hub: Any) -> None:
        self.hub = hub
        self.store = hub.store
        self.mergeability = Mergeability(hub.store, self.git_dir)

    def git_dir(self, repo: Row) -> Path:
        return git_for(self.store, repo).path

    def pull_shapes(self, repo: Row, web: str | None = None) -> PullShapes:
        return PullShapes(self.hub.shapes(web), self.git_dir(repo))

    def shape(self, pull: Row, web: str | None = None, full: bool = True, webhook: bool = False) -> dict[str, Any]:
        """The PR's JSON with mergeability as it stands now (scheduling a computation if stale)."""
        repo = self.store.repo_by_id(pull["repo_id"])
        mergeable, state = self.mergeability.view(pull) if (full or webhook) else (None, "unknown")
        return self.pull_shapes(repo, web).pull(
            pull, full=full, webhook=webhook, mergeable=mergeable, mergeable_state=state
        )

    # -- events ----------------------------------------------------------------------------
    def emit(self, repo: Row, action: str, pull: Row, sender: Row, **extra: Any) -> None:
        shapes = self.hub.shapes()
        payload = {
            "action": action,
            "number": pull["number"],
            **extra,
            "pull_request": self.shape(pull, webhook=True),
            "repository": shapes.repo(repo, webhook=True),
            "sender": shapes.user(sender),
        }
        self.hub.events.emit(repo, "pull_request", payload)

    def opened(self, repo: Row, pull: Row, sender: Row) -> None:
        """After `POST /pulls`: schedule mergeability, emit `opened`, run CI on the head."""
        self.mergeability.schedule(pull["issue_id"])
        self.emit(repo, "opened", pull, sender)
        self.run_ci(repo, pull["head_ref"], pull["head_sha"], "pull_request", sender)

    def run_ci(self, repo: Row, branch: str, sha: str, event: str, actor: Row | None) -> None:
        """Start local CI on `sha` for `event` (push, pull_request, merge_group), once per commit."""
        ci = getattr(self.hub, "ci", None)
        workflows = getattr(self.hub, "workflows", None)
        if ci is None or workflows is None or workflows.has_run(repo["id"], sha):
            return
        ci.submit(
            CiJob(
                repo["id"], self.git_dir(repo), sha, branch, repo["ci_command"], event, actor["id"] if actor else None
            )
        )

    # -- pushes ----------------------------------------------------------------------------
    def on_push(self, repo: Row, ref: str, old: str, new: str, pusher: Row) -> None:
        """Post-receive: react to a branch update as GitHub does."""
        if not ref.startswith("refs/heads/"):
            return
        branch = ref.removeprefix("refs/heads/")
        if new == ZERO_SHA:  # GitHub closes the open PRs whose head branch is deleted
            for pull in pullstore.open_pulls_on(self.store, repo["id"], head_ref=branch):
                self.set_state(repo, pull, "closed", pusher)
            return
        heads = pullstore.open_pulls_on(self.store, repo["id"], head_ref=branch)
        for pull in heads:
            self._synchronize(repo, pull, old, new, pusher)
        for pull in pullstore.open_pulls_on(self.store, repo["id"], base_ref=branch):
            self._base_moved(repo, pull, new, pusher)
        if heads or branch == repo["default_branch"] or runs_on_push(branch):
            self.run_ci(repo, branch, new, "push", pusher)

    def _synchronize(self, repo: Row, pull: Row, old: str, new: str, pusher: Row) -> None:
        base, _ = live_shas(self.git_dir(repo), pull)
        pullstore.pending_mergeability(self.store, pull["issue_id"], base, new)
        pullstore.update_issue(self.store, pull["issue_id"])
        pull = pullstore.pull_by_issue(self.store, pull["issue_id"])
        self.mergeability.schedule(pull["issue_id"])
        self.emit(repo, "synchronize", pull, pusher, before=old, after=new)

    def _base_moved(self, repo: Row, pull: Row, new: str, pusher: Row) -> None:
        git_dir = self.git_dir(repo)
        _, head = live_shas(git_dir, pull)
        if gitops.is_ancestor(git_dir, head, new):  # the head's commits landed on the base by a push
            self._record_merge(repo, pull, pusher, merge_sha=head, base_before=pull["base_sha"], head=head)
            return
        pullstore.pending_mergeability(self.store, pull["issue_id"], new, head)
        self.mergeability.schedule(pull["issue_id"])

    # -- merging ---------------------------------------------------------------------------
    def merge(
        self,
        repo: Row,
        pull: Row,
        user: Row,
        method: str,
        sha: str | None,
        title: str | None,
        message: str | None,
        app_id: int | None = None,
    ) -> str:
        """Merge the PR into its base (GitHub's `PUT .../merge`); the new base sha, or MergeRefused.

        The base's protection and rulesets apply (`localhub.mergegate`); `app_id` is the App acting
        through an installation token (Apps do not hold repository roles, so they bypass nothing
        unless a ruleset names them).
        """
        if pull["state"] != "open" or pull["merged"]:
            raise MergeRefused(405, "Pull Request is not mergeable")
        git_dir = self.git_dir(repo)
        base, head = live_shas(git_dir, pull)
        if sha and sha != head:
            raise MergeRefused(409, "Head branch was modified. Review and try the merge again.")
        refused = mergegate.refusal(self.store, git_dir, repo, pull, base, head, user, app_id)
        if refused is not None:
            raise MergeRefused(405, refused)
        if not gitops.check_merge(git_dir, base, head).clean:
            raise MergeRefused(405, "Pull Request is not mergeable")
        merged = self._merge_commit(git_dir, pull, user, method, base, head, title, message)
        try:
            gitops.update_ref(git_dir, f"refs/heads/{pull['base_ref']}", merged, old=base)
        except gitops.RefConflict:
            raise MergeRefused(405, "Base branch was modified. Review and try the merge again.") from None
        self._record_merge(repo, pull, user, merge_sha=merged, base_before=base, head=head)
        self.hub.notify_push(repo, [(f"refs/heads/{pull['base_ref']}", base, merged)], user)
        return merged

    def _merge_commit(
        self,
        git_dir: Path,
        pull: Row,
        user: Row,
        method: str,
        base: str,
        head: str,
        title: str | None,
        message: str | None,
    ) -> str:
        """The commit the base will point at, with GitHub's default titles and messages."""
        if method == "rebase":
            try:
                return gitops.rebase_commits(git_dir, base, head, FORGE)
            except gitops.NotRebaseable:
                raise MergeRefused(405, "This branch can't be rebased") from None
        if method == "squash":
            subjects = gitops.run_git(git_dir, "log", "--reverse", "--format=* %s", f"{base}..{head}").stdout
            text = _message(title or f"{pull['title']} (#{pull['number']})", message, subjects)
            return gitops.squash_commit(git_dir, base, head, text, identity_of(user), FORGE)
        owner = self.store.user_by_id(self.store.repo_by_id(pull["repo_id"])["owner_id"])["login"]
        default_title = f"Merge pull request #{pull['number']} from {owner}/{pull['head_ref']}"
        text = _message(title or default_title, message, pull["title"])
        return gitops.merge_commit(git_dir, base, head, text, identity_of(user), FORGE)

    def record_merge(self, repo: Row, pull: Row, user: Row, merge_sha: str, base_before: str, head: str) -> None:
        """Mark the PR merged by `user` as `merge_sha`; emit `closed` (merged) and close referenced issues."""
        self._record_merge(repo, pull, user, merge_sha, base_before, head)

    def _record_merge(self, repo: Row, pull: Row, user: Row, merge_sha: str, base_before: str, head: str) -> None:
        stamp = now_iso()
        pullstore.update_pull(
            self.store,
            pull["issue_id"],
            merged=1,
            merge_commit_sha=merge_sha,
            merged_by_id=user["id"],
            base_sha=base_before,
            head_sha=head,
            mergeable=None,
        )
        pullstore.update_issue(
            self.store, pull["issue_id"], state="closed", closed_at=stamp, merged_at=stamp, closed_by_id=user["id"]
        )
        pull = pullstore.pull_by_issue(self.store, pull["issue_id"])
        issue = self.store.issue_by_id(pull["issue_id"])
        issueevents.record(self.store, issue, user, "merged", commit_id=merge_sha)
        issueevents.record(self.store, issue, user, "closed", {"state_reason": None}, commit_id=merge_sha)
        self.emit(repo, "closed", pull, user)
        if pull["base_ref"] == repo["default_branch"]:
            self.close_referenced(repo, pull, user)

    def close_referenced(self, repo: Row, pull: Row, user: Row) -> list[int]:
        """Close the open issues the PR's title/body references with closing keywords."""
        closed = []
        for number in closing_references(f"{pull['title']}\n{pull['body'] or ''}"):
            issue = self.store.issue(repo["id"], number)
            if issue is None or issue["is_pull"] or issue["state"] != "open":
                continue
            issue = issuemodel.close(self.store, issue, user, "completed")
            issueevents.record(
                self.store, issue, user, "closed", {"state_reason": "completed"}, commit_id=pull["merge_commit_sha"]
            )
            self.hub.events.emit(repo, "issues", payloads.issues_event(self.hub.shapes(), "closed", issue, user))
            closed.append(number)
        return closed

    # -- state changes through PATCH -------------------------------------------------------
    def set_state(self, repo: Row, pull: Row, state: str, user: Row) -> Row:
        """Close (without merging) or reopen; emits `closed` (merged false) or `reopened`."""
        if state == pull["state"]:
            return pull
        if state == "closed":
            pullstore.update_issue(
                self.store, pull["issue_id"], state="closed", closed_at=now_iso(), closed_by_id=user["id"]
            )
        else:
            pullstore.update_issue(self.store, pull["issue_id"], state="open", closed_at=None, closed_by_id=None)
        pull = pullstore.pull_by_issue(self.store, pull["issue_id"])
        issueevents.record(
            self.store,
            self.store.issue_by_id(pull["issue_id"]),
            user,
            "closed" if state == "closed" else "reopened",
            {"state_reason": None},
        )
        if state == "open":
            self.mergeability.schedule(pull["issue_id"])
        self.emit(repo, "closed" if state == "closed" else "reopened", pull, user)
        queue = getattr(self.hub, "merge_queue", None)
        if state == "closed" and queue is not None:
            queue.pull_closed(repo, pull, user)
        return pull

    def on_issue_change(self, repo: Row, action: str, issue: Row, user: Row, extra: dict[str, Any]) -> None:
        """The issues API changed a PR's issue half (labels, assignees, state, title): emit `pull_request`."""
        pull = self.store.one(pullstore.PULL_SELECT + " WHERE p.issue_id=?", (issue["id"],))
        if pull is None:  # an issue row marked as a PR without its `pulls` half (made by hand)
            return
        if action == "reopened":
            self.mergeability.schedule(pull["issue_id"])
        self.emit(repo, action, pull, user, **extra)
        queue = getattr(self.hub, "merge_queue", None)
        if action == "closed" and queue is not None:
            queue.pull_closed(repo, pull, user)

    def close(self) -> None:
        self.mergeability.close()
