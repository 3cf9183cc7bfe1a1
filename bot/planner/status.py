"""The goal's one status comment (a checklist, edited in place) and its closing summary.

Per task it shows the state, the pull request, attempts, tokens and cost. The PR is looked up
by the task's branch (`bot/tasks.py:branch_name`) only for tasks in review or closed as done;
attempts and usage are read from the PR body's `orchestra:attempts` and `orchestra:usage` data
markers the worker writes (a number or `{"count": n}`; a `Usage` dump or a `UsageMeter` dict).
Anything missing is shown as unknown rather than failing the comment. Above the checklist, a
Mermaid graph of the tasks and their dependencies, coloured by state (`bot/planner/mermaid.py`);
when the comment would not fit GitHub's 65,536 characters, the graph shows numbers only, then
goes. Titles are shown as text: `<`, `>` and `&` become entities, so a title can add no tag and
no hidden marker (a fake planner record would otherwise be read before the real one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.forge.client import Forge
from bot.forge.limits import MAX_BODY_CHARS
from bot.forge.types import PullRequest, PullSummary
from bot.ledger import markers
from bot.ledger.goaltree import GoalTask
from bot.ledger.labels import State
from bot.ledger.record import RECORD_MARKER, STATUS_MARKER, DoneTask, PlannerRecord
from bot.ledger.taskbody import branch_name
from bot.llm.types import Usage
from bot.planner import mermaid
from bot.repoconfig import RepoConfig

#: Room kept free under GitHub's limit for what `fit` adds when another part of the comment grows.
HEADROOM = 1_000


@dataclass(frozen=True)
class TaskFacts:
    """What the status shows for one task."""

    task: GoalTask
    state: str
    pr: PullRequest | PullSummary | None = None
    attempts: int | None = None
    usage: Usage | None = None


def _usage(data: Any) -> Usage | None:
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("total"), dict):
        data = data["total"]
    try:
        return Usage.model_validate({k: v for k, v in data.items() if k in Usage.model_fields})
    except ValueError:
        return None


def _attempts(data: Any) -> int | None:
    if isinstance(data, dict):
        data = data.get("count")
    return data if isinstance(data, int) and not isinstance(data, bool) else None


def gather(
    forge: Forge, config: RepoConfig, tasks: list[GoalTask], done: dict[int, DoneTask] | None = None
) -> list[TaskFacts]:
    """Facts for every task. PRs are read only where one is expected: tasks in review from one list of
    the open PRs, tasks done from `done` (the record's) or else their PR, once (`done_facts` keeps them)."""
    known = done or {}
    facts = []
    open_prs: dict[str, PullSummary] | None = None
    for task in tasks:
        state = task.state(config)
        if not task.open:
            label = "done" if task.issue.state_reason in (None, "completed") else "not planned"
        else:
            label = state.value if state else "open"
        if label == "done" and task.number in known:
            facts.append(_from_record(task, known[task.number]))
            continue
        pr: PullRequest | PullSummary | None = None
        branch = branch_name(task.number, task.issue.title)
        if not task.subgoal and state == State.REVIEW and task.open:
            if open_prs is None:
                open_prs = {p.head_ref: p for p in forge.list_prs("open")}
            pr = open_prs.get(branch)
        if not task.subgoal and pr is None and (state == State.REVIEW or label == "done"):
            pr = forge.find_pr(branch, state="all")
        body = pr.body if pr else ""
        facts.append(
            TaskFacts(
                task,
                label,
                pr,
                _attempts(markers.read_data(body, "attempts")),
                _usage(markers.read_data(body, "usage")),
            )
        )
    return facts


def done_facts(facts: list[TaskFacts]) -> dict[int, DoneTask]:
    """The facts of tasks done, as the record keeps them (they no longer change)."""
    return {
        f.task.number: DoneTask(
            pr=f.pr.number if f.pr else None, merged=bool(f.pr and f.pr.merged), attempts=f.attempts, usage=f.usage
        )
        for f in facts
        if f.state == "done" and not f.task.subgoal
    }


def _from_record(task: GoalTask, known: DoneTask) -> TaskFacts:
    pr = PullSummary(number=known.pr, merged=known.merged, head_ref="", base_ref="") if known.pr else None
    return TaskFacts(task, "done", pr, known.attempts, known.usage)


def _row(fact: TaskFacts) -> str:
    task = fact.task
    box = "x" if not task.open else " "
    kind = "sub-goal " if task.subgoal else ""
    parts = [fact.state]
    if fact.pr is not None:
        parts.append(f"PR #{fact.pr.number}" + (" merged" if fact.pr.merged else ""))
    if fact.attempts is not None:
        parts.append(f"attempts {fact.attempts}")
    if fact.usage is not None:
        parts.append(f"{fact.usage.total_tokens:,} tokens · ${fact.usage.cost_usd:.2f}")
    deps = (
        f" (after {', '.join(f'#{n}' for n in sorted(task.spec.depends_on))})"
        if task.spec.depends_on and task.open
        else ""
    )
    return f"- [{box}] {kind}#{task.number} {plain(task.issue.title)}{deps} — {' · '.join(parts)}"


def plain(text: str) -> str:
    """`text` shown as written in Markdown: no tag, no hidden marker, one line."""
    return " ".join(text.split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def graph_nodes(facts: list[TaskFacts]) -> list[mermaid.Node]:
    """The status's tasks as graph nodes."""
    return [
        mermaid.Node(f.task.number, f.task.issue.title, f.state, f.task.subgoal, tuple(f.task.spec.depends_on))
        for f in facts
    ]


def totals(record: PlannerRecord, facts: list[TaskFacts]) -> Usage:
    """The planner's usage plus every task's recorded usage."""
    total = record.usage
    for fact in facts:
        if fact.usage is not None:
            total = total + fact.usage
    return total


def unpriced_note(total: Usage) -> str:
    """`· n calls unpriced (t tokens, not in the cost)` when some calls used a model the price table lacks."""
    if not total.unpriced_calls:
        return ""
    return f" · {total.unpriced_calls} calls unpriced ({total.unpriced_tokens:,} tokens, not in the cost)"


def render_status(record: PlannerRecord, facts: list[TaskFacts], *, paused: bool, note: str = "") -> str:
    """The status comment's Markdown, with the record as a hidden data marker.

    The graph is drawn with titles when the comment fits GitHub's limit, else with numbers
    only, else left out (the checklist says everything the graph does).
    """
    nodes = graph_nodes(facts)
    for titles in (True, False):
        text = _status_text(record, facts, paused, note, mermaid.block(nodes, titles=titles))
        if len(text) <= MAX_BODY_CHARS - HEADROOM:
            return text
    return _status_text(
        record,
        facts,
        paused,
        note,
        "_(The graph is left out: the comment would be over GitHub's size limit.)_" if nodes else "",
    )


def _status_text(record: PlannerRecord, facts: list[TaskFacts], paused: bool, note: str, graph: str) -> str:
    closed = sum(1 for f in facts if not f.task.open)
    head = f"### Agent Orchestra plan (version {record.version}): {closed}/{len(facts)} closed"
    lines = [markers.tag(STATUS_MARKER), head]
    if paused:
        lines.append("\n**Paused**: no new work starts; `/orchestra resume` continues.")
    lines += approval_lines(record)
    if note:
        lines.append(f"\n{note}")
    if graph:
        lines.append(f"\n{graph}")
    lines.append("")
    lines += [_row(f) for f in facts] or ["(no tasks yet)"]
    total = totals(record, facts)
    lines.append(
        f"\nTokens so far: {total.total_tokens:,} (planner {record.usage.total_tokens:,}) · "
        f"cost ${total.cost_usd:.2f}{unpriced_note(total)}"
    )
    if record.notes:
        lines.append("\n**Design decisions**\n" + "\n".join(f"- {plain(n)}" for n in record.notes))
    lines.append("\n" + markers.data_marker(RECORD_MARKER, record.model_dump(mode="json")))
    return "\n".join(lines)


def approval_lines(record: PlannerRecord) -> list[str]:
    """Who approved the goal text the planner uses, and whether the goal's text differs from it now."""
    approval = record.approval
    if approval is None:
        return []
    if approval.withdrawn:
        return [
            f"\n**The goal text's approval was withdrawn**: {approval.withdrawn} Someone with write access: "
            "`/orchestra plan` approves the current text, `/orchestra resume` continues."
        ]
    lines = [
        f"\n_Goal text approved by @{approval.by} ({approval.how}, {approval.since}); "
        f"SHA-256 `{approval.sha256[:12]}`._"
    ]
    edit = record.unapproved_edit
    if edit is not None:
        lines.append(
            f"**The goal's text differs from the approved one**: @{edit.by} edited it on {edit.at} "
            "without write access, so the planner keeps using the approved text. Someone with write "
            "access can approve the current text with `/orchestra plan`."
        )
    return lines


def _duration(start: str | None) -> str:
    if not start:
        return "unknown"
    try:
        seconds = int((datetime.now(UTC) - datetime.fromisoformat(start)).total_seconds())
    except ValueError:
        return "unknown"
    hours, rest = divmod(max(seconds, 0), 3600)
    return f"{hours}h {rest // 60}m" if hours else f"{rest // 60}m {rest % 60}s"


def render_summary(record: PlannerRecord, facts: list[TaskFacts]) -> str:
    """The closing summary: tasks, PRs, time, tokens, cost."""
    done = [f for f in facts if f.state == "done"]
    dropped = [f for f in facts if f.state == "not planned"]
    prs = [f"#{f.pr.number}" for f in facts if f.pr is not None]
    total = totals(record, facts)
    lines = [
        "### Goal complete",
        "",
        f"- tasks: {len(done)} done, {len(dropped)} closed as not planned, {len(facts)} in all",
        f"- pull requests: {', '.join(prs) or 'none found'}",
        f"- time since planning began: {_duration(record.started_at)}",
        f"- tokens: {total.total_tokens:,} (planner {record.usage.total_tokens:,}; input {total.input_tokens:,}, "
        f"output {total.output_tokens:,})",
        f"- cost: ${total.cost_usd:.2f}{unpriced_note(total)}",
    ]
    return "\n".join(lines)
