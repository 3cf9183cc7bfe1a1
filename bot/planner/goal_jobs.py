"""The planner's job cores, one per event: a goal to plan, a re-plan request, handoffs, a task closed.

Each reads the goal from the ledger (issue, comments, the planner's record, its tasks), decides
(plan for the first time, fold re-plan requests or handoffs into the plan through the planning
agent), writes the plan (`publish`), then ends as every planner job ends (`conclude.refresh`:
dispatch, status, completion).

A goal is planned once: the plan is written into the planner record (in the status comment)
before any task is created, so a job killed half way publishes the same plan on its next run,
and a plan job on a goal that is already planned asks no model and creates nothing. Changes
after that come from re-plan requests and handoffs. The `handoff` job has one id per goal, so
handoffs that arrive while one is queued fold into it; one that arrives while it runs is taken
by a further round of the same job.
"""

from __future__ import annotations

from bot.agent.result import asks_planner
from bot.forge.types import Issue
from bot.ledger import comments, labels, markers
from bot.ledger.goaltree import goal_position
from bot.ledger.goalview import GoalView, pending_work, read_goal
from bot.ledger.labels import Kind, State, label_name, state_from_labels
from bot.ledger.record import REPLAN_MARKER, now_iso, replan_request_body
from bot.ledger.taskbody import parse_task_body
from bot.planner import plan_agent, plan_gate
from bot.planner.conclude import conclude, save_status
from bot.planner.context import Planner
from bot.planner.dispatch import DispatchResult
from bot.planner.plan_schema import Plan
from bot.planner.publish import Changes, apply_plan

#: Revisions per job: requests and handoffs that arrive while one is made are taken in the next.
MAX_ROUNDS = 3


# -- the jobs --------------------------------------------------------------------------------
def plan_goal(planner: Planner, number: int) -> Changes | None:
    """The plan job: plan the goal once (or finish publishing its plan), fold in what waits, conclude."""
    goal = planner.forge.get_issue(number)
    if goal.state == "closed" or goal.is_pull or label_name(planner.config.label_prefix, Kind.GOAL) not in goal.labels:
        return None  # the web process routes any `<prefix>:goal`; only this repository's own prefix counts
    view = read_goal(planner.forge, planner.config, number, thorough=True)
    view, changes = _first_plan(planner, view)
    if view.record.awaits_approval(planner.config, plan_gate.is_top_level(view)):
        plan_gate.hold(planner, view, view.record)  # `planning.approval: required`: nothing is filed yet
        return None
    return _revise_and_conclude(planner, view, changes)


def handle_handoffs(planner: Planner, number: int) -> Changes | None:
    """The handoff job for goal `number` (a task's number is taken to mean its goal): fold in, conclude."""
    goal = goal_of(planner, number)
    if goal is None or goal.state == "closed":
        return None
    return _revise_and_conclude(planner, read_goal(planner.forge, planner.config, goal.number), None)


def dispatch_only(planner: Planner, number: int) -> DispatchResult | None:
    """The `dispatch` job (a goal resumed): re-evaluate the goal's tasks, ask for the repository's
    dispatch, rewrite the goal's status."""
    goal = goal_of(planner, number)
    if goal is None or goal.state == "closed":
        return None
    return conclude(planner, read_goal(planner.forge, planner.config, goal.number))


def task_closed(planner: Planner, number: int) -> int | None:
    """The `on_task_closed` job: a task (or sub-goal) closed or its PR merged; wake its goal.

    A closed task keeps no state label (its issue's state says it is done; a label filter on
    `review` then shows only live work). Its slot is free: the repository's dispatch runs. The
    goal's work (handoffs, completion) is done by its one `handoff` job, never by two jobs at
    once: run side by side, each could leave completing the goal to the other (one still sees
    the task open, the other an unprocessed handoff). Returns the goal woken.
    """
    issue = planner.forge.get_issue(number)
    spec = parse_task_body(issue.body)
    if spec is None:
        return None
    if issue.state == "closed" and state_from_labels(planner.config.label_prefix, issue.labels) is not None:
        labels.clear_state(planner.forge, number, planner.config)
    planner.submit_repo("dispatch_repo")
    goal = planner.forge.get_issue(spec.goal) if spec.goal else None
    if goal is None or goal.state == "closed":
        return None
    planner.submit("handoff", goal.number)
    return goal.number


def request_replan(planner: Planner, number: int, sender: str, text: str, comment_id: int) -> None:
    """Record a re-plan request on the goal (a bot comment) and enqueue the plan job that applies it."""
    body = replan_request_body(sender, text, comment_id)
    existing = planner.forge.list_comments(number)
    tag = f"{REPLAN_MARKER}-{comment_id}"
    if not any(comments.is_bot(planner.forge, c) and markers.has_tag(c.body, tag) for c in existing):
        comments.upsert(planner.forge, number, tag, body)
    planner.submit("plan", number)


