"""A task as it lives on the forge: the issue body the planner writes and the worker reads.

The visible part is Markdown a person can read and edit (objective, context, owned paths,
acceptance, dependencies); the machine part is one hidden data marker
(``<!-- orchestra:task {...} -->``) holding the same facts plus the goal, the plan version
and the task's key, so re-running a plan finds its own tasks instead of creating duplicates.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.ledger import markers

TASK_MARKER = "task"
GOAL_MARKER = "goal"

_DEPENDS = re.compile(r"^\s*depends on\s+((?:#\d+[\s,]*(?:and\s+)?)+)", re.IGNORECASE | re.MULTILINE)


class TaskSpec(BaseModel):
    """Everything a worker needs to do one task, and everything the planner needs to find it again."""

    model_config = ConfigDict(extra="forbid")

    goal: int = Field(description="number of the goal issue this task belongs to")
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,48}$", description="stable id within the goal's plan")
    title: str = Field(min_length=3, max_length=120)
    objective: str = Field(min_length=1)
    context_files: list[str] = []
    owned_paths: list[str] = []
    acceptance_commands: list[str] = []
    acceptance_outcomes: list[str] = []
    depends_on: list[int] = Field(default_factory=list, description="issue numbers of tasks that must close first")
    depends_on_keys: list[str] = []
    size: Literal["s", "m", "l"] = "m"
    kind: Literal["task", "subgoal"] = "task"
    plan_version: int = 1


def _bullets(items: list[str], code: bool = False) -> str:
    return "\n".join(f"- `{item}`" if code else f"- {item}" for item in items) or "- (none)"


def render_task_body(task: TaskSpec) -> str:
    """The issue body of a task: readable Markdown plus the hidden data marker."""
    parts = [
        task.objective.strip(),
        "",
        "### Context",
        _bullets(task.context_files, code=True),
        "",
        "### Owns",
        _bullets(task.owned_paths, code=True),
        "",
        "### Acceptance",
    ]
    parts += [f"- [ ] `{cmd}` passes" for cmd in task.acceptance_commands]
    parts += [f"- [ ] {outcome}" for outcome in task.acceptance_outcomes]
    if not task.acceptance_commands and not task.acceptance_outcomes:
        parts.append("- (none given)")
    parts.append("")
    if task.depends_on:
        parts.append("Depends on " + ", ".join(f"#{n}" for n in sorted(task.depends_on)))
    parts.append(f"Part of #{task.goal}")
    body = "\n".join(parts)
    return markers.write_data(body, TASK_MARKER, task.model_dump(mode="json"))


def parse_task_body(body: str | None) -> TaskSpec | None:
    """The TaskSpec in an issue body, or None when the body carries no (valid) task marker.

    `Depends on #n` lines a person added to the visible text count too, so people can add a
    dependency by editing the issue.
    """
    data = markers.read_data(body, TASK_MARKER)
    if not isinstance(data, dict):
        return None
    try:
        task = TaskSpec.model_validate(data)
    except ValueError:
        return None
    extra = {int(n) for match in _DEPENDS.finditer(body or "") for n in re.findall(r"#(\d+)", match.group(1))}
    if extra - set(task.depends_on):
        task = task.model_copy(update={"depends_on": sorted(set(task.depends_on) | extra)})
    return task


def branch_name(number: int, title: str) -> str:
    """``orchestra/<n>-<slug>``: the one branch of a task."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40].rstrip("-") or "task"
    return f"orchestra/{number}-{slug}"


def task_number_from_branch(branch: str) -> int | None:
    """The task number in ``orchestra/<n>-<slug>``, or None for other branches."""
    match = re.match(r"^(?:refs/heads/)?orchestra/(\d+)(?:-|$)", branch)
    return int(match.group(1)) if match else None
