"""Dispatch: tasks whose dependencies are closed become `ready`, and ready work gets its job, repository-wide.

Rules (docs/planner.md):
- every open goal and sub-goal of the repository is considered at once, oldest goal first (a
  task sorts by the number of its top-level goal, then by its own number), so a task that
  became ready while every slot was taken starts when any slot frees, whichever goal freed it;
- a dependency counts as met when its issue is closed, whatever the reason — a task a person
  closes as not planned releases its dependants; when the planner closes a task as obsolete,
  the plan checks make it close the dependants too (bot/planner/plan_schema.py);
- only tasks labelled `waiting` or `ready` (or with no state label) are touched: working,
  review, needs-human and paused tasks belong to their worker or to a person;
- `max_parallel_tasks` caps the repository's tasks in flight: tasks labelled `working` plus
  ready tasks whose implement job is live in the executor (queued or running);
- a ready sub-goal gets a `plan` job (its sub-planner) instead of an implement job;
- a goal that is paused (or sits under a paused or closed goal) dispatches nothing.

`dispatch_repository` is the `dispatch_repo` job's core (one job id per repository, so the
triggers — a task closed, merged, moved to needs-human, cancelled, a goal resumed, a sweep —
fold into one pass); `promote_goal` is the label half alone, for a goal job's own status.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from github.GithubException import UnknownObjectException

from bot.forge.client import Forge
from bot.forge.types import Issue
from bot.ledger import labels
from bot.ledger.goaltree import GoalTask, goal_position, is_paused
from bot.ledger.labels import Kind, State, label_name, state_from_labels
from bot.ledger.taskbody import parse_task_body
from bot.planner import breaker
from bot.queue.kinds import Executor, JobRequest, SubmitResult
from bot.repoconfig import RepoConfig

OPEN_STATES = (None, State.WAITING, State.READY)


@dataclass
class DispatchResult:
    """What one dispatch pass did."""

    paused: bool = False
    ready: list[int] = field(default_factory=list)
    enqueued: list[int] = field(default_factory=list)
    live: list[int] = field(default_factory=list)  # ready tasks whose implement job was already live
    subgoals_planned: list[int] = field(default_factory=list)
    relabelled: list[int] = field(default_factory=list)  # waiting ⇄ ready changes made
    submitted: list[SubmitResult] = field(default_factory=list)  # every job this pass submitted
    spend_stopped: list[int] = field(default_factory=list)  # goals whose spend cap stopped their new work


@dataclass
class Backlog:
    """The repository's open orchestra issues, read once per pass: goals (sub-goals too) and tasks.

    Issues outside the two lists (closed dependencies, a parent goal that lost its label) are
    read one at a time when asked about, once per pass.
    """

    forge: Forge
    config: RepoConfig
    goals: dict[int, Issue]
    tasks: dict[int, Issue]
    _others: dict[int, Issue | None] = field(default_factory=dict)

    @classmethod
    def read(cls, forge: Forge, config: RepoConfig) -> Backlog:
        goals = {i.number: i for i in forge.list_issues([label_name(config.label_prefix, Kind.GOAL)])}
        tasks = {i.number: i for i in forge.list_issues([label_name(config.label_prefix, Kind.TASK)])}
        return cls(forge, config, goals, tasks)

    def issue(self, number: int) -> Issue | None:
        """The issue `number` (None when it does not exist)."""
        found = self.goals.get(number) or self.tasks.get(number)
        if found is not None:
            return found
        if number not in self._others:
            self._others[number] = self._lookup(number)
        return self._others[number]

    def _lookup(self, number: int) -> Issue | None:
        try:
            return self.forge.get_issue(number)
        except UnknownObjectException:
            return None

    def is_open(self, number: int) -> bool:
        found = self.issue(number)
        return found is not None and found.state == "open"

    def any_open(self, numbers: list[int]) -> bool:
        """True when one of `numbers` is open; the open lists answer first, so closed ones are read
        only when no dependency is known open."""
        if any(n in self.goals or n in self.tasks for n in numbers):
            return True
        return any(self.is_open(n) for n in numbers)

    def items(self) -> list[GoalTask]:
        """Open tasks and sub-goals (issues with a task marker), by number."""
        found = []
        for issue in {**self.goals, **self.tasks}.values():
            spec = parse_task_body(issue.body)
            if spec is not None and not issue.is_pull:
                found.append(GoalTask(issue, spec))
        return sorted(found, key=lambda t: t.number)

    def chain(self, goal: int) -> tuple[int, bool]:
        """(the top-level goal above `goal`, whether dispatch is stopped there: paused or closed on the way)."""
        paused = label_name(self.config.label_prefix, State.PAUSED)
        current, top = goal, goal
        for _ in range(self.config.planner.max_depth + 2):
            issue = self.issue(current) if current else None
            if issue is None:
                return top, False  # no goal (a task filed by hand), or one that does not exist
            if paused in issue.labels or issue.state == "closed":
                return current, True
            top = current
            parent, _depth = goal_position(issue)
            if parent is None:
                return top, False
            current = parent
        return top, False


def _breaks(accounts: breaker.Accounts, top: int, result: DispatchResult) -> bool:
    """True when goal `top`'s spend cap is reached; the first time in a pass, the breaker trips."""
    if top in result.spend_stopped:
        return True
    reason = accounts.reached(top)
    if reason is None:
        return False
    breaker.trip(accounts.forge, accounts.config, top, reason, accounts.states.get(top, breaker.BreakerState()))
    result.spend_stopped.append(top)
    return True


