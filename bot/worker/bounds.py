"""What bounds the work on one PR: the ceiling of all its work, timed agent runs, the queue's mark.

Attempts that failed are bounded by `max_ci_fix_attempts` / `max_conflict_attempts` (see
`bot/ledger/attempts.py`: races are given back); the total work — tokens, money and agent time
summed in the PR's attempts marker — is bounded by `budgets.pr` in `.github/orchestra.yml`, which
stops any loop, races included.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from bot.agent import AgentResult
from bot.errors import BudgetExceeded
from bot.forge.types import PullRequest, PullSummary
from bot.git import Worktree
from bot.ledger import attempts as attempts_mod
from bot.ledger.labels import QUEUED
from bot.settings import Role
from bot.worker.session import WorkerContext, run_role


def check_ceiling(ctx: WorkerContext, pr_number: int, counters: attempts_mod.Attempts) -> None:
    """BudgetExceeded when the PR's total work has reached `budgets.pr`."""
    ceiling = ctx.config.budgets.pr
    reason = attempts_mod.over_ceiling(counters, ceiling.tokens, ceiling.usd, ceiling.agent_hours)
    if reason is not None:
        raise BudgetExceeded(f"PR #{pr_number} reached the ceiling of all its work (`budgets.pr`): {reason}.")


def timed_run(
    ctx: WorkerContext, role: Role, variables: Mapping[str, Any], worktree: Worktree, label: str
) -> tuple[AgentResult, float]:
    """One agent run of `role` and the seconds it took (agent time counts towards `budgets.pr`)."""
    started = time.monotonic()
    result = run_role(ctx, role, variables, worktree, label=label)
    return result, time.monotonic() - started


def queued_label(ctx: WorkerContext) -> str:
    return ctx.config.label(QUEUED)


def unqueue(ctx: WorkerContext, pr: PullRequest | PullSummary) -> None:
    """Take the queue's mark off a PR that went back to its worker (no call when it has none)."""
    if queued_label(ctx) in pr.labels:
        ctx.forge.remove_label(pr.number, queued_label(ctx))
