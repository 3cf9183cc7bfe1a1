"""What a goal looks like on the forge right now: its tasks by state, their PRs, attempts, tokens and cost.

The forge is the source of truth: task states are the task issues' labels, merged PRs are the
PRs' state, conflicts resolved and CI fixes are the counters the worker keeps in each PR
body's `orchestra:attempts` marker, and tokens/cost are that marker's per-role usage plus the
planner's own usage in the goal's status comment (`orchestra:planner` marker).

A look costs two conditional requests through the forge client's verbs (so retried, paced and
answered 304 — free — when nothing changed): one list of every issue and one of every PR. The
planners' status comments (their token use) are read again only when one of the lists changed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bot.forge.client import Forge
from bot.forge.types import Issue, PullSummary
from bot.ledger import attempts
from bot.ledger.labels import State, state_from_labels
from bot.ledger.record import load_record
from bot.ledger.taskbody import parse_task_body, task_number_from_branch
from bot.llm.types import Usage
from bot.repoconfig import RepoConfig

#: How a task's state is shown once its issue is closed.
DONE, CLOSED = "done", "closed"


@dataclass(frozen=True)
class TaskRow:
    """One task (or sub-goal) of the goal."""

    number: int
    key: str
    title: str
    state: str  # a State value, or "done" (closed as completed) / "closed" (not planned)
    pr: int | None = None
    pr_state: str | None = None  # open | merged | closed
    ci_fixes: int = 0
    conflicts: int = 0
    depends_on: tuple[int, ...] = ()


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
    #: The goal's sub-goals (their own tasks are in `tasks`).
    subgoals: tuple[TaskRow, ...] = ()
    #: Calls of models the price table does not know (not in `cost_usd`), and their tokens.
    unpriced_calls: int = 0
    unpriced_tokens: int = 0

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

    def needs_human(self) -> list[TaskRow]:
        return [task for task in self.open_tasks if task.state == State.NEEDS_HUMAN.value]

    def row(self, number: int) -> TaskRow | None:
        """The task or sub-goal `number`, if it is one of this goal's."""
        return next((t for t in (*self.tasks, *self.subgoals) if t.number == number), None)


def read_attempts(body: str | None) -> tuple[int, int, int, float]:
    """(CI fixes, conflicts resolved, tokens, cost) from a PR body's `orchestra:attempts` marker."""
    found = attempts.read(body)
    return found.ci_fix, found.conflict, found.total_tokens, found.total_usd


def read_unpriced(body: str | None) -> tuple[int, int]:
    """(unpriced calls, their tokens) from a PR body's `orchestra:attempts` marker."""
    total = attempts.read(body).total
    return total.unpriced_calls, total.unpriced_tokens


def _goal_numbers(issues: list[Issue], goal: int) -> set[int]:
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


def _state(issue: Issue, prefix: str) -> str:
    if issue.state == "closed":
        return DONE if issue.state_reason in (None, "completed") else CLOSED
    state = state_from_labels(prefix, issue.labels)
    return state.value if state is not None else State.WAITING.value


@dataclass
class Watcher:
    """Looks at one goal again and again, paying for what changed only."""

    forge: Forge
    config: RepoConfig
    goal: int
    _lists: tuple[list[Issue], list[PullSummary]] | None = None
    _usage: dict[int, Usage] = field(default_factory=dict)

    def take(self, fresh_usage: bool = False) -> Snapshot:
        """The goal now (`fresh_usage`: read the planners' token use even when nothing else changed)."""
        issues = self.forge.list_issues(state="all")
        pulls = self.forge.list_prs(state="all")
        changed = self._lists != (issues, pulls)
        self._lists = (issues, pulls)
        by_number = {issue.number: issue for issue in issues}
        goal = by_number.get(self.goal) or self.forge.get_issue(self.goal)
        goals = _goal_numbers(issues, self.goal)
        if changed or fresh_usage or set(self._usage) != goals:
            self._usage = {number: _planner_usage(self.forge, number) for number in goals}
        return _snapshot(self.config, goal, issues, pulls, goals, self._usage)


def _snapshot(
    config: RepoConfig,
    goal: Issue,
    issues: list[Issue],
    pulls: list[PullSummary],
    goals: set[int],
    usage: dict[int, Usage],
) -> Snapshot:
    by_task: dict[int, PullSummary] = {}
    for listed in pulls:
        number = task_number_from_branch(listed.head_ref)
        if number is not None and (number not in by_task or listed.state == "open"):
            by_task[number] = listed
    rows, subgoals, tokens, cost = [], [], 0, 0.0
    unpriced = sum((u for u in usage.values()), Usage())
    for issue in sorted(issues, key=lambda i: i.number):
        spec = parse_task_body(issue.body)
        if spec is None or spec.goal not in goals:
            continue
        pull = by_task.get(issue.number)
        fixes, conflicts, used, spent = read_attempts(pull.body if pull is not None else None)
        pr_state = None if pull is None else ("merged" if pull.merged else pull.state)
        row = TaskRow(
            issue.number,
            spec.key,
            issue.title,
            _state(issue, config.label_prefix),
            pull.number if pull is not None else None,
            pr_state,
            fixes,
            conflicts,
            tuple(spec.depends_on),
        )
        if spec.kind == "subgoal":
            subgoals.append(row)
            continue
        tokens, cost = tokens + used, cost + spent
        calls, uncounted = read_unpriced(pull.body if pull is not None else None)
        unpriced = unpriced + Usage(unpriced_calls=calls, unpriced_tokens=uncounted)
        rows.append(row)
    tokens += sum(u.total_tokens for u in usage.values())
    cost += sum(u.cost_usd for u in usage.values())
    return Snapshot(
        goal.number,
        goal.title,
        goal.state,
        tuple(goal.labels),
        tuple(rows),
        tokens,
        round(cost, 6),
        tuple(subgoals),
        unpriced.unpriced_calls,
        unpriced.unpriced_tokens,
    )


def take_snapshot(forge: Forge, config: RepoConfig, goal: int) -> Snapshot:
    """Read the goal, its tasks (sub-goals' tasks included), their PRs and the usage records, once."""
    return Watcher(forge, config, goal).take()


def _planner_usage(forge: Forge, goal: int) -> Usage:
    return load_record(forge, goal).usage
