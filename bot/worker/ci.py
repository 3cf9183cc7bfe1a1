"""Fix a failing CI on an orchestra PR: the ci_fix agent gets the failing checks' output, commits, pushes.

Bounded on the forge: at most `max_ci_fix_attempts` per PR and one per head commit (both in the
PR's attempts marker, so they hold after Redis is lost). Past the bound the task needs a human,
and the comment lists what was tried.
"""

from __future__ import annotations

from bot.errors import AgentFailed, CIAttemptsExhausted
from bot.forge.types import CheckFailure, PullRequest
from bot.git import REMOTE_PREFIX
from bot.ledger import attempts as attempts_mod
from bot.ledger import comments, labels
from bot.ledger.labels import State
from bot.ledger.taskbody import task_number_from_branch
from bot.settings import Role
from bot.worker import publish
from bot.worker.implement import agent_error
from bot.worker.session import Task, WorkerContext, load_task, run_role, task_prompt_context

#: Characters of one check's output given to the agent (the tail, where failures are).
CHECK_OUTPUT_CHARS = 8000


def check_output(failure: CheckFailure) -> str:
    """What a failing check said: title, summary, details, annotations and log tail, capped."""
    parts = [failure.title, failure.summary, failure.text]
    if failure.annotations:
        parts.append("Annotations:\n" + "\n".join(failure.annotations))
    if failure.log_tail:
        parts.append("Log tail:\n" + failure.log_tail)
    text = "\n\n".join(p.strip() for p in parts if p and p.strip()) or f"(the check concluded {failure.conclusion} without output)"
    return text if len(text) <= CHECK_OUTPUT_CHARS else "…" + text[-CHECK_OUTPUT_CHARS:]


def pr_task(ctx: WorkerContext, pr: PullRequest) -> Task:
    """The task an orchestra PR works on (from its branch name)."""
    number = task_number_from_branch(pr.head_ref)
    if number is None:
        raise AgentFailed(f"PR #{pr.number} is not on an orchestra branch")
    return load_task(ctx.forge, number)


def find_pr(ctx: WorkerContext, pr: int | None, branch: str | None) -> PullRequest | None:
    if pr is not None:
        return ctx.forge.get_pr(pr)
    return ctx.forge.find_pr(branch) if branch else None


def fix_ci(ctx: WorkerContext, pr_number: int | None, branch: str | None, head_sha: str,
           instructions: str = "") -> str:
    """The fix_ci job's core; returns what it did in a few words."""
    pr = find_pr(ctx, pr_number, branch)
    if pr is None or pr.state != "open":
        return "no open PR"
    if pr.head_sha != head_sha:
        return "stale: the head moved"
    counters = attempts_mod.read(pr.body)
    if head_sha in counters.ci_fix_shas:
        return "already tried on this head"
    checks = ctx.forge.check_state(head_sha)
    if checks.state != "failure":
        return f"checks are {checks.state}"
    limit = ctx.config.max_ci_fix_attempts
    if counters.ci_fix >= limit:
        tried = ", ".join(f"`{sha[:8]}`" for sha in counters.ci_fix_shas) or "none"
        names = ", ".join(f.name for f in checks.failures)
        raise CIAttemptsExhausted(f"{counters.ci_fix} of {limit} fix attempts were made (on heads {tried}); "
                                  f"still failing: {names}. Each attempt's comment above says what it changed.")
    task = pr_task(ctx, pr)
    attempt = counters.ci_fix + 1
    counters = counters.model_copy(update={"ci_fix": attempt, "ci_fix_shas": [*counters.ci_fix_shas, head_sha]})
    attempts_mod.save(ctx.forge, pr.number, counters)  # counted before the run: a crash still spends it
    labels.set_state(ctx.forge, task.number, State.WORKING, ctx.config)
    variables = {**task_prompt_context(ctx, task), "pr_number": pr.number, "attempt": attempt, "max_attempts": limit,
                 "failures": [{"name": f.name, "output": check_output(f)} for f in checks.failures],
                 "instructions": instructions}
    ctx.mirror.fetch()
    with ctx.mirror.worktree(REMOTE_PREFIX + pr.head_ref) as worktree:
        result = run_role(ctx, Role.CI_FIX, variables, worktree, label=f"ci-fix-{task.number}-{attempt}")
        counters = counters.add_usage(Role.CI_FIX.value, result.usage)
        attempts_mod.save(ctx.forge, pr.number, counters)
        if not result.ok:
            raise agent_error(result, f"the CI fix of PR #{pr.number} did not finish")
        if worktree.commit_all(f"Fix CI: {task.title} (#{task.number})") is None:
            raise AgentFailed(f"the CI fix of PR #{pr.number} changed no file: {result.report.summary}")
        sha = publish.push(ctx, worktree, pr.head_ref)
    labels.set_state(ctx.forge, task.number, State.REVIEW, ctx.config)
    comments.upsert(ctx.forge, pr.number, f"ci-fix-{attempt}",
                             f"**CI fix attempt {attempt} of {limit}** (pushed `{sha[:8]}`)\n\n{result.report.markdown()}")
    return f"pushed fix attempt {attempt}"
