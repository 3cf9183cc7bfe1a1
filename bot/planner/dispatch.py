"""Dispatch: tasks whose dependencies are closed become `ready` and get an `implement` job.

Rules (docs/planner.md):
- a dependency counts as met when its issue is closed, whatever the reason — a task a person
  closes as not planned releases its dependants; when the planner closes a task as obsolete,
  the plan checks make it close the dependants too (bot/planner/plan.py);
- only tasks labelled `waiting` or `ready` (or with no state label) are touched: working,
  review, needs-human and paused tasks belong to their worker or to a person;
- `max_parallel_tasks` caps the repository's tasks in flight: tasks labelled `working` plus
  ready tasks whose implement job is live in the executor (queued or running);
- a ready sub-goal gets a `plan` job (its sub-planner) instead of an implement job;
- a goal that is paused (or sits under a paused or closed goal) dispatches nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.forge.client import Forge
from bot.forge.types import Issue
from bot.ledger import labels
from bot.ledger.goaltree import GoalTask, is_paused
from bot.ledger.labels import Kind, State, label_name
from bot.queue.kinds import Executor, JobRequest
from bot.repoconfig import RepoConfig

OPEN_STATES = (None, State.WAITING, State.READY)


@dataclass
class DispatchResult:
    """What one dispatch pass did."""

    paused: bool = False
    ready: list[int] = field(default_factory=list)
    enqueued: list[int] = field(default_factory=list)
    subgoals_planned: list[int] = field(default_factory=list)


def _open_numbers(forge: Forge, tasks: list[GoalTask], numbers: list[int]) -> list[int]:
    states = {t.number: t.open for t in tasks}
    still_open = []
    for number in numbers:
        is_open = states[number] if number in states else forge.get_issue(number).state == "open"
        if is_open:
            still_open.append(number)
    return still_open


def in_flight(forge: Forge, config: RepoConfig, executor: Executor, repo: str, installation_id: int | None) -> int:
    """Tasks of the repository in flight: labelled working, or ready with a live implement job."""
    task_label = label_name(config.label_prefix, Kind.TASK)
    working = forge.list_issues([task_label, label_name(config.label_prefix, State.WORKING)])
    ready = forge.list_issues([task_label, label_name(config.label_prefix, State.READY)])
    queued = sum(1 for issue in ready if executor.live(implement_job(repo, issue.number, installation_id).job_id))
    return len(working) + queued


def implement_job(repo: str, number: int, installation_id: int | None) -> JobRequest:
    return JobRequest.make("implement", repo=repo, number=number, installation_id=installation_id)


def dispatch_goal(forge: Forge, config: RepoConfig, executor: Executor, goal: Issue, tasks: list[GoalTask],
                  installation_id: int | None) -> DispatchResult:
    """Update waiting/ready labels from the dependencies and enqueue ready work within the cap."""
    if is_paused(forge, config, goal):
        return DispatchResult(paused=True)
    result = DispatchResult()
    candidates: list[GoalTask] = []
    for task in tasks:
        state = task.state(config)
        if not task.open or state not in OPEN_STATES:
            continue
        target = State.WAITING if _open_numbers(forge, tasks, task.spec.depends_on) else State.READY
        if state != target:
            labels.set_state(forge, task.number, target, config)
        if target == State.READY:
            candidates.append(task)
            result.ready.append(task.number)
    repo = forge.repo_full_name
    slots = None
    for task in candidates:
        if task.subgoal:
            executor.submit(JobRequest.make("plan", repo=repo, number=task.number, installation_id=installation_id))
            result.subgoals_planned.append(task.number)
            continue
        job = implement_job(repo, task.number, installation_id)
        if executor.live(job.job_id):
            continue
        if slots is None:
            slots = config.max_parallel_tasks - in_flight(forge, config, executor, repo, installation_id)
        if slots <= 0:
            continue
        executor.submit(job)
        slots -= 1
        result.enqueued.append(task.number)
    return result
