"""The worker's commands: `/orchestra fix <instructions>` on a PR and `/orchestra retry` on a task or a PR.

Composed with the planner's verbs in `bot/jobs.py`.
"""

from __future__ import annotations

from bot.forge.types import PullRequest
from bot.ledger import attempts as attempts_mod
from bot.ledger import labels
from bot.ledger.labels import State, state_from_labels
from bot.ledger.taskbody import branch_name, task_number_from_branch
from bot.queue.kinds import JobRequest
from bot.steering import CommandContext, VerbHandler
from bot.worker.pulls import conflicting, settled
from bot.worker.review import fix_review_id


def _pull(ctx: CommandContext) -> PullRequest | None:
    issue = ctx.forge.get_issue(ctx.number)
    return ctx.forge.get_pr(ctx.number) if issue.is_pull else None


def fix(ctx: CommandContext) -> str | None:
    """Ask the PR's worker to change the PR as the comment says."""
    pr = _pull(ctx)
    if pr is None or task_number_from_branch(pr.head_ref) is None:
        return "`/orchestra fix` works on an orchestra pull request (a branch `orchestra/<n>-…`)."
    if pr.state != "open":
        return f"PR #{pr.number} is not open."
    if not ctx.text.strip():
        return "Tell me what to change: `/orchestra fix <instructions>`."
    ctx.executor.submit(JobRequest.make("address_review", repo=ctx.forge.repo_full_name, pr=pr.number,
                                        review_id=fix_review_id(ctx.comment_id), installation_id=ctx.installation_id))
    return f"On it: I will change PR #{pr.number} as you asked and reply here."


def retry(ctx: CommandContext) -> str | None:
    """A task: implement again. A PR: reset its attempt counters and take the step it needs next."""
    pr = _pull(ctx)
    if pr is not None:
        return _retry_pr(ctx, pr)
    issue = ctx.forge.get_issue(ctx.number)
    if issue.state == "closed":
        return f"#{ctx.number} is closed; reopen it first."
    existing = ctx.forge.find_pr(branch_name(ctx.number, issue.title))
    if existing is not None:
        return _retry_pr(ctx, existing)
    labels.set_state(ctx.forge, ctx.number, State.READY, ctx.config)
    ctx.executor.submit(JobRequest.make("implement", repo=ctx.forge.repo_full_name, number=ctx.number,
                                        installation_id=ctx.installation_id))
    return f"Retrying task #{ctx.number}: a worker will pick it up."


def _retry_pr(ctx: CommandContext, pr: PullRequest) -> str:
    task = task_number_from_branch(pr.head_ref)
    if task is None or pr.state != "open":
        return f"PR #{pr.number} is not an open orchestra pull request."
    counters = attempts_mod.read(pr.body).model_copy(update={"ci_fix": 0, "ci_fix_shas": [], "conflict": 0,
                                                            "conflict_bases": []})
    attempts_mod.save(ctx.forge, pr.number, counters)
    ctx.forge.remove_label(pr.number, ctx.config.label(State.NEEDS_HUMAN.value))
    current = ctx.forge.get_issue(task).labels
    if state_from_labels(ctx.config.label_prefix, current) in (State.NEEDS_HUMAN, None):
        labels.set_state(ctx.forge, task, State.REVIEW, ctx.config)
    repo, inst = ctx.forge.repo_full_name, ctx.installation_id
    checks = ctx.forge.check_state(pr.head_sha)
    if checks.state == "failure":
        job = JobRequest.make("fix_ci", repo=repo, pr=pr.number, branch=pr.head_ref, head_sha=pr.head_sha, installation_id=inst)
        what = "fix CI"
    elif conflicting(settled(ctx.forge, pr.number)):
        job = JobRequest.make("resolve_conflict", repo=repo, pr=pr.number, base_sha=ctx.forge.branch_sha(pr.base_ref),
                              installation_id=inst)
        what = "resolve the conflict"
    else:
        job = JobRequest.make("maybe_merge", repo=repo, pr=pr.number, branch=pr.head_ref, head_sha=pr.head_sha,
                              installation_id=inst)
        what = "merge when the policy allows"
    ctx.executor.submit(job)
    return f"Attempt counters of PR #{pr.number} reset; a worker will {what}."


#: This area's verbs (composed with the other areas' in `bot/jobs.py`).
HANDLERS: dict[str, VerbHandler] = {
    "fix": fix,
    "retry": retry,
}
