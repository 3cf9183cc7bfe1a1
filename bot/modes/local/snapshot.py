"""What a goal looks like on the forge right now: its tasks by state, their PRs, attempts, tokens and cost.

The forge is the source of truth: task states are the task issues' labels, merged PRs are the
PRs' state, conflicts resolved and CI fixes are the counters the worker keeps in each PR
body's `orchestra:attempts` marker, and tokens/cost are that marker's per-role usage plus the
planner's own usage in the goal's status comment (`orchestra:planner` marker).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from bot.forge.client import Forge
from bot.ledger import attempts
from bot.ledger.labels import Kind, State, label_name, state_from_labels
from bot.ledger.record import load_record
from bot.ledger.taskbody import parse_task_body, task_number_from_branch
from bot.repoconfig import RepoConfig

#: How a task's state is shown once its issue is closed.
DONE, CLOSED = "done", "closed"
#: States in which something is still moving (a job, CI or a person's review).
MOVING = frozenset({State.READY.value, State.WORKING.value, State.REVIEW.value})


@dataclass(frozen=True)
class TaskRow:
    """One task of the goal."""

    number: int
    key: str
    title: str
    state: str  # a State value, or "done" (closed as completed) / "closed" (not planned)
    pr: int | None = None
    pr_state: str | None = None  # open | merged | closed
    ci_fixes: int = 0
    conflicts: int = 0


@dataclass(frozen=True)
class Snapshot:
    """The goal at one moment."""

    goal: int
    goal_title: str = ""
    goal_state: str = "open"
    goal_labels: tuple[str, ...] = ()
    tasks: tuple[TaskRow, ...] = ()
    tokens: int = 0
    cost_usd: float = 0.0

    @property
    def closed(self) -> bool:
        return self.goal_state == "closed"

    def by_state(self) -> dict[str, int]:
        return dict(Counter(task.state for task in self.tasks))

    @property
    def prs_merged(self) -> int:
        return sum(1 for task in self.tasks if task.pr_state == "merged")

    @property
    def prs_open(self) -> int:
        return sum(1 for task in self.tasks if task.pr_state == "open")

    @property
    def conflicts_resolved(self) -> int:
        return sum(task.conflicts for task in self.tasks)

    @property
    def ci_fixes(self) -> int:
        return sum(task.ci_fixes for task in self.tasks)

    @property
    def open_tasks(self) -> list[TaskRow]:
        return [task for task in self.tasks if task.state not in (DONE, CLOSED)]

    @property
    def moving(self) -> bool:
        """True while some open task is ready, being worked on or in review."""
        return any(task.state in MOVING for task in self.open_tasks)

    def needs_human(self) -> list[TaskRow]:
        return [task for task in self.open_tasks if task.state == State.NEEDS_HUMAN.value]


def read_attempts(body: str | None) -> tuple[int, int, int, float]:
    """(CI fixes, conflicts resolved, tokens, cost) from a PR body's `orchestra:attempts` marker."""
    found = attempts.read(body)
    return found.ci_fix, found.conflict, found.total_tokens, found.total_usd


def _goal_numbers(issues: list[Any], goal: int) -> set[int]:
    """The goal and its sub-goals (tasks of kind `subgoal`, at any depth)."""
    goals = {goal}
    changed = True
    while changed:
        changed = False
        for issue in issues:
            spec = parse_task_body(issue.body)
            if spec is not None and spec.kind == "subgoal" and spec.goal in goals and issue.number not in goals:
                goals.add(issue.number)
                changed = True
    return goals


def _state(issue: Any, prefix: str) -> str:
    if issue.state == "closed":
        return DONE if issue.state_reason in (None, "completed") else CLOSED
    state = state_from_labels(prefix, issue.labels)
    return state.value if state is not None else State.WAITING.value


def take_snapshot(forge: Forge, config: RepoConfig, goal: int) -> Snapshot:
    """Read the goal, its tasks (sub-goals' tasks included), their PRs and the usage records."""
    prefix = config.label_prefix
    goal_issue = forge.get_issue(goal)
    issues = forge.list_issues([label_name(prefix, Kind.TASK)], state="all")
    issues += [i for i in forge.list_issues([label_name(prefix, Kind.GOAL)], state="all") if i.number != goal]
    goals = _goal_numbers(issues, goal)
    pulls: dict[int, Any] = {}
    for found in forge.repo.get_pulls(state="all"):
        number = task_number_from_branch(found.head.ref)
        if number is not None and (number not in pulls or found.state == "open"):
            pulls[number] = found
    rows, tokens, cost = [], 0, 0.0
    for issue in sorted(issues, key=lambda i: i.number):
        spec = parse_task_body(issue.body)
        if spec is None or spec.goal not in goals or spec.kind == "subgoal" or issue.is_pull:
            continue
        pull = pulls.get(issue.number)
        fixes, conflicts, used, spent = read_attempts(pull.body if pull is not None else None)
        tokens, cost = tokens + used, cost + spent
        pr_state = None if pull is None else ("merged" if pull.merged_at is not None else pull.state)
        rows.append(TaskRow(issue.number, spec.key, issue.title, _state(issue, prefix),
                            pull.number if pull is not None else None, pr_state, fixes, conflicts))
    for number in goals:
        used, spent = _planner_usage(forge, number)
        tokens, cost = tokens + used, cost + spent
    return Snapshot(goal, goal_issue.title, goal_issue.state, tuple(goal_issue.labels), tuple(rows),
                    tokens, round(cost, 6))


def _planner_usage(forge: Forge, goal: int) -> tuple[int, float]:
    usage = load_record(forge, goal).usage
    return usage.total_tokens, usage.cost_usd
