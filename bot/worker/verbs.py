"""The worker's commands: `/orchestra fix <instructions>` on a PR and `/orchestra retry` on a goal, a task or a PR.

`retry` on a goal retries what needs a person under it: each open task (in its sub-goals too)
labelled `needs-human`, or left `working` with a failure comment and no PR, is retried as on the
task itself; a goal (or sub-goal) labelled `needs-human` is planned again. `bot/steering.py` has
already checked what the command was given. Composed with the planner's verbs in `bot/jobs.py`.
"""

from __future__ import annotations

from bot.forge.types import PullRequest
from bot.ledger import attempts as attempts_mod
from bot.ledger import labels
from bot.ledger.failures import unresolved_failures
from bot.ledger.goaltree import GoalTask, find_tasks
from bot.ledger.labels import State, label_name, state_from_labels
from bot.ledger.taskbody import branch_name, task_number_from_branch
from bot.queue.kinds import JobRequest
from bot.steering import CommandContext, Target, VerbHandler
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
    ctx.executor.submit(
        JobRequest.make(
            "address_review",
            repo=ctx.forge.repo_full_name,
            pr=pr.number,
            review_id=fix_review_id(ctx.comment_id),
            installation_id=ctx.installation_id,
        )
    )
    return f"On it: I will change PR #{pr.number} as you asked and reply here."


def retry(ctx: CommandContext) -> str | None:
    """A goal: retry what needs a person under it. A task: implement again. A PR: reset its attempt
    counters and take the step it needs next."""
    if ctx.target == Target.GOAL:
        return _retry_goal(ctx)
    pr = _pull(ctx)
    if pr is not None:
        return _retry_pr(ctx, pr)
    issue = ctx.forge.get_issue(ctx.number)
    if issue.state == "closed":
        return f"#{ctx.number} is closed; reopen it first."
    return _retry_task(ctx, ctx.number, issue.title)


def _retry_task(ctx: CommandContext, number: int, title: str) -> str:
    existing = ctx.forge.find_pr(branch_name(number, title))
    if existing is not None:
        return _retry_pr(ctx, existing)
    labels.set_state(ctx.forge, number, State.READY, ctx.config)
    ctx.executor.submit(
        JobRequest.make("implement", repo=ctx.forge.repo_full_name, number=number, installation_id=ctx.installation_id)
    )
    return f"Retrying task #{number}: a worker will pick it up."


def _retry_goal(ctx: CommandContext) -> str:
    """Retry each stuck task of the goal and its sub-goals, and plan again a goal that needs a person."""
    done = _retry_tree(ctx, ctx.number, depth=0)
    if not done:
        return (
            f"Nothing to retry under goal #{ctx.number}: no task needs a person, and none was left working "
            "after a failure. `/orchestra status` shows where each task is."
        )
    return "Retrying:\n" + "\n".join(f"- {line}" for line in done)


def _retry_tree(ctx: CommandContext, goal: int, depth: int) -> list[str]:
    needs_human = label_name(ctx.config.label_prefix, State.NEEDS_HUMAN)
    done: list[str] = []
    if needs_human in ctx.forge.get_issue(goal).labels:
        ctx.forge.remove_label(goal, needs_human)
        for kind in ("plan", "dispatch"):
            ctx.executor.submit(
                JobRequest.make(kind, repo=ctx.forge.repo_full_name, number=goal, installation_id=ctx.installation_id)
            )
        done.append(f"#{goal}: planning again")
    for task in find_tasks(ctx.forge, ctx.config, goal):
        if not task.open:
            continue
        if task.subgoal:
            if depth < ctx.config.planner.max_depth:
                done += _retry_tree(ctx, task.number, depth + 1)
        elif _stuck(ctx, task):
            done.append(f"#{task.number}: {_retry_task(ctx, task.number, task.issue.title)}")
    return done


def _stuck(ctx: CommandContext, task: GoalTask) -> bool:
    """Needs a person, or was left working by a failed job (a failure comment, no PR)."""
    state = task.state(ctx.config)
    if state == State.NEEDS_HUMAN:
        return True
    if state != State.WORKING or ctx.forge.find_pr(branch_name(task.number, task.issue.title)) is not None:
        return False
    return bool(unresolved_failures(ctx.forge, task.number))


def _retry_pr(ctx: CommandContext, pr: PullRequest) -> str:
    task = task_number_from_branch(pr.head_ref)
    if task is None or pr.state != "open":
        return f"PR #{pr.number} is not an open orchestra pull request."
    counters = attempts_mod.read(pr.body).model_copy(
        update={"ci_fix": 0, "ci_fix_shas": [], "conflict": 0, "conflict_bases": []}
    )
    attempts_mod.save(ctx.forge, pr.number, counters)
    ctx.forge.remove_label(pr.number, ctx.config.label(State.NEEDS_HUMAN.value))
    current = ctx.forge.get_issue(task).labels
    if state_from_labels(ctx.config.label_prefix, current) in (State.NEEDS_HUMAN, None):
        labels.set_state(ctx.forge, task, State.REVIEW, ctx.config)
    repo, inst = ctx.forge.repo_full_name, ctx.installation_id
    checks = ctx.forge.check_state(pr.head_sha, ctx.forge.branch_rules(pr.base_ref).required)
    if checks.state == "failure":
        job = JobRequest.make(
            "fix_ci", repo=repo, pr=pr.number, branch=pr.head_ref, head_sha=pr.head_sha, installation_id=inst
        )
        what = "fix CI"
    elif conflicting(settled(ctx.forge, pr.number)):
        job = JobRequest.make(
            "resolve_conflict",
            repo=repo,
            pr=pr.number,
            base_sha=ctx.forge.branch_sha(pr.base_ref),
            installation_id=inst,
        )
        what = "resolve the conflict"
    else:
        job = JobRequest.make(
            "maybe_merge", repo=repo, pr=pr.number, branch=pr.head_ref, head_sha=pr.head_sha, installation_id=inst
        )
        what = "merge when the policy allows"
    ctx.executor.submit(job)
    return f"Attempt counters of PR #{pr.number} reset; a worker will {what}."


#: This area's verbs (composed with the other areas' in `bot/jobs.py`).
HANDLERS: dict[str, VerbHandler] = {
    "fix": fix,
    "retry": retry,
}
