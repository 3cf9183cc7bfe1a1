"""A goal and its tasks as read from the forge: the sub-issues carrying task markers, depth, pause.

Tasks are found by their hidden marker (`bot/tasks.py`): the goal's sub-issues, plus — when
`thorough` — every issue labelled as a task or goal whose marker names this goal, so a task
created just before a crash (and never linked) is found again instead of created twice.
A sub-goal carries a task marker (its key in the parent's plan) and a goal marker
(`{"parent": n, "depth": d}`) saying where it sits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.forge.client import Forge
from bot.forge.types import Issue
from bot.ledger import markers
from bot.ledger.labels import Kind, State, label_name, state_from_labels
from bot.ledger.taskbody import GOAL_MARKER, TaskSpec, parse_task_body
from bot.repoconfig import RepoConfig

#: The goal's bot-owned body section holding a task list when sub-issue links are unavailable.
TASKLIST_SECTION = "tasks"


@dataclass(frozen=True)
class GoalTask:
    """One task or sub-goal of a goal."""

    issue: Issue
    spec: TaskSpec

    @property
    def number(self) -> int:
        return self.issue.number

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def open(self) -> bool:
        return self.issue.state == "open"

    @property
    def subgoal(self) -> bool:
        return self.spec.kind == "subgoal"

    def state(self, config: RepoConfig) -> State | None:
        return state_from_labels(config.label_prefix, self.issue.labels)


def goal_position(goal: Issue) -> tuple[int | None, int]:
    """(parent goal number or None, depth) from the goal marker; a person's goal is (None, 0)."""
    data: Any = markers.read_data(goal.body, GOAL_MARKER)
    if not isinstance(data, dict):
        return None, 0
    parent = data.get("parent")
    depth = data.get("depth")
    return (parent if isinstance(parent, int) else None), (depth if isinstance(depth, int) and depth >= 0 else 0)


def find_tasks(
    forge: Forge, config: RepoConfig, goal: int, *, thorough: bool = False, goal_issue: Issue | None = None
) -> list[GoalTask]:
    """The goal's tasks and sub-goals (open and closed), ordered by number (`goal_issue`: already read)."""
    candidates: dict[int, Issue] = {issue.number: issue for issue in forge.list_sub_issues(goal)}
    goal_issue = goal_issue if goal_issue is not None and goal_issue.number == goal else forge.get_issue(goal)
    for number in _tasklist_numbers(goal_issue.body):
        if number not in candidates:
            candidates[number] = forge.get_issue(number)
    if thorough:
        for kind in (Kind.TASK, Kind.GOAL):
            for issue in forge.list_issues([label_name(config.label_prefix, kind)], state="all"):
                candidates.setdefault(issue.number, issue)
    found = []
    for issue in candidates.values():
        spec = parse_task_body(issue.body)
        if spec is not None and spec.goal == goal and not issue.is_pull:
            found.append(GoalTask(issue, spec))
    return sorted(found, key=lambda t: t.number)


def _tasklist_numbers(body: str) -> list[int]:
    section = markers.read_section(body, TASKLIST_SECTION) or ""
    numbers = []
    for line in section.splitlines():
        line = line.strip()
        if line.startswith("- [") and "#" in line:
            digits = line.split("#", 1)[1].split()[0].rstrip(".,:")
            if digits.isdigit():
                numbers.append(int(digits))
    return numbers


def is_paused(forge: Forge, config: RepoConfig, goal: Issue) -> bool:
    """True when the goal or any goal above it carries the paused label (or was closed)."""
    paused = label_name(config.label_prefix, State.PAUSED)
    current: Issue | None = goal
    for _ in range(config.planner.max_depth + 1):
        if current is None:
            return False
        if paused in current.labels or current.state == "closed":
            return True
        parent, _depth = goal_position(current)
        current = forge.get_issue(parent) if parent is not None else None
    return False
