"""The planner's collaborators and the steps every planner job ends with: dispatch, status, completion.

`Planner` is built by the job entry points (bot/planner/jobs.py) from the runtime and by tests
from localhub, the model stand-in and a private Redis. `refresh` is the common tail of every
job: update waiting/ready and enqueue work, rewrite the status comment, and close the goal
with a summary once nothing is left open.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot import repofiles
from bot.forge.client import Forge
from bot.forge.types import Comment, Issue
from bot.git import Mirror
from bot.ledger import comments
from bot.ledger.goaltree import GoalTask, find_tasks, goal_position, is_paused
from bot.ledger.labels import State
from bot.ledger.record import (
    STATUS_MARKER,
    PlannerRecord,
    load_record,
    now_iso,
    pending_replans,
    read_handoffs,
)
from bot.ledger.taskbody import parse_task_body
from bot.llm.types import ChatModel
from bot.planner.agent import PlanOutcome, PlanRequest, run_planner
from bot.planner.dispatch import DispatchResult, dispatch_goal
from bot.planner.plan import Existing, Rules
from bot.planner.repomap import build_repo_map
from bot.planner.status import gather, render_status, render_summary
from bot.queue.kinds import Executor, JobRequest
from bot.repoconfig import RepoConfig
from bot.settings import Budget


@dataclass
class Planner:
    """Everything the planner's core needs, injected."""

    forge: Forge
    config: RepoConfig
    executor: Executor
    model: Callable[[], ChatModel]
    state_dir: Path
    budget: Budget = field(default_factory=lambda: Budget(max_steps=40))
    installation_id: int | None = None
    checkout: Callable[[], contextlib.AbstractContextManager[Path]] | None = None

    @property
    def repo(self) -> str:
        return self.forge.repo_full_name

    @contextlib.contextmanager
    def worktree(self) -> Iterator[Path]:
        if self.checkout is not None:
            with self.checkout() as path:
                yield path
        else:
            with Mirror.of(self.forge, self.state_dir).checkout(self.forge.default_branch()) as path:
                yield path

    def submit(self, kind: str, number: int) -> None:
        self.executor.submit(JobRequest.make(kind, repo=self.repo, number=number, installation_id=self.installation_id))


def existing_rules(planner: Planner, tasks: list[GoalTask], depth: int, first: bool) -> Rules:
    busy = (State.WORKING, State.REVIEW)
    existing = {t.key: Existing(t.key, t.open, tuple(t.spec.owned_paths), tuple(t.spec.depends_on_keys),
                                t.open and t.state(planner.config) in busy) for t in tasks}
    return Rules(bounds=planner.config.planner, depth=depth, first=first, existing=existing)


def task_lines(planner: Planner, tasks: list[GoalTask]) -> list[str]:
    """One line per task for the planner's prompt: key, number, title, state, paths, dependencies."""
    lines = []
    for task in tasks:
        state = task.state(planner.config)
        where = (state.value if state else "open") if task.open else (
            "done" if task.issue.state_reason in (None, "completed") else "closed as not planned")
        owns = f"; owns {', '.join(task.spec.owned_paths)}" if task.spec.owned_paths else ""
        deps = f"; after {', '.join(task.spec.depends_on_keys)}" if task.spec.depends_on_keys else ""
        lines.append(f"`{task.key}` #{task.number} {task.issue.title} ({task.spec.kind}: {where}{owns}{deps})")
    return lines


