"""The plan schema the planner submits, and the checks beyond the schema (bounds, keys, cycles, overlap).

A `Plan` serves three moments with one shape: the first plan of a goal (`tasks` is the whole
plan), a re-plan, and a continuation after handoffs (`tasks` are the tasks to *add*; `obsolete`
names open tasks to close as not planned; `done` declares the goal met). Existing tasks are
known to the checks by key (`Existing`), so new tasks may depend on them.

Owned paths: two tasks whose owned paths overlap must be ordered by a dependency (directly or
transitively). We reject the plan with an error naming both tasks rather than adding the
dependency ourselves: which of the two goes first is a design decision, and the planner owns
those.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.repoconfig import PlannerBounds

KEY_PATTERN = r"^[a-z0-9][a-z0-9-]{0,48}$"


class PlannedTask(BaseModel):
    """One task (or sub-goal) as the planner writes it."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=KEY_PATTERN, description="stable id within the goal, e.g. 'cart-totals'")
    title: str = Field(min_length=3, max_length=120)
    objective: str = Field(min_length=1, description="what to achieve, with the decisions that bind it")
    context_files: list[str] = Field(default_factory=list, description="files to read first")
    owned_paths: list[str] = Field(
        default_factory=list, description="paths (files, dirs/ or globs) this task may change"
    )
    acceptance_commands: list[str] = Field(default_factory=list, description="commands that must pass")
    acceptance_outcomes: list[str] = Field(default_factory=list, description="observable outcomes that prove it done")
    depends_on: list[str] = Field(default_factory=list, description="keys of tasks that must close first")
    size: Literal["s", "m", "l"] = "m"
    kind: Literal["task", "subgoal"] = "task"


class Obsolete(BaseModel):
    """An open task to close as not planned, and why."""

    model_config = ConfigDict(extra="forbid")

    key: str
    reason: str = Field(min_length=1)


class Plan(BaseModel):
    """What `submit_plan` carries."""

    model_config = ConfigDict(extra="forbid")

    tasks: list[PlannedTask] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="design decisions every task must respect")
    obsolete: list[Obsolete] = Field(default_factory=list)
    done: bool = Field(default=False, description="true when the goal is met and nothing more is needed")


class PlanError(ValueError):
    """The plan breaks a rule; the message says which, for the model to fix."""


@dataclass(frozen=True)
class Existing:
    """A task already on the forge, as the checks see it."""

    key: str
    open: bool
    owned_paths: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    #: A worker is on it (working or review): it is kept, never closed as obsolete.
    busy: bool = False


@dataclass(frozen=True)
class Rules:
    """What a plan is checked against."""

    bounds: PlannerBounds
    depth: int = 0
    first: bool = True
    existing: Mapping[str, Existing] = field(default_factory=dict)


def parse_plan(arguments: Mapping[str, object], rules: Rules) -> Plan:
    """The validated plan in `arguments`; PlanError with every problem found."""
    try:
        plan = Plan.model_validate(dict(arguments))
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc'])) or 'plan'}: {e['msg']}" for e in exc.errors()]
        raise PlanError("the plan does not match the schema: " + "; ".join(problems)) from exc
    problems = check_plan(plan, rules)
    if problems:
        raise PlanError("; ".join(problems))
    return plan


def check_plan(plan: Plan, rules: Rules) -> list[str]:
    """Every rule `plan` breaks, as sentences (empty when it is valid)."""
    problems = _count_problems(plan, rules)
    keys = [t.key for t in plan.tasks]
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            problems.append(f"key '{key}' is used by two tasks; keys must be unique")
        elif key in rules.existing:
            problems.append(f"key '{key}' is already used by a task of this goal; choose a new key")
        seen.add(key)
    known = set(keys) | set(rules.existing)
    for task in plan.tasks:
        for dep in task.depends_on:
            if dep not in known:
                problems.append(f"task '{task.key}' depends on unknown key '{dep}'")
            elif dep == task.key:
                problems.append(f"task '{task.key}' depends on itself")
        if task.kind == "subgoal" and rules.depth >= rules.bounds.max_depth:
            problems.append(
                f"task '{task.key}' is a subgoal, but this goal is at depth {rules.depth} "
                f"and sub-goals may nest only to depth {rules.bounds.max_depth}: plan tasks instead"
            )
    graph = _graph(plan, rules)
    cycle = _find_cycle(graph)
    if cycle:
        problems.append("dependencies form a cycle: " + " -> ".join(cycle))
    else:
        problems += _overlap_problems(plan, rules, graph)
    problems += _obsolete_problems(plan, rules)
    return problems


