"""What a goal's run looked like on the forge, read in a few list calls: tasks, PRs, events, usage.

Everything comes from what the forge shows, as a person would read it: the issues (a task's
marker, state label, when it was filed and closed), the pull requests (when opened and merged,
the attempt counters and per-role usage the worker keeps in each body), the bot's comments
(the claim naming the worker, the handoff, each CI fix and conflict resolution, failures, the
planner's record with its own usage) and the check runs of the heads whose CI failed. That is
three paginated list calls (issues, pulls, every issue comment of the repository) plus one call
per CI fix, never a call per task per comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.forge.client import Forge
from bot.ledger import attempts, markers
from bot.ledger.attempts import RoleUsage
from bot.ledger.labels import state_from_labels
from bot.ledger.record import RECORD_MARKER, PlannerRecord
from bot.ledger.taskbody import TaskSpec, parse_task_body, task_number_from_branch
from bot.llm.types import Usage

#: What can happen to a task, in the order a legend lists them.
EVENT_KINDS = (
    "claimed",
    "pr_opened",
    "ci_failed",
    "ci_fixed",
    "conflict_resolved",
    "review_addressed",
    "failure",
    "merged",
    "closed",
)
_TAG = re.compile(r"^<!-- orchestra:([A-Za-z0-9][A-Za-z0-9._-]*)(?: |-->)")
_CLAIM = re.compile(r"Claimed by worker `([^`]+)` \(attempt (\d+)\)")
#: Marks in a comment's first line that are not its words.
_MARKUP = re.compile(r"<!--.*?-->|[*_`#>~]")


@dataclass(frozen=True)
class Event:
    """One moment of a task's life."""

    at: datetime
    kind: str
    task: int
    detail: str = ""
    pr: int | None = None


@dataclass
class TaskHistory:
    """One task (or sub-goal) of the goal or of a sub-goal."""

    number: int
    title: str
    key: str
    goal: int
    state: str
    created: datetime
    subgoal: bool = False
    depends_on: tuple[int, ...] = ()
    worker: str = ""
    attempt: int = 0
    pr: int | None = None
    pr_state: str = ""
    ci_fixes: int = 0
    conflicts: int = 0
    usage: dict[str, RoleUsage] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)

    def first(self, kind: str) -> datetime | None:
        return min((e.at for e in self.events if e.kind == kind), default=None)

    def last(self, kind: str) -> datetime | None:
        return max((e.at for e in self.events if e.kind == kind), default=None)


@dataclass(frozen=True)
class GoalHistory:
    """The goal or one of its sub-goals."""

    number: int
    title: str
    state: str
    created: datetime
    closed: datetime | None
    parent: int | None
    planner: Usage = field(default_factory=Usage)


@dataclass(frozen=True)
class PullHistory:
    """One of the goal's pull requests."""

    number: int
    task: int
    title: str
    state: str  # open | merged | closed
    opened: datetime
    merged: datetime | None


@dataclass
class RunHistory:
    """The goal's run: its goals (the goal first), tasks, PRs and every event, oldest first."""

    repo: str
    goals: list[GoalHistory]
    tasks: list[TaskHistory]
    pulls: list[PullHistory]
    requests: int = 0

    @property
    def goal(self) -> GoalHistory:
        return self.goals[0]

    @property
    def events(self) -> list[Event]:
        return sorted(
            (e for t in self.tasks for e in t.events), key=lambda e: (e.at, e.task, EVENT_KINDS.index(e.kind))
        )

    @property
    def start(self) -> datetime:
        return self.goal.created

    @property
    def end(self) -> datetime:
        times = [e.at for e in self.events] + [g.closed for g in self.goals if g.closed] + [self.start]
        times += [task.created for task in self.tasks]
        return max(times)


def when(text: str | None) -> datetime | None:
    """A forge timestamp (`2025-06-02T09:14:03Z`) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def headline(body: str, limit: int = 160) -> str:
    """A comment's first line of words, without markers and Markdown marks."""
    for line in body.splitlines():
        words = " ".join(_MARKUP.sub("", line).split())
        if words:
            return words if len(words) <= limit else words[: limit - 1] + "…"
    return ""


