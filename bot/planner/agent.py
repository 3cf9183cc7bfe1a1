"""The planning agent: read-only tools over a checkout and a `submit_plan` tool whose plan is validated.

An invalid plan goes back to the model as the tool's result with the validation error; after
`planner.max_plan_attempts` invalid plans the run ends and `PlanInvalid` carries the last
error. A planner that calls `finish` with status `blocked` (the goal needs a person's
decision) also ends in `PlanInvalid`, quoting its reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.agent import Terminal, TerminalTool, Toolbox, finish_tool, run_agent
from bot.agent.files import ToolFailure
from bot.agent.result import Handoff
from bot.errors import PlanInvalid
from bot.forge.types import Issue
from bot.llm.types import ChatModel, ToolSpec, Usage
from bot.planner.plan import Plan, PlanError, Rules, parse_plan, plan_tool_schema
from bot.prompting import policy_context, render_prompt
from bot.repoconfig import RepoConfig
from bot.settings import Budget

SUBMIT_DESCRIPTION = (
    "Submit the plan. `tasks`: the tasks to create (on a first plan, the whole plan; later, only tasks to add, "
    "with new keys). `obsolete`: open tasks to close as not planned, with the reason. `notes`: design decisions "
    "every task must respect. `done`: true (with no tasks) when the goal is met. An invalid plan is returned "
    "with the reason; fix exactly that and submit again."
)


@dataclass
class PlanRequest:
    """Everything one planning run needs besides the model and the checkout."""

    repo: str
    goal: Issue
    config: RepoConfig
    rules: Rules
    repo_map: str
    notes: str = ""
    guidance: str = ""
    open_tasks: list[str] = field(default_factory=list)
    handoffs: list[str] = field(default_factory=list)
    parent: Issue | None = None
    owned_paths: list[str] = field(default_factory=list)
    overrides: Mapping[str, str] | None = None


@dataclass(frozen=True)
class PlanOutcome:
    plan: Plan
    usage: Usage
    attempts: int


def system_prompt(request: PlanRequest) -> str:
    """The planner's (or sub-planner's) system prompt for this request."""
    bounds = request.rules.bounds
    context: dict[str, Any] = {
        **policy_context(request.config, request.notes, repo=request.repo),
        "goal_number": request.goal.number, "goal_title": request.goal.title, "goal_body": request.goal.body,
        "guidance": request.guidance, "repo_map": request.repo_map, "open_tasks": request.open_tasks,
        "handoffs": request.handoffs, "min_tasks": bounds.min_tasks if request.rules.first else 0,
        "max_tasks": bounds.max_tasks, "depth": request.rules.depth, "max_depth": bounds.max_depth,
    }
    if request.parent is None:
        return render_prompt("planner", context, request.overrides)
    context |= {"parent_number": request.parent.number, "parent_title": request.parent.title,
                "owned_paths": request.owned_paths}
    return render_prompt("subplanner", context, request.overrides)


class _Submissions:
    """The `submit_plan` validator: counts attempts and ends the run at the bound."""

    def __init__(self, rules: Rules, max_attempts: int) -> None:
        self.rules, self.max_attempts = rules, max_attempts
        self.attempts = 0
        self.last_error = ""

    def __call__(self, arguments: dict[str, Any]) -> Terminal:
        self.attempts += 1
        try:
            plan = parse_plan(arguments, self.rules)
        except PlanError as exc:
            self.last_error = str(exc)
            if self.attempts >= self.max_attempts:
                return Terminal("blocked", Handoff(summary=self.last_error), {"invalid": self.last_error})
            left = self.max_attempts - self.attempts
            # A plain ToolFailure, not ToolRejected: this validator owns the bound, not the loop's.
            raise ToolFailure(f"plan rejected ({left} attempt{'s' if left != 1 else ''} left): {exc}") from exc
        return Terminal("finished", Handoff(summary=f"plan with {len(plan.tasks)} tasks"), plan.model_dump(mode="json"))


def submit_plan_tool(submissions: _Submissions) -> TerminalTool:
    return TerminalTool(ToolSpec(name="submit_plan", description=SUBMIT_DESCRIPTION, parameters=plan_tool_schema()),
                        submissions)


def run_planner(model: ChatModel, checkout: Path, request: PlanRequest, budget: Budget,
                transcript_path: Path | None = None) -> PlanOutcome:
    """Run the planning agent; the validated plan, or PlanInvalid saying why there is none."""
    submissions = _Submissions(request.rules, request.config.planner.max_plan_attempts)
    toolbox = Toolbox(workdir=checkout, read_only=True, terminal_tools=[submit_plan_tool(submissions), finish_tool()])
    verb = "Plan" if request.rules.first else "Revise the plan of"
    task = (f"{verb} goal #{request.goal.number}: {request.goal.title}. Read what you need, then call "
            "`submit_plan` once with the whole plan.")
    result = run_agent(model, system=system_prompt(request), task=task, toolbox=toolbox, budget=budget,
                       workdir=checkout, transcript_path=transcript_path)
    if result.terminal_tool == "submit_plan" and result.status == "finished" and result.output is not None:
        return PlanOutcome(Plan.model_validate(result.output), result.usage, submissions.attempts)
    if result.terminal_tool == "submit_plan" or submissions.last_error:
        raise PlanInvalid(f"after {submissions.attempts} attempt(s) the last plan was still invalid:\n\n"
                          f"> {submissions.last_error}")
    if result.terminal_tool == "finish":
        raise PlanInvalid(f"the planner reported the goal cannot be planned as written: {result.report.markdown()}")
    raise PlanInvalid(f"the planner stopped without a plan ({result.status}): {result.reason}")