def _count_problems(plan: Plan, rules: Rules) -> list[str]:
    bounds, count = rules.bounds, len(plan.tasks)
    if count > bounds.max_tasks:
        return [f"the plan has {count} tasks; at most {bounds.max_tasks} are allowed"]
    if rules.first and count < bounds.min_tasks:
        return [f"the plan has {count} tasks; at least {bounds.min_tasks} are required"]
    return []


def _graph(plan: Plan, rules: Rules) -> dict[str, set[str]]:
    graph = {key: set(e.depends_on) & set(rules.existing) for key, e in rules.existing.items()}
    for task in plan.tasks:
        graph.setdefault(task.key, set()).update(d for d in task.depends_on if d != task.key)
    return graph


def _find_cycle(graph: Mapping[str, set[str]]) -> list[str]:
    """One dependency cycle as a list of keys (first key repeated at the end), or []."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def ancestors(graph: Mapping[str, set[str]], key: str) -> set[str]:
    """Every key `key` depends on, directly or transitively."""
    seen: set[str] = set()
    pending = list(graph.get(key, ()))
    while pending:
        node = pending.pop()
        if node not in seen:
            seen.add(node)
            pending.extend(graph.get(node, ()))
    return seen


def paths_overlap(a: str, b: str) -> bool:
    """True when two owned paths may name the same file (equal, one inside the other, or a glob match)."""
    a, b = a.strip().lstrip("./") or ".", b.strip().lstrip("./") or "."
    if a == b or "." in (a, b):
        return True
    if any(ch in a for ch in "*?[") or any(ch in b for ch in "*?["):
        return fnmatch.fnmatch(b, a) or fnmatch.fnmatch(a, b)
    da, db = a.rstrip("/") + "/", b.rstrip("/") + "/"
    return da.startswith(db) or db.startswith(da)


def _overlap_problems(plan: Plan, rules: Rules, graph: Mapping[str, set[str]]) -> list[str]:
    owners: dict[str, Iterable[str]] = {k: e.owned_paths for k, e in rules.existing.items() if e.open}
    problems: list[str] = []
    new = [(t.key, t.owned_paths) for t in plan.tasks]
    for index, (key, paths) in enumerate(new):
        others = list(owners.items()) + new[:index]
        for other, other_paths in others:
            if other == key:
                continue
            shared = next(((p, q) for p in paths for q in other_paths if paths_overlap(p, q)), None)
            if shared and other not in ancestors(graph, key) and key not in ancestors(graph, other):
                problems.append(
                    f"tasks '{other}' and '{key}' both own '{shared[1]}'/'{shared[0]}' but neither depends on "
                    f"the other: add a dependency so they run one after the other, or split the paths"
                )
    return problems


def _obsolete_problems(plan: Plan, rules: Rules) -> list[str]:
    closing = {o.key for o in plan.obsolete}
    problems = [
        f"obsolete key '{k}' is not an open task of this goal"
        for k in sorted(closing)
        if k not in rules.existing or not rules.existing[k].open
    ]
    problems += [
        f"task '{k}' is being worked on (or in review) and is kept; do not close it"
        for k in sorted(closing)
        if k in rules.existing and rules.existing[k].busy
    ]
    for key, known in rules.existing.items():
        if known.open and key not in closing and closing & set(known.depends_on):
            gone = sorted(closing & set(known.depends_on))
            problems.append(
                f"open task '{key}' depends on '{gone[0]}', which you close as obsolete: "
                f"close '{key}' too, or keep '{gone[0]}'"
            )
    for new in plan.tasks:
        if closing & set(new.depends_on):
            problems.append(
                f"new task '{new.key}' depends on '{sorted(closing & set(new.depends_on))[0]}', which you close"
            )
    if plan.done and plan.tasks:
        problems.append("the plan says done but adds tasks: either add tasks or declare the goal done")
    return problems


def topological(tasks: list[PlannedTask]) -> list[PlannedTask]:
    """Tasks ordered so every task comes after the new tasks it depends on (stable otherwise)."""
    by_key = {t.key: t for t in tasks}
    ordered: list[PlannedTask] = []
    placed: set[str] = set()

    def place(task: PlannedTask) -> None:
        if task.key in placed:
            return
        placed.add(task.key)
        for dep in task.depends_on:
            if dep in by_key:
                place(by_key[dep])
        ordered.append(task)

    for task in tasks:
        place(task)
    return ordered


def plan_tool_schema() -> dict[str, object]:
    """The JSON Schema of `submit_plan`'s arguments."""
    return Plan.model_json_schema()
