"""The planner's `/orchestra` verbs: plan, replan, approve, status, pause, resume, cancel.

`bot/steering.py` has already checked that the sender may steer and that the verb applies to what
it was given (`APPLIES`: a goal, a task, an orchestra PR, another issue); each handler returns the
one reply to post (or None when it posts its own). Work that needs the model runs in the `plan`
job, never in the command job: `replan` records the request on the goal and enqueues it. `plan`
approves the goal's current text (`bot/planner/approval.py`: the sender may steer); `replan` does
not (a re-plan for another reason must not take in an edit nobody looked at): planning keeps the
approved text, and the status comment says when the current text differs.
"""

from __future__ import annotations

from bot.ledger import labels
from bot.ledger.goaltree import find_tasks
from bot.ledger.goalview import read_goal
from bot.ledger.labels import Kind, State, label_name
from bot.ledger.record import load_record
from bot.planner import breaker
from bot.planner.approval import approve_current
from bot.planner.conclude import conclude, save_status
from bot.planner.context import Planner
from bot.planner.dispatch import implement_job
from bot.planner.goal_jobs import request_replan
from bot.planner.plan_gate import approve_plan
from bot.planner.publish import close_open
from bot.queue.kinds import JobRequest
from bot.steering import CommandContext, VerbHandler


def planner_for(ctx: CommandContext) -> Planner:
    """A Planner for command handlers: no model (they never plan themselves)."""

    def no_model() -> object:
        raise RuntimeError("command handlers do not call the planner model")

    return Planner(
        forge=ctx.forge,
        config=ctx.config,
        executor=ctx.executor,
        model=no_model,  # type: ignore[arg-type]
        state_dir=ctx.settings.state_dir,
        installation_id=ctx.installation_id,
    )


def plan(ctx: CommandContext) -> str | None:
    record = load_record(ctx.forge, ctx.number)
    planner = planner_for(ctx)
    fresh, problem = approve_current(planner, ctx.number, ctx.sender, ctx.comment_id)
    if problem is not None:
        return problem
    if record.version > 0 and record.pending is None:
        if fresh:
            return (
                "Approved the goal's current text: later planning reads it. The plan stays as it is; "
                "`/orchestra replan <what to change>` revises it now."
            )
        return (
            f"This goal already has a plan (version {record.version}); it stays as it is. "
            "`/orchestra replan <what to change>` revises it."
        )
    goal_label = label_name(ctx.config.label_prefix, Kind.GOAL)
    labels.ensure(ctx.forge, ctx.config)
    if goal_label not in ctx.forge.get_issue(ctx.number).labels:
        ctx.forge.add_labels(ctx.number, goal_label)
    planner.submit("plan", ctx.number)
    return "Planning this goal; the plan will appear in the status comment."


def replan(ctx: CommandContext) -> str | None:
    if not ctx.text.strip():
        return "Tell me what to change: `/orchestra replan <what to change>`."
    if load_record(ctx.forge, ctx.number).version == 0:
        return "This goal has no plan yet: `/orchestra plan` makes one (your guidance is kept below)."
    request_replan(planner_for(ctx), ctx.number, ctx.sender, ctx.text, ctx.comment_id)
    return None  # the request comment is the reply; the plan job edits it with what changed


def approve(ctx: CommandContext) -> str | None:
    return approve_plan(planner_for(ctx), ctx.number, ctx.sender)


def status(ctx: CommandContext) -> str | None:
    planner = planner_for(ctx)
    save_status(planner, read_goal(ctx.forge, ctx.config, ctx.number))
    return "The status comment above is up to date."


def pause(ctx: CommandContext) -> str | None:
    labels.ensure(ctx.forge, ctx.config)
    ctx.forge.add_labels(ctx.number, label_name(ctx.config.label_prefix, State.PAUSED))
    return "Paused: no new work starts here; work already running finishes. `/orchestra resume` continues."


def resume(ctx: CommandContext) -> str | None:
    lifted = breaker.resumed(ctx.forge, ctx.config, ctx.number, ctx.sender)
    ctx.forge.remove_label(ctx.number, label_name(ctx.config.label_prefix, State.PAUSED))
    planner_for(ctx).submit("dispatch", ctx.number)
    if lifted:
        return "Resumed past the spend cap: ready tasks are being dispatched again; the cap counts from here."
    return "Resumed: ready tasks are being dispatched again."


def cancel(ctx: CommandContext) -> str | None:
    planner = planner_for(ctx)
    labels.ensure(ctx.forge, ctx.config)
    ctx.forge.add_labels(ctx.number, label_name(ctx.config.label_prefix, State.PAUSED))
    closed = _cancel_tree(planner, ctx.number, depth=0)
    conclude(
        planner, read_goal(ctx.forge, ctx.config, ctx.number), note="Cancelled: open tasks were closed as not planned."
    )
    return (
        f"Cancelled: closed {len(closed)} open task(s) as not planned and dropped their queued jobs. "
        "The goal stays open and paused; `/orchestra replan` or `/orchestra resume` can pick it up again."
    )


def _cancel_tree(planner: Planner, goal: int, depth: int) -> list[int]:
    """Drop queued jobs and close open tasks of `goal` and its sub-goals as not planned."""
    tasks = find_tasks(planner.forge, planner.config, goal)
    for job in ("plan", "handoff", "dispatch"):
        planner.executor.cancel(JobRequest.make(job, repo=planner.repo, number=goal, installation_id=None).job_id)
    closed: list[int] = []
    for task in tasks:
        if task.subgoal and task.open and depth < planner.config.planner.max_depth:
            closed += _cancel_tree(planner, task.number, depth + 1)
        if not task.subgoal:
            planner.executor.cancel(implement_job(planner.repo, task.number, None).job_id)
    closed += [t.number for t in close_open(planner.forge, tasks, "the goal was cancelled with `/orchestra cancel`")]
    return closed


#: This area's verbs (composed with the other areas' in `bot/jobs.py`).
HANDLERS: dict[str, VerbHandler] = {
    "plan": plan,
    "replan": replan,
    "approve": approve,
    "status": status,
    "pause": pause,
    "resume": resume,
    "cancel": cancel,
}