def goal_of(planner: Planner, number: int) -> Issue | None:
    """The goal an issue belongs to: itself when it is a goal (or sub-goal) or no task, else its task's goal."""
    issue = planner.forge.get_issue(number)
    spec = parse_task_body(issue.body)
    if spec is None or label_name(planner.config.label_prefix, Kind.GOAL) in issue.labels:
        return issue
    return planner.forge.get_issue(spec.goal)


# -- the decisions ---------------------------------------------------------------------------
def _first_plan(planner: Planner, view: GoalView) -> tuple[GoalView, Changes | None]:
    """Ask for the goal's first plan when it has none; publish a plan recorded but not yet published."""
    record = view.record
    if record.version == 0 and record.pending is None and view.tasks:
        record = record.model_copy(update={"version": max(t.spec.plan_version for t in view.tasks)})  # record lost
    if record.version == 0 and record.pending is None:
        outcome = plan_agent.ask(planner, view.goal, view.tasks, first=True)
        record = outcome.charged(record).model_copy(
            update={
                "version": 1,
                "pending": outcome.plan.model_dump(mode="json"),
                "started_at": record.started_at or now_iso(),
            }
        )
        save_status(planner, view.with_record(record), note="Publishing the plan…")
    if record.pending is None or record.awaits_approval(planner.config, plan_gate.is_top_level(view)):
        return view.with_record(record), None
    changes = apply_plan(planner, view.goal, record, view.tasks, Plan.model_validate(record.pending))
    record = record.model_copy(update={"pending": None})
    if label_name(planner.config.label_prefix, State.NEEDS_HUMAN) in view.goal.labels:
        planner.forge.remove_label(view.number, label_name(planner.config.label_prefix, State.NEEDS_HUMAN))
    return read_goal(planner.forge, planner.config, view.number, record=record), changes


def _revise_and_conclude(planner: Planner, view: GoalView, changes: Changes | None) -> Changes | None:
    """Fold re-plan requests and handoffs into the plan (bounded rounds), then conclude the job."""
    note = ""
    for _ in range(MAX_ROUNDS):
        requests, handoffs = pending_work(planner.forge, planner.config, view)
        view, handoffs = _record_plain(view, handoffs)
        if not requests and not handoffs:
            break
        view, changes, note = _revise(planner, view, requests, handoffs)
    _mark_subgoal_working(planner, view.goal)
    conclude(planner, view, note)
    return changes


def _record_plain(view: GoalView, handoffs: list[tuple[int, int, str]]) -> tuple[GoalView, list[tuple[int, int, str]]]:
    """Handoffs that only say the task was done as asked (no concerns, deviations, findings or feedback)
    are recorded as folded in without a planning pass; the others are returned for one. A goal of many
    tasks then costs a planner call per report that can change its plan, not per finished task."""
    plain = {cid for _task, cid, text in handoffs if not asks_planner(text)}
    if not plain:
        return view, handoffs
    done = sorted(set(view.record.handoffs_done) | plain)
    view = view.with_record(view.record.model_copy(update={"handoffs_done": done}))
    return view, [h for h in handoffs if h[1] not in plain]


def _revise(
    planner: Planner, view: GoalView, requests: list[dict], handoffs: list[tuple[int, int, str]]
) -> tuple[GoalView, Changes, str]:
    """One revision: every pending request and handoff in one planning run; each request comment is
    edited with what changed."""
    guidance = "\n\n".join(str(r.get("text", "")) for r in requests).strip()
    reports = [f"From task #{task}:\n{text}" for task, _cid, text in handoffs]
    outcome = plan_agent.ask(planner, view.goal, view.tasks, first=False, guidance=guidance, handoffs=reports)
    changed = bool(requests or outcome.plan.tasks or outcome.plan.obsolete)
    record = outcome.charged(view.record).model_copy(
        update={
            "version": view.record.version + (1 if changed else 0),
            "handoffs_done": sorted(set(view.record.handoffs_done) | {cid for _t, cid, _x in handoffs}),
        }
    )
    changes = apply_plan(planner, view.goal, record, view.tasks, outcome.plan)
    summary = f"Plan version {record.version}: {changes.describe()}."
    for request in requests:
        comment_id = int(request["comment"])
        body = replan_request_body(str(request.get("sender", "")), str(request.get("text", "")), comment_id, summary)
        comments.upsert(planner.forge, view.number, f"{REPLAN_MARKER}-{comment_id}", body)
    note = (
        f"Re-planned: {changes.describe()}."
        if requests
        else f"After {len(record.handoffs_done)} handoff(s): {changes.describe()}."
    )
    return read_goal(planner.forge, planner.config, view.number, record=record), changes, note


def _mark_subgoal_working(planner: Planner, goal: Issue) -> None:
    """A planned sub-goal is `working` in its parent's eyes until its own tasks are done."""
    parent, _depth = goal_position(goal)
    current = state_from_labels(planner.config.label_prefix, goal.labels)
    if parent is not None and current in (None, State.WAITING, State.READY):
        labels.set_state(planner.forge, goal.number, State.WORKING, planner.config)
