"""Implement a task: claim it, run the worker-role agent in a worktree, verify, commit — then publish.

`implement` produces the result (agent report, verification, commit) and touches nothing on the
forge; `run_task` wraps it with the claim and `bot.worker.publish` (push, PR, handoff), so a dry
run is `implement` alone. Re-running is safe: an existing branch is the starting point, an
existing PR is updated, and a task already in review with its PR open is left alone.
"""

from __future__ import annotations

from bot.agent import AgentResult
from bot.errors import AgentFailed, BudgetExceeded, ModelError, OrchestraError, VerificationFailed
from bot.forge.types import PullRequest
from bot.git import REMOTE_PREFIX, Worktree
from bot.ledger.claims import Claimant, claim
from bot.ledger.labels import State, state_from_labels
from bot.llm.types import Usage
from bot.settings import Role
from bot.worker import publish
from bot.worker.session import (
    START,
    ImplementResult,
    Task,
    WorkerContext,
    load_task,
    run_role,
    task_prompt_context,
    verify,
)

#: Agent runs per job: the first, and one more told why the verification failed.
MAX_ROUNDS = 2
#: States in which an implement job does nothing (someone paused it, or its dependencies are open).
IDLE_STATES = frozenset({State.PAUSED, State.WAITING})


def agent_error(result: AgentResult, what: str) -> OrchestraError:
    """The typed error for an agent run that did not finish."""
    concerns = "; ".join(result.report.concerns) or result.report.summary
    detail = f"{what}: {result.reason}. {concerns}".strip()
    if result.status == "budget_exhausted":
        return BudgetExceeded(detail)
    if result.status == "model_error":
        return ModelError(detail)
    return AgentFailed(detail)


def implement(ctx: WorkerContext, task: Task, worktree: Worktree) -> ImplementResult:
    """Run the agent until its work passes verification (at most MAX_ROUNDS runs), then commit."""
    variables = {
        **task_prompt_context(ctx, task),
        "owned_paths": task.spec.owned_paths,
        "test_command": ctx.config.test_command,
    }
    message, usage = START, Usage()
    for _round in range(MAX_ROUNDS):
        result = run_role(ctx, Role.WORKER, variables, worktree, message, label=f"implement-{task.number}")
        usage = usage + result.usage
        if not result.ok:
            raise agent_error(result, f"the agent did not finish task #{task.number}")
        verification = verify(ctx, worktree, task.acceptance)
        if verification.ok:
            break
        message = (
            f"{START}\n\nAn earlier run on this checkout ended, but the verification failed; its "
            f"changes are still here. The output:\n```\n{verification.tail}\n```\nFix the cause."
        )
    else:
        raise VerificationFailed(
            f"after {MAX_ROUNDS} agent runs the commands still fail:\n\n```\n{verification.tail}\n```"
        )
    commit = worktree.commit_all(f"{task.title} (#{task.number})")
    return ImplementResult(agent=result, verification=verification, commit=commit, usage=usage)


def run_task(ctx: WorkerContext, number: int, claimant: Claimant) -> PullRequest | None:
    """The implement job's core: claim, implement on the task's branch, publish. None when there was nothing to do."""
    task = load_task(ctx.forge, number)
    state = state_from_labels(ctx.config.label_prefix, task.issue.labels)
    if task.issue.state == "closed" or state in IDLE_STATES:
        return None
    existing = ctx.forge.find_pr(task.branch)
    if existing is not None and state == State.REVIEW:
        return existing  # done before (a redelivered or reconciled job): nothing twice
    claim(ctx.forge, ctx.config, number, claimant)
    ctx.mirror.fetch()
    on_forge = ctx.mirror.sha(task.branch)
    start = REMOTE_PREFIX + (task.branch if on_forge else ctx.forge.default_branch())
    with ctx.mirror.worktree(start) as worktree:
        result = implement(ctx, task, worktree)
        if result.commit is None and on_forge is None:
            raise AgentFailed(
                f"the agent finished task #{number} without changing any file: {result.agent.report.summary}"
            )
        return publish.publish_implementation(ctx, task, result, worktree)
