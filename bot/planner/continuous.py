"""Continuous planning: handoffs wake the goal's planner; closed tasks wake dispatch and completion.

The `handoff` job has one id per goal, so while one is queued further handoffs fold into it:
the job reads every handoff comment not yet recorded as processed (the planner record), hands
them all to one planning run, and records their ids. A handoff that arrives while the job
runs is taken by a further round of the same job. The planner may add follow-up tasks, close
obsolete ones as not planned (with a comment), or declare the goal done; the job then
dispatches, rewrites the status, and completes the goal when nothing is left open.
"""

from __future__ import annotations

from bot.forge.types import Issue
from bot.ledger.goaltree import find_tasks
from bot.ledger.labels import Kind, label_name
from bot.ledger.record import load_record
from bot.ledger.taskbody import parse_task_body
from bot.planner.core import Planner, ask_planner, record_usage, refresh, unprocessed_handoffs
from bot.planner.dispatch import DispatchResult
from bot.planner.planning import Changes, apply_plan

MAX_ROUNDS = 3


def goal_of(planner: Planner, number: int) -> Issue | None:
    """The goal an issue belongs to: itself when it is a goal (or sub-goal) or no task, else its task's goal."""
    issue = planner.forge.get_issue(number)
    spec = parse_task_body(issue.body)
    if spec is None or label_name(planner.config.label_prefix, Kind.GOAL) in issue.labels:
        return issue
    return planner.forge.get_issue(spec.goal)


def handle_handoffs(planner: Planner, number: int) -> Changes | None:
    """The handoff job for goal `number` (a task's number is taken to mean its goal)."""
    goal = goal_of(planner, number)
    if goal is None or goal.state == "closed":
        return None
    record = load_record(planner.forge, goal.number)
    tasks = find_tasks(planner.forge, planner.config, goal.number)
    changes = None
    for _ in range(MAX_ROUNDS):
        pending = unprocessed_handoffs(planner, tasks, record)
        if not pending or record.version == 0:
            break
        reports = [f"From task #{task}:\n{text}" for task, _cid, text in pending]
        outcome = ask_planner(planner, goal, tasks, first=False, handoffs=reports)
        record = record_usage(record, outcome).model_copy(update={
            "version": record.version + (1 if outcome.plan.tasks or outcome.plan.obsolete else 0),
            "handoffs_done": sorted(set(record.handoffs_done) | {cid for _t, cid, _x in pending}),
        })
        changes = apply_plan(planner, goal, record, tasks, outcome.plan)
        tasks = find_tasks(planner.forge, planner.config, goal.number)
    note = f"After {len(record.handoffs_done)} handoff(s): {changes.describe()}." if changes else ""
    refresh(planner, goal, record, tasks, note=note)
    return changes


def task_closed(planner: Planner, number: int) -> int | None:
    """The `on_task_closed` job: a task (or sub-goal) closed or its PR merged; wake its goal.

    The goal's work (handoffs, dispatch, completion) is done by its one `handoff` job, never by
    two jobs at once: run side by side, each could leave completing the goal to the other (one
    still sees the task open, the other an unprocessed handoff). Returns the goal woken.
    """
    issue = planner.forge.get_issue(number)
    spec = parse_task_body(issue.body)
    if spec is None:
        return None
    goal = planner.forge.get_issue(spec.goal)
    if goal.state == "closed":
        return None
    planner.submit("handoff", goal.number)
    return goal.number


def dispatch_only(planner: Planner, number: int) -> DispatchResult | None:
    """The `dispatch` job: re-evaluate the goal's ready tasks and its status."""
    goal = goal_of(planner, number)
    if goal is None or goal.state == "closed":
        return None
    record = load_record(planner.forge, goal.number)
    return refresh(planner, goal, record, find_tasks(planner.forge, planner.config, goal.number))
