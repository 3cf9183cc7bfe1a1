"""The planner's job entry points: build the collaborators from the process runtime, call the core.

Typed errors end in a comment on the goal (bot/failures.py); anything else fails the job loudly.
"""

from __future__ import annotations

from bot import runtime
from bot.errors import ConfigError
from bot.ledger.failures import failures_reported
from bot.planner.continuous import dispatch_only, handle_handoffs, task_closed
from bot.planner.core import Planner
from bot.planner.planning import plan_goal as plan_goal_core
from bot.settings import Budget, Role


def _planner(repo: str, installation_id: int | None) -> Planner:
    rt = runtime.current()
    forge = rt.forge(repo, installation_id)
    config = rt.repo_config(forge)
    budget = rt.settings.task_budget
    steps = Budget(max_steps=config.agent.max_steps, max_tokens=budget.max_tokens, max_usd=budget.max_usd,
                   max_wall_s=budget.max_wall_s)
    return Planner(forge=forge, config=config, executor=rt.executor, model=lambda: rt.model(Role.PLANNER, config),
                   state_dir=rt.state_dir, budget=steps, installation_id=installation_id)


def _run(repo: str, number: int, installation_id: int | None, core: str) -> None:
    rt = runtime.current()
    try:
        planner = _planner(repo, installation_id)
    except ConfigError as error:
        with failures_reported(rt.forge(repo, installation_id), number, None):
            raise error
        return
    step = {"plan": plan_goal_core, "handoff": handle_handoffs, "closed": task_closed, "dispatch": dispatch_only}[core]
    with failures_reported(planner.forge, number, planner.config):
        step(planner, number)


def plan_goal(repo: str, number: int, installation_id: int | None = None) -> None:
    """Plan goal `number` (once), apply pending re-plan requests, dispatch ready tasks."""
    _run(repo, number, installation_id, "plan")


def dispatch_ready(repo: str, number: int, installation_id: int | None = None) -> None:
    """Enqueue goal `number`'s ready tasks and rewrite its status."""
    _run(repo, number, installation_id, "dispatch")


def on_task_closed(repo: str, number: int, installation_id: int | None = None) -> None:
    """Task `number` closed (or its PR merged): wake its dependants, complete the goal when all are closed."""
    _run(repo, number, installation_id, "closed")


def handoff(repo: str, number: int, installation_id: int | None = None) -> None:
    """Fold every unprocessed handoff of goal `number` into the plan."""
    _run(repo, number, installation_id, "handoff")
