"""Merge an orchestra PR when the repository's policy says so: `auto` merges once every check is green,
the PR is mergeable and has the approvals the config requires; `review` leaves merging to people.

After the merge the branch is deleted (when configured) and the task is closed (the forge's
closing keyword usually has done it already). A PR that no longer merges gets a conflict job.
"""

from __future__ import annotations

import time

from bot.ledger.taskbody import task_number_from_branch
from bot.queue.kinds import JobRequest
from bot.worker.ci import find_pr
from bot.worker.pulls import conflicting, settled
from bot.worker.session import WorkerContext

#: Pauses between merge attempts refused because the base moved or mergeability was unknown.
MERGE_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)
sleep = time.sleep


def maybe_merge(ctx: WorkerContext, pr_number: int | None, branch: str | None, head_sha: str) -> str:
    """The maybe_merge job's core; returns what it did in a few words."""
    pr = find_pr(ctx, pr_number, branch)
    if pr is None or pr.state != "open":
        return "no open PR"
    if pr.head_sha != head_sha:
        return "stale: the head moved"
    policy = ctx.config.merge
    if policy.policy != "auto":
        return "merge policy is review: left to people"
    for delay in MERGE_RETRY_DELAYS:
        outcome = _try_merge(ctx, pr.number, head_sha)
        if outcome is not None:
            return outcome
        sleep(delay)  # checks still running, mergeability unknown, or the base moved under a concurrent merge
    return "not merged: the forge kept refusing (reconcile will try again)"


def _try_merge(ctx: WorkerContext, number: int, head_sha: str) -> str | None:
    """One merge attempt: the outcome, or None when it is worth trying again shortly."""
    policy = ctx.config.merge
    pr = settled(ctx.forge, number)
    if pr.merged:
        after_merge(ctx, pr.head_ref)  # a merge whose answer was lost, or a concurrent job's
        return "merged already"
    if pr.state != "open" or pr.head_sha != head_sha:
        return "stale: the PR changed"
    checks = ctx.forge.check_state(head_sha)
    if checks.state == "failure":
        return "checks failed"
    if checks.state == "pending":
        return None  # a later check's completion may have been folded into this job (same job id)
    if conflicting(pr):
        ctx.executor.submit(JobRequest.make("resolve_conflict", repo=ctx.repo, pr=pr.number,
                                            base_sha=ctx.forge.branch_sha(pr.base_ref),
                                            installation_id=ctx.installation_id))
        return "conflicts: resolve_conflict enqueued"
    if pr.mergeable is not True:
        return None
    if policy.required_approvals and ctx.forge.approvals(pr.number) < policy.required_approvals:
        return f"waiting for {policy.required_approvals} approval(s)"
    if not ctx.forge.merge_pr(pr.number, policy.method, sha=head_sha):
        return None
    after_merge(ctx, pr.head_ref)
    return "merged"


def after_merge(ctx: WorkerContext, head_ref: str) -> None:
    """Delete the branch (if configured) and make sure the task is closed."""
    if ctx.config.merge.delete_branch:
        ctx.forge.delete_branch(head_ref)
    task = task_number_from_branch(head_ref)
    if task is not None and ctx.forge.get_issue(task).state != "closed":
        ctx.forge.update_issue(task, state="closed", state_reason="completed")