class _Reader:
    """Counts the pages it reads, so the report says what it cost."""

    def __init__(self, forge: Forge) -> None:
        self.forge = forge
        forge.gh.per_page = 100
        self.requests = 0

    def all(self, listing: Any) -> list[dict[str, Any]]:
        rows = []
        for index, item in enumerate(listing):
            if index % 100 == 0:
                self.requests += 1
            rows.append(item._rawData)  # as listed: `raw_data` would fetch each item again
        self.requests += not rows
        return rows

    def failed_runs(self, sha: str) -> list[dict[str, Any]]:
        runs = self.all(self.forge.repo.get_commit(sha).get_check_runs())
        return [run for run in runs if run.get("conclusion") in ("failure", "timed_out", "cancelled")]


def read_history(forge: Forge, prefix: str, goal: int, bot_login: str) -> RunHistory:
    """The run of goal `goal` as the forge shows it (`prefix`: the repository's label prefix)."""
    reader = _Reader(forge)
    repo = forge.repo
    issues = [row for row in reader.all(repo.get_issues(state="all")) if not row.get("pull_request")]
    pulls = reader.all(repo.get_pulls(state="all"))
    comments = [
        c
        for c in reader.all(repo.get_issues_comments())
        if str((c.get("user") or {}).get("login", "")).lower() == bot_login.lower()
    ]
    goals, tasks = _goals_and_tasks(issues, goal, prefix)
    by_number = {task.number: task for task in tasks}
    prs = _pulls(pulls, by_number)
    pr_task = {pr.number: pr.task for pr in prs}
    records = _comment_events(comments, by_number, pr_task)
    for task in tasks:
        for sha in _ci_fix_shas(pulls, task):
            for run in reader.failed_runs(sha):
                at = when(run.get("completed_at")) or when(run.get("started_at"))
                if at is not None:
                    task.events.append(
                        Event(
                            at,
                            "ci_failed",
                            task.number,
                            f"check {run.get('name', '')} {run.get('conclusion', '')} on {sha[:8]}",
                            task.pr,
                        )
                    )
    for task in tasks:
        task.events.sort(key=lambda e: (e.at, EVENT_KINDS.index(e.kind)))
    goals = [g if g.number not in records else _with_planner(g, records[g.number]) for g in goals]
    return RunHistory(forge.repo_full_name, goals, tasks, prs, reader.requests)


def _goals_and_tasks(
    issues: list[dict[str, Any]], goal: int, prefix: str
) -> tuple[list[GoalHistory], list[TaskHistory]]:
    """The goal, its sub-goals at any depth, and their tasks (oldest first)."""
    specs = {row["number"]: parse_task_body(row.get("body")) for row in issues}
    numbers, changed = [goal], True
    while changed:
        changed = False
        for number, spec in specs.items():
            if spec is not None and spec.kind == "subgoal" and spec.goal in numbers and number not in numbers:
                numbers.append(number)
                changed = True
    rows = {row["number"]: row for row in issues}
    goals = [_goal(rows[n], _parent(specs.get(n))) for n in numbers if n in rows]
    tasks = [
        _task(rows[n], spec, prefix) for n, spec in sorted(specs.items()) if spec is not None and spec.goal in numbers
    ]
    return goals, tasks


def _parent(spec: TaskSpec | None) -> int | None:
    return spec.goal if spec is not None else None


def _goal(row: dict[str, Any], parent: int | None) -> GoalHistory:
    return GoalHistory(
        row["number"],
        row.get("title") or "",
        row.get("state") or "open",
        when(row["created_at"]) or datetime.min,
        when(row.get("closed_at")),
        parent,
    )


