"""The plan job's core: plan a goal once, apply `/orchestra replan` requests, then dispatch.

A goal is planned once: the plan is written into the planner record (in the status comment)
before any task is created, so a job killed half way publishes the same plan on its next run,
and a plan job on a goal that is already planned asks no model and creates nothing. Changes
after that come from re-plan requests (this module) and handoffs (bot/planner/continuous.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.forge.types import Issue
from bot.ledger import comments, labels, markers
from bot.ledger.goaltree import GoalTask, find_tasks, goal_position
from bot.ledger.labels import Kind, State, label_name, state_from_labels
from bot.ledger.record import (
    REPLAN_MARKER,
    PlannerRecord,
    load_record,
    now_iso,
    pending_replans,
    replan_request_body,
)
from bot.planner.core import Planner, ask_planner, plan_dump, record_usage, refresh, save_status
from bot.planner.plan import Plan
from bot.planner.publish import close_obsolete, close_open, publish_tasks

#: Rounds of a plan job: requests that arrive while it runs are taken in the next round.
MAX_ROUNDS = 3


@dataclass
class Changes:
    """What applying a plan changed on the forge."""

    created: list[GoalTask] = field(default_factory=list)
    closed: list[GoalTask] = field(default_factory=list)
    done: bool = False

    def describe(self) -> str:
        parts = []
        if self.created:
            parts.append("added " + ", ".join(f"#{t.number} {t.issue.title}" for t in self.created))
        if self.closed:
            parts.append("closed as not planned " + ", ".join(f"#{t.number}" for t in self.closed))
        if self.done:
            parts.append("declared the goal done")
        return "; ".join(parts) or "no change to the tasks"


def apply_plan(planner: Planner, goal: Issue, record: PlannerRecord, tasks: list[GoalTask], plan: Plan) -> Changes:
    """Close the obsolete tasks, create the new ones (idempotently), keep the design decisions."""
    _parent, depth = goal_position(goal)
    changes = Changes(closed=close_obsolete(planner.forge, tasks, plan.obsolete), done=plan.done)
    if plan.done:
        waiting = [t for t in tasks if t.open and t.state(planner.config) in (None, State.WAITING, State.READY)]
        changes.closed += close_open(planner.forge, waiting, "the planner declared the goal done")
    changes.created = publish_tasks(planner.forge, planner.config, goal, plan, record.version, tasks, depth)
    for note in plan.notes:
        if note not in record.notes:
            record.notes.append(note)
    return changes


def plan_goal(planner: Planner, number: int) -> Changes | None:
    """The plan job: first plan (or finish publishing it), then any re-plan requests, then dispatch."""
    goal = planner.forge.get_issue(number)
    if goal.state == "closed" or goal.is_pull or label_name(planner.config.label_prefix, Kind.GOAL) not in goal.labels:
        return None  # the web process routes any `<prefix>:goal`; only this repository's own prefix counts
    listing = planner.forge.list_comments(number)
    record = load_record(planner.forge, number, listing)
    tasks = find_tasks(planner.forge, planner.config, number, thorough=True)
    changes = None
    if record.version == 0 and record.pending is None and tasks:
        record.version = max(t.spec.plan_version for t in tasks)  # the record was lost; the tasks remain
    if record.version == 0 and record.pending is None:
        outcome = ask_planner(planner, goal, tasks, first=True)
        record = record_usage(record, outcome).model_copy(
            update={"version": 1, "pending": plan_dump(outcome.plan), "started_at": record.started_at or now_iso()})
        save_status(planner, goal, record, tasks, note="Publishing the plan…")
    if record.pending is not None:
        changes = apply_plan(planner, goal, record, tasks, Plan.model_validate(record.pending))
        record.pending = None
        tasks = find_tasks(planner.forge, planner.config, number)
        if label_name(planner.config.label_prefix, State.NEEDS_HUMAN) in goal.labels:
            planner.forge.remove_label(number, label_name(planner.config.label_prefix, State.NEEDS_HUMAN))
    for _ in range(MAX_ROUNDS):
        requests = pending_replans(planner.forge, listing)
        if not requests:
            break
        record, tasks, changes = replan(planner, goal, record, tasks, requests)
        listing = planner.forge.list_comments(number)
    _mark_subgoal_working(planner, goal)
    refresh(planner, goal, record, tasks, listing)
    return changes


def replan(planner: Planner, goal: Issue, record: PlannerRecord, tasks: list[GoalTask],
           requests: list[dict]) -> tuple[PlannerRecord, list[GoalTask], Changes]:
    """Fold every pending request into one revision; edit each request comment with what changed."""
    guidance = "\n\n".join(str(r.get("text", "")) for r in requests).strip()
    outcome = ask_planner(planner, goal, tasks, first=False, guidance=guidance)
    record = record_usage(record, outcome).model_copy(update={"version": record.version + 1})
    changes = apply_plan(planner, goal, record, tasks, outcome.plan)
    tasks = find_tasks(planner.forge, planner.config, goal.number)
    summary = f"Plan version {record.version}: {changes.describe()}."
    for request in requests:
        comment_id = int(request["comment"])
        body = replan_request_body(str(request.get("sender", "")), str(request.get("text", "")), comment_id, summary)
        comments.upsert(planner.forge, goal.number, f"{REPLAN_MARKER}-{comment_id}", body)
    save_status(planner, goal, record, tasks, note=f"Re-planned: {changes.describe()}.")
    return record, tasks, changes


def request_replan(planner: Planner, number: int, sender: str, text: str, comment_id: int) -> None:
    """Record a re-plan request on the goal (a bot comment) and enqueue the plan job that applies it."""
    body = replan_request_body(sender, text, comment_id)
    existing = planner.forge.list_comments(number)
    tag = f"{REPLAN_MARKER}-{comment_id}"
    if not any(comments.is_bot(planner.forge, c) and markers.has_tag(c.body, tag) for c in existing):
        comments.upsert(planner.forge, number, tag, body)
    planner.submit("plan", number)


def _mark_subgoal_working(planner: Planner, goal: Issue) -> None:
    """A planned sub-goal is `working` in its parent's eyes until its own tasks are done."""
    parent, _depth = goal_position(goal)
    current = state_from_labels(planner.config.label_prefix, goal.labels)
    if parent is not None and current in (None, State.WAITING, State.READY):
        labels.set_state(planner.forge, goal.number, State.WORKING, planner.config)


def open_goal(planner: Planner, number: int) -> tuple[Issue, PlannerRecord, list[GoalTask]]:
    """The goal, its record and its tasks."""
    goal = planner.forge.get_issue(number)
    return goal, load_record(planner.forge, number), find_tasks(planner.forge, planner.config, number)
