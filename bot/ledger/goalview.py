"""A goal as one job reads it from the ledger, once: the issue, its comments, the planner's record, its tasks.

The planner's jobs read a `GoalView`, decide from it, write, and read it again only after they
wrote (`read_goal`), instead of asking the forge piece by piece as each step needs it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.forge.client import Forge
from bot.forge.types import Comment, Issue
from bot.ledger.goaltree import GoalTask, find_tasks
from bot.ledger.record import PlannerRecord, load_record, pending_replans, unprocessed_handoffs
from bot.repoconfig import RepoConfig


@dataclass(frozen=True)
class GoalView:
    """One goal at one moment."""

    goal: Issue
    comments: list[Comment]
    record: PlannerRecord
    tasks: list[GoalTask]

    @property
    def number(self) -> int:
        return self.goal.number

    def with_record(self, record: PlannerRecord) -> GoalView:
        return GoalView(self.goal, self.comments, record, self.tasks)


def read_goal(
    forge: Forge, config: RepoConfig, number: int, *, thorough: bool = False, record: PlannerRecord | None = None
) -> GoalView:
    """Read goal `number` (`thorough`: also find tasks never linked to it). `record`: the job's own
    record when it has one that is newer than the forge's (it writes the record last)."""
    goal = forge.get_issue(number)
    listing = forge.list_comments(number)
    own = record if record is not None else load_record(forge, number, listing)
    return GoalView(goal, listing, own, find_tasks(forge, config, number, thorough=thorough, goal_issue=goal))


def pending_work(forge: Forge, config: RepoConfig, view: GoalView) -> tuple[list[dict], list[tuple[int, int, str]]]:
    """What waits to be folded into the plan: re-plan requests and handoffs (none before the first plan)."""
    if view.record.version == 0:
        return [], []
    return pending_replans(forge, view.comments), unprocessed_handoffs(forge, config, view.tasks, view.record)