def _task(row: dict[str, Any], spec: TaskSpec, prefix: str) -> TaskHistory:
    labels = [label["name"] for label in row.get("labels") or []]
    if row.get("state") == "closed":
        state = "done" if row.get("state_reason") in (None, "completed") else "not planned"
    else:
        found = state_from_labels(prefix, labels)
        state = found.value if found else "waiting"
    task = TaskHistory(
        row["number"],
        row.get("title") or "",
        spec.key,
        spec.goal,
        state,
        when(row["created_at"]) or datetime.min,
        spec.kind == "subgoal",
        tuple(spec.depends_on),
    )
    closed = when(row.get("closed_at"))
    if closed is not None:
        task.events.append(Event(closed, "closed", task.number, state))
    return task


def _pulls(pulls: list[dict[str, Any]], tasks: dict[int, TaskHistory]) -> list[PullHistory]:
    """The PRs of the goal's tasks; each task's newest PR gives its counters, usage and PR events."""
    found = []
    for row in sorted(pulls, key=lambda r: r["number"]):
        task = tasks.get(task_number_from_branch((row.get("head") or {}).get("ref", "")) or -1)
        if task is None:
            continue
        merged = when(row.get("merged_at"))
        state = "merged" if merged else str(row.get("state") or "open")
        pr = PullHistory(
            row["number"], task.number, row.get("title") or "", state, when(row["created_at"]) or task.created, merged
        )
        found.append(pr)
        counters = attempts.read(row.get("body"))
        task.pr, task.pr_state = pr.number, state
        task.ci_fixes, task.conflicts, task.usage = counters.ci_fix, counters.conflict, dict(counters.usage)
        task.events.append(Event(pr.opened, "pr_opened", task.number, f"PR #{pr.number}", pr.number))
        if merged is not None:
            task.events.append(Event(merged, "merged", task.number, f"PR #{pr.number}", pr.number))
    return found


def _ci_fix_shas(pulls: list[dict[str, Any]], task: TaskHistory) -> list[str]:
    row = next((p for p in pulls if p["number"] == task.pr), None)
    return attempts.read(row.get("body")).ci_fix_shas if row is not None else []


def _comment_events(
    comments: list[dict[str, Any]], tasks: dict[int, TaskHistory], pr_task: dict[int, int]
) -> dict[int, PlannerRecord]:
    """Each bot comment's event on its task; the planner records found on goals (goal → record)."""
    records: dict[int, PlannerRecord] = {}
    for comment in comments:
        number = int(str(comment.get("issue_url", "")).rsplit("/", 1)[-1] or 0)
        body = str(comment.get("body") or "")
        found = _TAG.match(body.lstrip())
        tag = found.group(1) if found else ""
        if tag == "status":
            data = markers.read_data(body, RECORD_MARKER)
            if isinstance(data, dict):
                records[number] = PlannerRecord.model_validate(data)
            continue
        task = tasks.get(pr_task.get(number, number))
        created, updated = when(comment.get("created_at")), when(comment.get("updated_at"))
        if task is None or created is None:
            continue
        pr = number if number in pr_task else None
        event = _event(task, tag, body, created, updated or created, pr)
        if event is not None:
            task.events.append(event)
    return records


def _event(
    task: TaskHistory, tag: str, body: str, created: datetime, updated: datetime, pr: int | None
) -> Event | None:
    if tag == "claim":
        claim = _CLAIM.search(body)
        task.worker, task.attempt = (claim.group(1), int(claim.group(2))) if claim else ("unknown worker", 1)
        # An edited claim is a later attempt's: it started when the comment was last written.
        detail = f"by {task.worker}" + (f" (attempt {task.attempt})" if task.attempt > 1 else "")
        return Event(updated if task.attempt > 1 else created, "claimed", task.number, detail, pr)
    kinds = {"ci-fix": "ci_fixed", "conflict": "conflict_resolved", "review": "review_addressed", "failure": "failure"}
    kind = next((k for prefix, k in kinds.items() if tag.startswith(prefix + "-")), None)
    if kind is None:
        return None
    return Event(updated if kind == "failure" else created, kind, task.number, headline(body), pr)


def _with_planner(goal: GoalHistory, record: PlannerRecord) -> GoalHistory:
    return GoalHistory(goal.number, goal.title, goal.state, goal.created, goal.closed, goal.parent, record.usage)
