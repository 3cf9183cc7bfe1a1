"""Make an orchestra PR land when the repository's policy says so (`merge.policy: auto`; `review` leaves it to people).

A PR is ready when the checks its base requires are green on its head (every check, when branch
protection and rulesets name none), it merges, and it has the approvals the config asks for. Then,
by the repository's rules and `merge.queue`:

- GitHub's merge queue is required on the base (a ruleset): the PR is enqueued there (GraphQL);
- `batch` / `serial`: the PR joins the orchestra's queue (the `queued` mark) and the repository's
  landing job tests it together with what lands before it (`bot/worker/landing.py`);
- `off`: the PR is merged now, with `merge.method`.

A landed PR's branch is deleted (when configured) and its task closed (the forge's closing keyword
usually has done it already). A PR that no longer merges gets a conflict job.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

from bot import steering
from bot.forge.types import BranchRules, PullRequest, PullSummary
from bot.ledger.taskbody import task_number_from_branch
from bot.queue.kinds import JobRequest
from bot.worker.bounds import queued_label
from bot.worker.ci import find_pr
from bot.worker.pulls import conflicting, settled
from bot.worker.session import WorkerContext

#: Pauses between attempts while checks run, mergeability is unknown, or the base moved under a merge.
MERGE_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)
sleep = time.sleep
#: In-process executors (`submit_later`): looks already taken per maybe_merge job id, so the retries
#: stay bounded by MERGE_RETRY_DELAYS when each is a new run of the job instead of a sleep.
_LOOKS: Counter[str] = Counter()
_LOOKS_LOCK = threading.Lock()
#: What lands a ready PR: an outcome in a few words, or None to look again shortly.
Act = Callable[[WorkerContext, PullRequest, BranchRules], "str | None"]


def maybe_merge(ctx: WorkerContext, pr_number: int | None, branch: str | None, head_sha: str) -> str:
    """The maybe_merge job's core; returns what it did in a few words."""
    pr = find_pr(ctx, pr_number, branch)
    if pr is not None and pr.merged and pr.head_sha == head_sha:
        after_merge(ctx, pr)  # landed by a queue (GitHub's), or a merge whose answer was lost
        return "merged already"
    if pr is None or pr.state != "open":
        return "no open PR"
    if pr.head_sha != head_sha:
        return "stale: the head moved"
    if ctx.config.merge.policy != "auto":
        return "merge policy is review: left to people"
    rules = ctx.forge.branch_rules(pr.base_ref)
    act: Act = enqueue_on_forge if rules.merge_queue else merge_now if ctx.config.merge.queue == "off" else join_queue
    later = getattr(ctx.executor, "submit_later", None)
    if later is not None:  # in-process: look once, and look again from a timer, not holding a worker in a sleep
        outcome = _attempt(ctx, pr.number, head_sha, rules, act)
        job = JobRequest.make(
            "maybe_merge",
            repo=ctx.repo,
            pr=pr.number,
            branch=pr.head_ref,
            head_sha=head_sha,
            installation_id=ctx.installation_id,
        )
        with _LOOKS_LOCK:
            looks = _LOOKS.pop(job.job_id, 0) if outcome is not None else _LOOKS[job.job_id]
            if outcome is None and looks < len(MERGE_RETRY_DELAYS):
                _LOOKS[job.job_id] = looks + 1
        if outcome is not None:
            return outcome
        if looks < len(MERGE_RETRY_DELAYS):
            later(job, MERGE_RETRY_DELAYS[looks])
            return f"not ready yet: looking again in {MERGE_RETRY_DELAYS[looks]:g}s"
        with _LOOKS_LOCK:
            _LOOKS.pop(job.job_id, None)
        return "not merged yet: checks pending, mergeability unknown or the forge refused (the next event tries again)"
    for delay in MERGE_RETRY_DELAYS:
        outcome = _attempt(ctx, pr.number, head_sha, rules, act)
        if outcome is not None:
            return outcome
        sleep(delay)  # checks still running, mergeability unknown, or the base moved under a concurrent merge
    return "not merged yet: checks pending, mergeability unknown or the forge refused (the next event tries again)"


def _attempt(ctx: WorkerContext, number: int, head_sha: str, rules: BranchRules, act: Act) -> str | None:
    """One look: the outcome, or None when it is worth looking again shortly.

    The orchestra's queue merges in its own worktree and sends a PR that conflicts with the tip to its
    conflict job, so joining it needs no mergeability from the forge: no polling while it computes."""
    queued = act is join_queue
    pr = ctx.forge.get_pr(number) if queued else settled(ctx.forge, number)
    if pr.merged:
        after_merge(ctx, pr)  # a merge whose answer was lost, or a concurrent job's
        return "merged already"
    if pr.state != "open" or pr.head_sha != head_sha:
        return "stale: the PR changed"
    checks = ctx.forge.check_state(head_sha, rules.required)
    if checks.state == "failure":
        return "checks failed"
    if checks.state == "pending":
        return None  # a later check's completion may have been folded into this job (same job id)
    if conflicting(pr):
        ctx.executor.submit(
            JobRequest.make(
                "resolve_conflict",
                repo=ctx.repo,
                pr=pr.number,
                base_sha=ctx.forge.branch_sha(pr.base_ref),
                installation_id=ctx.installation_id,
            )
        )
        return "conflicts: resolve_conflict enqueued"
    if pr.mergeable is not True and not queued:
        return None
    required = ctx.config.merge.required_approvals
    if required and steering.approvals(ctx.forge, ctx.config, pr.number) < required:
        return f"waiting for {required} approval(s)"
    return act(ctx, pr, rules)


def merge_now(ctx: WorkerContext, pr: PullRequest, rules: BranchRules) -> str | None:
    """`merge.queue: off`: merge with `merge.method` (None when the forge refused; look again)."""
    if not ctx.forge.merge_pr(pr.number, ctx.config.merge.method, sha=pr.head_sha):
        return None
    after_merge(ctx, pr)
    return "merged"


def join_queue(ctx: WorkerContext, pr: PullRequest, rules: BranchRules) -> str:
    """`batch` / `serial`: mark the PR queued and wake the repository's landing job."""
    if queued_label(ctx) not in pr.labels:
        ctx.forge.add_labels(pr.number, queued_label(ctx))
    ctx.executor.submit(JobRequest.make("land", repo=ctx.repo, installation_id=ctx.installation_id))
    return "queued: the landing job tests it with what lands before it"


def enqueue_on_forge(ctx: WorkerContext, pr: PullRequest, rules: BranchRules) -> str | None:
    """GitHub's merge queue is required on the base: enqueue the PR there (None when refused; look again)."""
    if not ctx.forge.enqueue_pr(pr.node_id, pr.head_sha):
        return None
    if queued_label(ctx) not in pr.labels:
        ctx.forge.add_labels(pr.number, queued_label(ctx))
    return "queued in the forge's merge queue"


def after_merge(ctx: WorkerContext, pr: PullRequest | PullSummary) -> None:
    """Delete the branch (if configured), take the queue's mark off, and make sure the task is closed."""
    if ctx.config.merge.delete_branch:
        ctx.forge.delete_branch(pr.head_ref)
    if queued_label(ctx) in pr.labels:
        ctx.forge.remove_label(pr.number, queued_label(ctx))
    task = task_number_from_branch(pr.head_ref)
    if task is not None and ctx.forge.get_issue(task).state != "closed":
        ctx.forge.update_issue(task, state="closed", state_reason="completed")