def ask_planner(planner: Planner, goal: Issue, tasks: list[GoalTask], *, first: bool, guidance: str = "",
                handoffs: list[str] | None = None) -> PlanOutcome:
    """Check out the repo, map it, and run the planning agent for `goal`."""
    parent_number, depth = goal_position(goal)
    parent = planner.forge.get_issue(parent_number) if parent_number is not None else None
    spec_paths = _own_paths(goal)  # a sub-goal's paths, from its task marker in the parent's plan
    with planner.worktree() as root:
        request = PlanRequest(
            repo=planner.repo, goal=goal, config=planner.config, rules=existing_rules(planner, tasks, depth, first),
            repo_map=build_repo_map(root, planner.config), notes=repofiles.read_notes(planner.forge, planner.config),
            guidance=guidance, open_tasks=task_lines(planner, tasks), handoffs=handoffs or [], parent=parent,
            owned_paths=spec_paths, overrides=repofiles.read_prompt_overrides(planner.forge),
        )
        transcripts = planner.state_dir / "transcripts"
        transcripts.mkdir(parents=True, exist_ok=True)
        name = f"plan-{planner.repo.replace('/', '_')}-{goal.number}-{now_iso().replace(':', '')}.jsonl"
        return run_planner(planner.model(), root, request, planner.budget, transcripts / name)


def _own_paths(goal: Issue) -> list[str]:
    """The paths a sub-goal owns (its task marker in the parent's plan); a person's goal owns none."""
    spec = parse_task_body(goal.body)
    return spec.owned_paths if spec else []


def save_status(planner: Planner, goal: Issue, record: PlannerRecord, tasks: list[GoalTask], note: str = "") -> None:
    """Rewrite the status comment; the record is merged with what another job may have written meanwhile."""
    current = load_record(planner.forge, goal.number)
    merged = current.merged_with(record)
    facts = gather(planner.forge, planner.config, tasks)
    paused = is_paused(planner.forge, planner.config, goal) and goal.state == "open"
    comments.upsert(planner.forge, goal.number, STATUS_MARKER, render_status(merged, facts, paused=paused, note=note))


def unprocessed_handoffs(planner: Planner, tasks: list[GoalTask], record: PlannerRecord) -> list[tuple[int, int, str]]:
    """(task number, comment id, text) of handoffs not yet folded into the plan."""
    done = set(record.handoffs_done)
    found = []
    for task in tasks:
        state = task.state(planner.config)
        if task.subgoal or (task.open and state in (None, State.WAITING, State.READY)):
            continue  # no worker has run on it yet
        found += [(task.number, cid, text) for cid, text in read_handoffs(planner.forge, task.number, done)]
    return found


def refresh(planner: Planner, goal: Issue, record: PlannerRecord, tasks: list[GoalTask],
            listing: list[Comment] | None = None, note: str = "") -> DispatchResult:
    """Dispatch, rewrite the status, and complete the goal when nothing is left open."""
    result = dispatch_goal(planner.forge, planner.config, planner.executor, goal, tasks, planner.installation_id)
    if result.ready or result.subgoals_planned:
        tasks = find_tasks(planner.forge, planner.config, goal.number)
    if record.version > 0 and not result.paused and not any(t.open for t in tasks):
        listing = listing if listing is not None else planner.forge.list_comments(goal.number)
        if not pending_replans(planner.forge, listing) and not unprocessed_handoffs(planner, tasks, record):
            complete(planner, goal, record, tasks)
            return result
    save_status(planner, goal, record, tasks, note)
    return result


def complete(planner: Planner, goal: Issue, record: PlannerRecord, tasks: list[GoalTask]) -> None:
    """Post the summary, close the goal, and wake the parent goal of a sub-goal."""
    record = record.model_copy(update={"closed_at": record.closed_at or now_iso()})
    facts = gather(planner.forge, planner.config, tasks)
    comments.upsert(planner.forge, goal.number, "summary", render_summary(record, facts))
    comments.upsert(planner.forge, goal.number, STATUS_MARKER, render_status(record, facts, paused=False))
    planner.forge.update_issue(goal.number, state="closed", state_reason="completed")
    parent, _depth = goal_position(goal)
    if parent is not None:
        planner.submit("on_task_closed", goal.number)


def record_usage(record: PlannerRecord, outcome: PlanOutcome) -> PlannerRecord:
    return record.model_copy(update={"usage": record.usage + outcome.usage})


def plan_dump(value: Any) -> dict[str, Any]:
    return dict(value.model_dump(mode="json"))
