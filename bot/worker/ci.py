"""Fix a failing CI on an orchestra PR: the ci_fix agent gets the failing checks' output, commits, pushes.

Two failures come here. `fix_ci`: the PR's own checks fail on its head. `fix_batch`: the PR's own
checks passed, but it failed when the merge queue tested it together with what landed before it (the
orchestra's queue batch, or a GitHub merge group): the default branch is merged into the PR branch
first, so its own CI then sees the combination, and the prompt carries the failing output and what
landed before it.

Only the checks the base requires gate (all of them when none is named). Bounded on the forge: at
most `max_ci_fix_attempts` failed fixes per PR, one per failing commit (both in the PR's attempts
marker, so they hold after Redis is lost); a fix whose pushed head passed, or whose batch failed only
because the default branch moved on, is given back. Past the bound the task needs a human, and the
comment lists what was tried.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.errors import AgentFailed, CIAttemptsExhausted
from bot.forge.types import CheckFailure, PullRequest
from bot.git import REMOTE_PREFIX, Worktree
from bot.ledger import attempts as attempts_mod
from bot.ledger import comments, labels
from bot.ledger.batches import without_trailers
from bot.ledger.labels import State
from bot.ledger.taskbody import task_number_from_branch
from bot.queue.kinds import JobRequest
from bot.settings import Role
from bot.worker import publish
from bot.worker.bounds import check_ceiling, timed_run, unqueue
from bot.worker.implement import agent_error
from bot.worker.session import Task, WorkerContext, load_task, task_prompt_context

#: Characters of one check's output given to the agent (the tail, where failures are).
CHECK_OUTPUT_CHARS = 8000
#: Landed changes described in a queue fix's prompt.
LANDED_LIMIT = 20


def check_output(failure: CheckFailure) -> str:
    """What a failing check said: title, summary, details, annotations and log tail, capped."""
    parts = [failure.title, failure.summary, failure.text]
    if failure.annotations:
        parts.append("Annotations:\n" + "\n".join(failure.annotations))
    if failure.log_tail:
        parts.append("Log tail (the failing step):\n" + failure.log_tail)
    text = (
        "\n\n".join(p.strip() for p in parts if p and p.strip())
        or f"(the check concluded {failure.conclusion} without output)"
    )
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


@dataclass(frozen=True)
class Failing:
    """What a fix is about: the failing commit, its failures, and (for a queue batch) what it was tested with."""

    tried: str
    failures: list[CheckFailure]
    base: str = ""
    landed: list[str] = field(default_factory=list)
    diffstat: str = ""


def fix_ci(ctx: WorkerContext, pr_number: int | None, branch: str | None, head_sha: str, instructions: str = "") -> str:
    """The fix_ci job's core; returns what it did in a few words."""
    pr = find_pr(ctx, pr_number, branch)
    if pr is None or pr.state != "open":
        return "no open PR"
    if pr.head_sha != head_sha:
        return "stale: the head moved"
    counters = attempts_mod.read(pr.body)
    if head_sha in counters.ci_fix_shas:
        return "already tried on this head"
    required = ctx.forge.branch_rules(pr.base_ref).required
    checks = ctx.forge.check_state(head_sha, required, logs=True)
    if checks.state != "failure":
        return f"checks are {checks.state}"
    task = pr_task(ctx, pr)
    counters = settle_open_fix(ctx, counters, head_sha, "", required)
    ctx.mirror.fetch()
    with ctx.mirror.worktree(REMOTE_PREFIX + pr.head_ref) as worktree:
        return _fix(ctx, pr, task, worktree, counters, Failing(head_sha, checks.failures), instructions)


def fix_batch(ctx: WorkerContext, pr_number: int, head_sha: str, batch_sha: str, base_sha: str) -> str:
    """The fix_batch job's core: the PR failed in a queue batch (or merge group) at `batch_sha` built on `base_sha`."""
    pr = ctx.forge.get_pr(pr_number)
    if pr.state != "open":
        return "PR is not open"
    if task_number_from_branch(pr.head_ref) is None:
        return "not an orchestra PR"
    if pr.head_sha != head_sha:
        return "stale: the head moved"
    counters = attempts_mod.read(pr.body)
    if batch_sha in counters.ci_fix_shas:
        return "already tried on this batch"
    required = ctx.forge.branch_rules(pr.base_ref).required
    checks = ctx.forge.check_state(batch_sha, required, logs=True)
    if checks.state != "failure":
        return f"the batch's checks are {checks.state}"
    task = pr_task(ctx, pr)
    ctx.mirror.fetch()
    tip = ctx.mirror.sha(pr.base_ref) or base_sha
    base = base_sha if base_sha and ctx.mirror.has(base_sha) else tip
    since = ctx.mirror.merge_base(head_sha, base) or base
    # `head..base`: what `base` has that the PR lacks, whatever the merge base (an empty one named nothing)
    landed = [without_trailers(text) for text in ctx.mirror.log_messages(head_sha, base, LANDED_LIMIT)]
    failing = Failing(batch_sha, checks.failures, base, landed, ctx.mirror.diffstat(since, base))
    counters = settle_open_fix(ctx, counters, head_sha, base, required)
    with ctx.mirror.worktree(head_sha) as worktree:
        if worktree.merge(REMOTE_PREFIX + pr.base_ref, f"Merge {pr.base_ref} into {pr.head_ref}"):
            worktree.abort_merge()  # a textual conflict first: the conflict job merges, then CI tells
            unqueue(ctx, pr)
            ctx.executor.submit(
                JobRequest.make(
                    "resolve_conflict", repo=ctx.repo, pr=pr.number, base_sha=tip, installation_id=ctx.installation_id
                )
            )
            return f"conflicts with {pr.base_ref}: resolve_conflict enqueued"
        return _fix(ctx, pr, task, worktree, counters, failing)


