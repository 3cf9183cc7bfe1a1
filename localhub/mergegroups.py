"""Merge groups of GitHub's merge queue: the temporary `gh-readonly-queue/...` branches and their events.

A group is the previous group's head (or the base tip) plus one PR's changes, made with the queue's
merge method (MERGE: a merge commit `Merge pull request #n from owner/branch`; SQUASH: one commit
`Title (#n)`; REBASE: the PR's commits replayed). Creating or deleting a group branch is a push
(and a `push` event); `merge_group` events carry `head_sha`, `head_ref`, `base_sha`, `base_ref`
(full ref names) and `head_commit`.
"""

from __future__ import annotations

from typing import Any

from localhub import gitops
from localhub.mergeability import FORGE
from localhub.pullflow import identity_of
from localhub.repos import git_for
from localhub.store import Row

QUEUE_BOT = "github-merge-queue[bot]"
REF_PREFIX = "refs/heads/gh-readonly-queue/"


class GroupConflict(Exception):
    """The PR's changes do not apply on top of the group it would follow."""


def group_ref(base_ref: str, number: int, head_sha: str) -> str:
    return f"{REF_PREFIX}{base_ref}/pr-{number}-{head_sha}"


def group_commit(hub: Any, repo: Row, pull: Row, on: str, method: str, enqueuer: Row) -> str:
    """The group head: `on` plus the PR's changes by `method` (MERGE, SQUASH, REBASE)."""
    git_dir = git_for(hub.store, repo).path
    head = pull["head_sha"]
    try:
        if method == "REBASE":
            return gitops.rebase_commits(git_dir, on, head, FORGE)
        if method == "SQUASH":
            subjects = gitops.run_git(git_dir, "log", "--reverse", "--format=* %s", f"{on}..{head}").stdout
            text = f"{pull['title']} (#{pull['number']})\n\n{subjects}".rstrip() + "\n"
            return gitops.squash_commit(git_dir, on, head, text, identity_of(enqueuer), FORGE)
        owner = hub.store.user_by_id(repo["owner_id"])["login"]
        text = f"Merge pull request #{pull['number']} from {owner}/{pull['head_ref']}\n\n{pull['title']}\n"
        return gitops.merge_commit(git_dir, on, head, text, identity_of(enqueuer), FORGE)
    except gitops.GitOpsError as exc:  # NotRebaseable is one too
        raise GroupConflict(str(exc)) from None


def push_ref(hub: Any, repo: Row, ref: str, sha: str | None, bot: Row) -> None:
    """Create (sha) or delete (None) a group branch, as a push by the merge queue."""
    git = git_for(hub.store, repo)
    old = git.refs().get(ref)
    if sha is None:
        if old is None:
            return
        git.delete_ref(ref)
        hub.notify_push(repo, [(ref, old, gitops.ZERO_SHA)], bot)
        return
    if old is not None:
        git.delete_ref(ref)
        hub.notify_push(repo, [(ref, old, gitops.ZERO_SHA)], bot)
    gitops.update_ref(git.path, ref, sha, old=None)
    hub.notify_push(repo, [(ref, gitops.ZERO_SHA, sha)], bot)


def emit(hub: Any, repo: Row, action: str, entry: Row, bot: Row, reason: str | None = None) -> None:
    """`merge_group` checks_requested / destroyed (with `reason`: merged, invalidated, dequeued)."""
    shapes = hub.shapes()
    payload: dict[str, Any] = {"action": action}
    if reason is not None:
        payload["reason"] = reason
    payload.update(
        {
            "merge_group": {
                "head_sha": entry["group_sha"],
                "head_ref": entry["group_ref"],
                "base_sha": entry["group_base_sha"],
                "base_ref": f"refs/heads/{entry['base_ref']}",
                "head_commit": hub.checks.head_commit(repo, entry["group_sha"]),
            },
            "repository": shapes.repo(repo, webhook=True),
            "sender": shapes.user(bot),
        }
    )
    hub.events.emit(repo, "merge_group", payload)
