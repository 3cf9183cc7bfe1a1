"""A plan people approve (`planning.approval: required`): the plan comment, and `/orchestra approve`.

With approval required, the plan job asks the model for the goal's first plan and keeps it in the
planner's record (`pending`) as always, but publishes nothing: it posts the plan as one comment
(tasks, owned paths, dependencies, sizes and an estimate) and stops. No task issue exists, so
nothing can be dispatched. `/orchestra approve` by someone the `Gate` allows (the command job
checks the sender first; anyone else's approve changes nothing) records who approved which plan
version and enqueues the plan job, which then publishes the tasks and dispatches as usual.
Only a top-level goal's first plan waits; sub-goals and later revisions follow the approved plan.
"""

from __future__ import annotations

from collections import Counter

from bot.ledger import comments
from bot.ledger.goaltree import goal_position
from bot.ledger.goalview import GoalView, read_goal
from bot.ledger.record import PLAN_MARKER, PlanApproval, PlannerRecord, load_record, now_iso
from bot.planner.conclude import save_status
from bot.planner.context import Planner
from bot.planner.plan_schema import Plan, PlannedTask
from bot.planner.status import plain

PLAN_TAG = PLAN_MARKER
#: A rough size of each task in agent steps, to give the plan an estimate people can read.
STEPS = {"s": 10, "m": 25, "l": 50}
SIZE_NAMES = {"s": "small", "m": "medium", "l": "large"}


def is_top_level(view: GoalView) -> bool:
    parent, _depth = goal_position(view.goal)
    return parent is None


def render_plan(plan: Plan, version: int, *, approved_by: str | None = None) -> str:
    """The plan as a person reviews it: one line per task, its owned paths, dependencies and size."""
    lines = [f"### Plan to approve (version {version}): {len(plan.tasks)} task(s)", ""]
    for number, task in enumerate(plan.tasks, 1):
        lines.append(_line(number, task))
    sizes: Counter[str] = Counter(t.size for t in plan.tasks)
    steps = sum(STEPS[t.size] for t in plan.tasks)
    lines += [
        "",
        "**Estimate**: "
        + ", ".join(f"{sizes[s]} {SIZE_NAMES[s]}" for s in STEPS if sizes[s])
        + f"; about {steps} agent steps in all."
        if plan.tasks
        else "**Estimate**: nothing to do.",
    ]
    if plan.notes:
        lines += ["", "**Design decisions**", *(f"- {plain(n)}" for n in plan.notes)]
    if approved_by:
        lines += ["", f"Approved by @{approved_by}: the tasks are being filed."]
    else:
        lines += ["", "Nothing is filed or started until someone with write access comments `/orchestra approve`."]
    return "\n".join(lines)


def _line(number: int, task: PlannedTask) -> str:
    kind = "sub-goal " if task.kind == "subgoal" else ""
    paths = ", ".join(f"`{plain(p)}`" for p in task.owned_paths) or "no paths named"
    deps = f"; after {', '.join(f'`{d}`' for d in task.depends_on)}" if task.depends_on else ""
    return f"{number}. {kind}`{task.key}` {plain(task.title)} — owns {paths}{deps}; size {task.size}"


def hold(planner: Planner, view: GoalView, record: PlannerRecord) -> None:
    """Post the plan for approval and keep it in the record; nothing is published."""
    plan = Plan.model_validate(record.pending)
    comments.upsert(planner.forge, view.number, PLAN_TAG, render_plan(plan, record.version))
    save_status(
        planner,
        view.with_record(record),
        note="**Waiting for approval**: the plan is in the comment "
        "below; someone with write access comments `/orchestra approve` to start it.",
    )


def approve_plan(planner: Planner, number: int, sender: str) -> str:
    """`/orchestra approve` by someone who may steer: record the approval, enqueue the plan job that publishes."""
    record = load_record(planner.forge, number)
    view = read_goal(planner.forge, planner.config, number, record=record)
    if not record.awaits_approval(planner.config, is_top_level(view)):
        if record.pending is None and record.version == 0:
            return "There is no plan to approve yet; it appears here once the planner has made it."
        return "Nothing waits for approval here: the plan is already approved or published."
    approval = PlanApproval(version=record.version, by=sender, at=now_iso())
    record = record.model_copy(update={"plan_approval": approval})
    comments.upsert(
        planner.forge,
        number,
        PLAN_TAG,
        render_plan(Plan.model_validate(record.pending), record.version, approved_by=sender),
    )
    save_status(planner, view.with_record(record), note=f"Plan version {record.version} approved by @{sender}.")
    planner.submit("plan", number)
    return f"Approved plan version {record.version}: its tasks are being filed and started."