def implement_job(repo: str, number: int, installation_id: int | None) -> JobRequest:
    return JobRequest.make("implement", repo=repo, number=number, installation_id=installation_id)


def promote(
    forge: Forge, config: RepoConfig, items: Iterable[GoalTask], any_open: Callable[[list[int]], bool]
) -> DispatchResult:
    """Label each open task or sub-goal `waiting` or `ready` from its dependencies; only labels change."""
    result = DispatchResult()
    for task in items:
        state = task.state(config)
        if not task.open or state not in OPEN_STATES:
            continue
        target = State.WAITING if any_open(list(task.spec.depends_on)) else State.READY
        if state != target:
            labels.set_state(forge, task.number, target, config)
            result.relabelled.append(task.number)
        if target == State.READY:
            result.ready.append(task.number)
    return result


def promote_goal(forge: Forge, config: RepoConfig, goal: Issue, tasks: list[GoalTask]) -> DispatchResult:
    """The label half of dispatch for one goal's tasks (a goal job's own view); nothing when the goal is paused."""
    if is_paused(forge, config, goal):
        return DispatchResult(paused=True)
    states = {t.number: t.open for t in tasks}

    def any_open(numbers: list[int]) -> bool:
        return any(states[n] if n in states else forge.get_issue(n).state == "open" for n in numbers)

    return promote(forge, config, tasks, any_open)


def in_flight(backlog: Backlog, executor: Executor, installation_id: int | None) -> int:
    """Tasks of the repository in flight: labelled working, or ready with a live implement job."""
    repo = backlog.forge.repo_full_name
    count = 0
    for issue in backlog.tasks.values():
        state = state_from_labels(backlog.config.label_prefix, issue.labels)
        if state == State.WORKING or (
            state == State.READY and executor.live(implement_job(repo, issue.number, installation_id).job_id)
        ):
            count += 1
    return count


def top_goal(backlog: Backlog, number: int) -> int:
    """The top-level goal above goal `number` (itself when it has no parent)."""
    current = number
    for _ in range(backlog.config.planner.max_depth + 2):
        issue = backlog.issue(current)
        parent = goal_position(issue)[0] if issue is not None else None
        if parent is None:
            return current
        current = parent
    return current


def spend_accounts(backlog: Backlog) -> breaker.Accounts | None:
    """The open goals' spend by top-level goal (None when no spend cap is set); lifts the breaker of a
    goal whose cap was raised (its paused label goes)."""
    if not backlog.config.budgets.capped:
        return None
    accounts = breaker.Accounts(backlog.forge, backlog.config)
    for number in sorted(backlog.goals):
        accounts.add(top_goal(backlog, number), number)
    paused = label_name(backlog.config.label_prefix, State.PAUSED)
    for top, state in accounts.states.items():
        goal = backlog.goals.get(top)
        if state.tripped and goal is not None and paused in goal.labels and accounts.reached(top) is None:
            breaker.lift(backlog.forge, backlog.config, top, state, "the cap was raised")
            backlog.goals[top] = goal.model_copy(update={"labels": [n for n in goal.labels if n != paused]})
    return accounts


def dispatch_repository(
    forge: Forge, config: RepoConfig, executor: Executor, installation_id: int | None, backlog: Backlog | None = None
) -> DispatchResult:
    """Promote every open goal's tasks and enqueue ready work within the repository's cap, oldest goal first;
    a goal whose spend cap is reached starts nothing (the spend breaker)."""
    backlog = backlog or Backlog.read(forge, config)
    accounts = spend_accounts(backlog)
    order: dict[int, int] = {}
    active = []
    for task in backlog.items():
        top, stopped = backlog.chain(task.spec.goal)
        if not stopped:
            order[task.number] = top
            active.append(task)
    result = promote(forge, config, active, backlog.any_open)
    by_number = {t.number: t for t in active}
    slots = config.max_parallel_tasks - in_flight(backlog, executor, installation_id)
    for number in sorted(result.ready, key=lambda n: (order[n], n)):
        task = by_number[number]
        if accounts is not None and _breaks(accounts, order[number], result):
            continue
        if task.subgoal:
            plan = JobRequest.make("plan", repo=forge.repo_full_name, number=number, installation_id=installation_id)
            if not executor.live(plan.job_id):
                result.submitted.append(executor.submit(plan))
            result.subgoals_planned.append(number)
            continue
        job = implement_job(forge.repo_full_name, number, installation_id)
        if executor.live(job.job_id):
            result.live.append(number)
        elif slots > 0:
            submitted = executor.submit(job)
            result.submitted.append(submitted)
            if submitted.new:
                slots -= 1
                result.enqueued.append(number)
    return result
