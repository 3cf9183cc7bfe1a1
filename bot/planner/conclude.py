"""How every planner job ends: dispatch ready work, rewrite the goal's status, complete the goal.

`conclude` is the common tail of every job: update its tasks' waiting/ready labels, ask for the
repository's dispatch (`dispatch_repo`: one job per repository, which starts ready work of every
goal within the cap — bot/planner/dispatch.py), rewrite the status comment, and — once nothing
is left open and no handoff or re-plan request waits — close the goal with a summary (and wake
the parent goal of a sub-goal).
"""

from __future__ import annotations

from bot.ledger import comments
from bot.ledger.goaltree import goal_position, is_paused
from bot.ledger.goalview import GoalView, pending_work, read_goal
from bot.ledger.record import STATUS_MARKER, load_record, now_iso, utc_day
from bot.planner.context import Planner
from bot.planner.dispatch import DispatchResult, promote_goal
from bot.planner.status import done_facts, gather, render_status, render_summary, totals


def conclude(planner: Planner, view: GoalView, note: str = "") -> DispatchResult:
    """Promote, ask for the repository's dispatch, then complete the goal when nothing is left open,
    else rewrite its status."""
    result = promote_goal(planner.forge, planner.config, view.goal, view.tasks)
    # Always: even a paused or finished goal may have freed slots other goals are waiting for.
    planner.submit_repo("dispatch_repo")
    if result.relabelled:  # the status shows the labels as they are now
        view = read_goal(planner.forge, planner.config, view.number, record=view.record)
    nothing_open = view.record.version > 0 and not result.paused and not any(t.open for t in view.tasks)
    if nothing_open and pending_work(planner.forge, planner.config, view) == ([], []):
        complete(planner, view)
        return result
    save_status(planner, view, note)
    return result


def save_status(planner: Planner, view: GoalView, note: str = "") -> None:
    """Rewrite the status comment; the record is merged with what another job may have written meanwhile."""
    merged = load_record(planner.forge, view.number).merged_with(view.record)
    facts = gather(planner.forge, planner.config, view.tasks, merged.done)
    merged = merged.model_copy(
        update={"spend": merged.spend.counted(totals(merged, facts), utc_day()), "done": done_facts(facts)}
    )
    paused = is_paused(planner.forge, planner.config, view.goal) and view.goal.state == "open"
    comments.upsert(planner.forge, view.number, STATUS_MARKER, render_status(merged, facts, paused=paused, note=note))


def complete(planner: Planner, view: GoalView) -> None:
    """Post the summary, close the goal, and wake the parent goal of a sub-goal."""
    record = view.record.model_copy(update={"closed_at": view.record.closed_at or now_iso()})
    facts = gather(planner.forge, planner.config, view.tasks, record.done)
    record = record.model_copy(update={"done": done_facts(facts)})
    comments.upsert(planner.forge, view.number, "summary", render_summary(record, facts))
    comments.upsert(planner.forge, view.number, STATUS_MARKER, render_status(record, facts, paused=False))
    planner.forge.update_issue(view.number, state="closed", state_reason="completed")
    parent, _depth = goal_position(view.goal)
    if parent is not None:
        planner.submit("on_task_closed", view.number)