def settle_open_fix(
    ctx: WorkerContext, counters: attempts_mod.Attempts, head_sha: str, base: str, required: list[str]
) -> attempts_mod.Attempts:
    """Give back the previous fix's attempt when it worked (its pushed head passed its own checks and the
    PR moved on since) or was overtaken (the same head failed again in a batch on a newer default branch)."""
    opened = counters.ci_fix_open
    if opened is None:
        return counters
    if opened.pushed != head_sha:
        passed = ctx.forge.check_state(opened.pushed, required).state == "success"
        return counters.give_back_ci_fix() if passed else counters
    if base and opened.base and base != opened.base:
        return counters.give_back_ci_fix()
    return counters


def _fix(
    ctx: WorkerContext,
    pr: PullRequest,
    task: Task,
    worktree: Worktree,
    counters: attempts_mod.Attempts,
    failing: Failing,
    instructions: str = "",
) -> str:
    """Count the attempt, run the ci_fix agent in `worktree`, commit, push, report."""
    limit = ctx.config.max_ci_fix_attempts
    if counters.ci_fix_spent >= limit:
        tried = ", ".join(f"`{sha[:8]}`" for sha in counters.ci_fix_shas) or "none"
        names = ", ".join(f.name for f in failing.failures)
        raise CIAttemptsExhausted(
            f"{counters.ci_fix_spent} of {limit} fix attempts failed (on {tried}); "
            f"still failing: {names}. Each attempt's comment above says what it changed."
        )
    check_ceiling(ctx, pr.number, counters)
    counters = counters.start_ci_fix(failing.tried)
    attempt = counters.ci_fix
    attempts_mod.save(ctx.forge, pr.number, counters)  # counted before the run: a crash still spends it
    labels.set_state(ctx.forge, task.number, State.WORKING, ctx.config)
    unqueue(ctx, pr)
    result, seconds = timed_run(
        ctx,
        Role.CI_FIX,
        _variables(ctx, task, pr, failing, counters, instructions),
        worktree,
        label=f"ci-fix-{task.number}-{attempt}",
    )
    counters = counters.add_usage(Role.CI_FIX.value, result.usage, seconds)
    if not result.ok:
        attempts_mod.save(ctx.forge, pr.number, counters)
        raise agent_error(result, f"the CI fix of PR #{pr.number} did not finish")
    what = "Fix CI with what landed before it" if failing.base else "Fix CI"
    if worktree.commit_all(f"{what}: {task.title} (#{task.number})") is None and worktree.head() == pr.head_sha:
        attempts_mod.save(ctx.forge, pr.number, counters)
        raise AgentFailed(f"the CI fix of PR #{pr.number} changed no file: {result.report.summary}")
    sha = publish.push(ctx, worktree, pr.head_ref)
    attempts_mod.save(ctx.forge, pr.number, counters.ci_fix_pushed(failing.tried, sha, failing.base))
    labels.set_state(ctx.forge, task.number, State.REVIEW, ctx.config)
    where = f" (merged `{pr.base_ref}` first: the queue tested it with what landed before it)" if failing.base else ""
    comments.upsert(
        ctx.forge,
        pr.number,
        f"ci-fix-{attempt}",
        f"**CI fix attempt {attempt}** (pushed `{sha[:8]}`{where})\n\n{result.report.markdown()}",
    )
    return f"pushed fix attempt {attempt}"


def _variables(
    ctx: WorkerContext,
    task: Task,
    pr: PullRequest,
    failing: Failing,
    counters: attempts_mod.Attempts,
    instructions: str,
) -> dict[str, Any]:
    return {
        **task_prompt_context(ctx, task),
        "pr_number": pr.number,
        "attempt": counters.ci_fix_spent,
        "max_attempts": ctx.config.max_ci_fix_attempts,
        "failures": [{"name": f.name, "output": check_output(f)} for f in failing.failures],
        "instructions": instructions,
        "base_branch": pr.base_ref,
        "combined": bool(failing.base),
        "landed": failing.landed,
        "diffstat": failing.diffstat,
    }
