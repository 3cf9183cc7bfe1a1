"""The planning agent: one run over a fresh checkout, with read-only tools and a validated `submit_plan`.

`ask` prepares a run for a goal — a read-only checkout of the default branch, a repository map,
the notes file, the prompt overrides, the open tasks as the checks know them — and runs it. The
goal's title and body in the prompt are the approved ones (`bot/planner/approval.py`), never the
issue's current text: an edit by someone without write access does not reach the model.

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

from bot import repofiles
from bot.agent import Terminal, TerminalTool, Toolbox, finish_tool, run_agent
from bot.agent.files import ToolFailure
from bot.agent.result import Handoff
from bot.errors import PlanInvalid
from bot.forge.types import Issue
from bot.ledger.goaltree import GoalTask, goal_position
from bot.ledger.labels import State
from bot.ledger.record import PlannerRecord, now_iso
from bot.ledger.taskbody import parse_task_body
from bot.llm.types import ChatModel, ToolSpec, Usage
from bot.planner.approval import approved_goal
from bot.planner.context import Planner
from bot.planner.plan_schema import Existing, Plan, PlanError, Rules, parse_plan, plan_tool_schema
from bot.planner.repomap import build_repo_map
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

    def charged(self, record: PlannerRecord) -> PlannerRecord:
        """`record` with this run's token use added."""
        return record.model_copy(update={"usage": record.usage + self.usage})


def system_prompt(request: PlanRequest) -> str:
    """The planner's (or sub-planner's) system prompt for this request."""
    bounds = request.rules.bounds
    context: dict[str, Any] = {
        **policy_context(request.config, request.notes, repo=request.repo),
        "goal_number": request.goal.number,
        "goal_title": request.goal.title,
        "goal_body": request.goal.body,
        "guidance": request.guidance,
        "repo_map": request.repo_map,
        "open_tasks": request.open_tasks,
        "handoffs": request.handoffs,
        "min_tasks": bounds.min_tasks if request.rules.first else 0,
        "max_tasks": bounds.max_tasks,
        "depth": request.rules.depth,
        "max_depth": bounds.max_depth,
    }
    if request.parent is None:
        return render_prompt("planner", context, request.overrides)
    context |= {
        "parent_number": request.parent.number,
        "parent_title": request.parent.title,
        "owned_paths": request.owned_paths,
    }
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
    return TerminalTool(
        ToolSpec(name="submit_plan", description=SUBMIT_DESCRIPTION, parameters=plan_tool_schema()), submissions
    )


def run_planner(
    model: ChatModel, checkout: Path, request: PlanRequest, budget: Budget, transcript_path: Path | None = None
) -> PlanOutcome:
    """Run the planning agent; the validated plan, or PlanInvalid saying why there is none."""
    submissions = _Submissions(request.rules, request.config.planner.max_plan_attempts)
    toolbox = Toolbox(workdir=checkout, read_only=True, terminal_tools=[submit_plan_tool(submissions), finish_tool()])
    verb = "Plan" if request.rules.first else "Revise the plan of"
    task = (
        f"{verb} goal #{request.goal.number}: {request.goal.title}. Read what you need, then call "
        "`submit_plan` once with the whole plan."
    )
    result = run_agent(
        model,
        system=system_prompt(request),
        task=task,
        toolbox=toolbox,
        budget=budget,
        workdir=checkout,
        transcript_path=transcript_path,
    )
    if result.terminal_tool == "submit_plan" and result.status == "finished" and result.output is not None:
        return PlanOutcome(Plan.model_validate(result.output), result.usage, submissions.attempts)
    if result.terminal_tool == "submit_plan" or submissions.last_error:
        raise PlanInvalid(
            f"after {submissions.attempts} attempt(s) the last plan was still invalid:\n\n> {submissions.last_error}"
        )
    if result.terminal_tool == "finish":
        raise PlanInvalid(f"the planner reported the goal cannot be planned as written: {result.report.markdown()}")
    raise PlanInvalid(f"the planner stopped without a plan ({result.status}): {result.reason}")


# -- one planning run of a goal: checkout, repository map, notes, prompt, agent ------------
def existing_rules(planner: Planner, tasks: list[GoalTask], depth: int, first: bool) -> Rules:
    busy = (State.WORKING, State.REVIEW)
    existing = {
        t.key: Existing(
            t.key,
            t.open,
            tuple(t.spec.owned_paths),
            tuple(t.spec.depends_on_keys),
            t.open and t.state(planner.config) in busy,
        )
        for t in tasks
    }
    return Rules(bounds=planner.config.planner, depth=depth, first=first, existing=existing)


def task_lines(planner: Planner, tasks: list[GoalTask]) -> list[str]:
    """One line per task for the planner's prompt: key, number, title, state, paths, dependencies."""
    lines = []
    for task in tasks:
        state = task.state(planner.config)
        where = (
            (state.value if state else "open")
            if task.open
            else ("done" if task.issue.state_reason in (None, "completed") else "closed as not planned")
        )
        owns = f"; owns {', '.join(task.spec.owned_paths)}" if task.spec.owned_paths else ""
        deps = f"; after {', '.join(task.spec.depends_on_keys)}" if task.spec.depends_on_keys else ""
        lines.append(f"`{task.key}` #{task.number} {task.issue.title} ({task.spec.kind}: {where}{owns}{deps})")
    return lines


def ask(
    planner: Planner,
    goal: Issue,
    tasks: list[GoalTask],
    *,
    first: bool,
    guidance: str = "",
    handoffs: list[str] | None = None,
) -> PlanOutcome:
    """Check out the repo, map it, and run the planning agent for `goal` (its approved text)."""
    goal = approved_goal(planner, goal)
    parent_number, depth = goal_position(goal)
    parent = approved_goal(planner, planner.forge.get_issue(parent_number)) if parent_number is not None else None
    spec_paths = _own_paths(goal)  # a sub-goal's paths, from its task marker in the parent's plan
    with planner.worktree() as root:
        request = PlanRequest(
            repo=planner.repo,
            goal=goal,
            config=planner.config,
            rules=existing_rules(planner, tasks, depth, first),
            repo_map=build_repo_map(root, planner.config),
            notes=repofiles.read_notes(planner.forge, planner.config),
            guidance=guidance,
            open_tasks=task_lines(planner, tasks),
            handoffs=handoffs or [],
            parent=parent,
            owned_paths=spec_paths,
            overrides=repofiles.read_prompt_overrides(planner.forge),
        )
        transcripts = planner.state_dir / "transcripts"
        transcripts.mkdir(parents=True, exist_ok=True)
        name = f"plan-{planner.repo.replace('/', '_')}-{goal.number}-{now_iso().replace(':', '')}.jsonl"
        return run_planner(planner.model(), root, request, planner.budget, transcripts / name)


def _own_paths(goal: Issue) -> list[str]:
    """The paths a sub-goal owns (its task marker in the parent's plan); a person's goal owns none."""
    spec = parse_task_body(goal.body)
    return spec.owned_paths if spec else []
