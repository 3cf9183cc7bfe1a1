"""Forge writes of a plan, idempotent: task issues found by key before any is created, links, labels.

Each task issue carries the task marker (goal, plan version, key; `bot/tasks.py`), so a second
run finds what the first created. Tasks are created in dependency order so `Depends on #n`
names real numbers. Each is linked to the goal as a sub-issue; where the forge refuses the link
(no sub-issue support, or the 100-per-parent limit) the goal's body gets a task list in a
bot-owned section instead. A sub-goal is an issue labelled as a goal, with a goal marker that
says its parent and depth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from github.GithubException import GithubException

from bot.forge.client import Forge
from bot.forge.types import Issue
from bot.ledger import comments, labels, markers
from bot.ledger.goaltree import TASKLIST_SECTION, GoalTask, goal_position
from bot.ledger.labels import Kind, State, label_name
from bot.ledger.record import PlannerRecord
from bot.ledger.taskbody import GOAL_MARKER, TaskSpec, render_task_body
from bot.planner.context import Planner
from bot.planner.plan_schema import Obsolete, Plan, PlannedTask, topological
from bot.repoconfig import RepoConfig


def task_spec(goal: int, task: PlannedTask, known: dict[str, GoalTask], version: int) -> TaskSpec:
    """The TaskSpec of a planned task, its dependency keys resolved to issue numbers."""
    return TaskSpec(
        goal=goal,
        key=task.key,
        title=task.title,
        objective=task.objective,
        context_files=task.context_files,
        owned_paths=task.owned_paths,
        acceptance_commands=task.acceptance_commands,
        acceptance_outcomes=task.acceptance_outcomes,
        depends_on=sorted(known[d].number for d in task.depends_on),
        depends_on_keys=list(task.depends_on),
        size=task.size,
        kind=task.kind,
        plan_version=version,
    )


def issue_body(spec: TaskSpec, depth: int) -> str:
    body = render_task_body(spec)
    if spec.kind == "subgoal":
        body = markers.write_data(body, GOAL_MARKER, {"parent": spec.goal, "depth": depth + 1})
    return body


def publish_tasks(
    forge: Forge, config: RepoConfig, goal: Issue, plan: Plan, version: int, existing: list[GoalTask], depth: int
) -> list[GoalTask]:
    """Create the plan's tasks that do not exist yet (by key), link them; return the ones created."""
    labels.ensure(forge, config)
    known = {t.key: t for t in existing}
    linked = {issue.number for issue in forge.list_sub_issues(goal.number)}
    created: list[GoalTask] = []
    for task in topological(plan.tasks):
        if task.key in known:
            if known[task.key].number not in linked:
                _link(forge, goal, known[task.key].issue)
            continue
        spec = task_spec(goal.number, task, known, version)
        ready = all(not known[d].open for d in task.depends_on)
        kind = Kind.GOAL if spec.kind == "subgoal" else Kind.TASK
        names = [
            label_name(config.label_prefix, kind),
            label_name(config.label_prefix, State.READY if ready else State.WAITING),
        ]
        issue = forge.create_issue(spec.title, issue_body(spec, depth), names)
        _link(forge, goal, issue)
        known[task.key] = GoalTask(issue, spec)
        created.append(known[task.key])
    return created


def _link(forge: Forge, goal: Issue, child: Issue) -> None:
    """Link `child` under `goal`; when the forge refuses, list it in the goal body's task list."""
    try:
        forge.add_sub_issue(goal.number, child.id)
    except GithubException:
        current = forge.get_issue(goal.number)
        section = markers.read_section(current.body, TASKLIST_SECTION) or ""
        line = f"- [ ] #{child.number}"
        if line not in section.splitlines():
            content = "\n".join(filter(None, [section.strip(), line]))
            forge.update_issue(goal.number, body=markers.write_section(current.body, TASKLIST_SECTION, content))


def close_obsolete(forge: Forge, tasks: list[GoalTask], obsolete: list[Obsolete]) -> list[GoalTask]:
    """Close each named open task as not planned, with a comment giving the planner's reason."""
    by_key = {t.key: t for t in tasks}
    closed = []
    for item in obsolete:
        task = by_key.get(item.key)
        if task is None or not task.open:
            continue
        comments.upsert(forge, task.number, "obsolete", f"The planner closed this task as not planned: {item.reason}")
        forge.update_issue(task.number, state="closed", state_reason="not_planned")
        closed.append(task)
    return closed


def close_open(forge: Forge, tasks: list[GoalTask], reason: str) -> list[GoalTask]:
    """Close every open task as not planned with `reason` (cancel)."""
    return close_obsolete(forge, tasks, [Obsolete(key=t.key, reason=reason) for t in tasks if t.open])


@dataclass
class Changes:
    """What applying a plan changed on the forge."""

    created: list[GoalTask] = field(default_factory=list)
    closed: list[GoalTask] = field(default_factory=list)
    done: bool = False

    def describe(self) -> str:
        parts = []
        if self.created:
            parts.append("added " + ", ".join(f"#{t.number} {t.issue.title}" for t in self.created))
        if self.closed:
            parts.append("closed as not planned " + ", ".join(f"#{t.number}" for t in self.closed))
        if self.done:
            parts.append("declared the goal done")
        return "; ".join(parts) or "no change to the tasks"


def apply_plan(planner: Planner, goal: Issue, record: PlannerRecord, tasks: list[GoalTask], plan: Plan) -> Changes:
    """Close the obsolete tasks, create the new ones (idempotently), keep the design decisions."""
    _parent, depth = goal_position(goal)
    changes = Changes(closed=close_obsolete(planner.forge, tasks, plan.obsolete), done=plan.done)
    if plan.done:
        waiting = [t for t in tasks if t.open and t.state(planner.config) in (None, State.WAITING, State.READY)]
        changes.closed += close_open(planner.forge, waiting, "the planner declared the goal done")
    changes.created = publish_tasks(planner.forge, planner.config, goal, plan, record.version, tasks, depth)
    for note in plan.notes:
        if note not in record.notes:
            record.notes.append(note)
    return changes
