"""Why a quiet run stands still: what waits for the person's review (the run waits), and what is stuck.

Called once nothing runs (no job, no CI, no delivery), the snapshot has not changed for a while,
and a sweep found nothing to do: every open task is then either waiting for the person on
purpose (a green PR left for them to merge under `--merge review`, or awaiting the approvals the
config asks for) or stuck until a person acts. Each stuck issue is named with its state and why:
`#12 needs-human: The merge conflict could not be resolved automatically — 3 of 3 conflict
attempts…`, `#9 waiting on #7 (needs-human)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.forge.client import Forge
from bot.ledger import comments, markers
from bot.ledger.failures import failure_marker
from bot.ledger.labels import State, label_name
from bot.ledger.record import PLAN_MARKER, load_record
from bot.modes.local.snapshot import DONE, Snapshot, TaskRow
from bot.repoconfig import RepoConfig

#: The longest "why" quoted from a failure comment.
WHY_CHARS = 160
_BOLD = re.compile(r"\*\*(.+?)\*\*")


@dataclass(frozen=True)
class Verdict:
    """What holds the goal: the person's review (`waiting`), or issues stuck without a person."""

    waiting: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)

    @property
    def is_stuck(self) -> bool:
        return bool(self.stuck) and not self.waiting

    def problem(self) -> str:
        return "nothing can move without a person:\n  " + "\n  ".join(self.stuck)


def judge(forge: Forge, config: RepoConfig, snapshot: Snapshot) -> Verdict:
    """The verdict on a quiet goal (see the module docstring). A stuck issue's comments are read for
    the why only when the run is about to end (nothing waits for the person's review)."""
    rows = [
        row
        for row in (*snapshot.subgoals, *snapshot.tasks)
        if row.state not in (DONE, "closed") and not (row in snapshot.subgoals and row.state == State.WORKING.value)
    ]  # a planned sub-goal: see its tasks
    waiting = [
        f"#{row.number}: PR #{row.pr} waits for you to review and merge it"
        for row in rows
        if row.state == State.REVIEW.value and row.pr_state == "open" and _left_to_people(config)
    ]
    explain = not waiting
    stuck = [
        f"#{snapshot.goal} (the goal) {what}{_why(forge, snapshot.goal, label) if explain else ''}"
        for label, what in ((State.PAUSED, "paused: `/orchestra resume` continues"), (State.NEEDS_HUMAN, "needs-human"))
        if label_name(config.label_prefix, label) in snapshot.goal_labels
    ]
    stuck += [
        _stuck(forge, snapshot, row, explain)
        for row in rows
        if not (row.state == State.REVIEW.value and row.pr_state == "open" and _left_to_people(config))
    ]
    if not snapshot.tasks and not snapshot.subgoals and not stuck:
        if _plan_awaits_approval(forge, snapshot.goal):
            waiting.append(f"#{snapshot.goal} (the goal): its plan waits for your `/orchestra approve`")
        else:
            stuck.append(f"#{snapshot.goal} (the goal) has no tasks: the planner produced none (see its comments)")
    return Verdict(waiting, stuck)


def _plan_awaits_approval(forge: Forge, goal: int) -> bool:
    """True when the planner posted the goal's plan for approval and nobody approved it yet."""
    if comments.find(forge, goal, PLAN_MARKER) is None:
        return False
    record = load_record(forge, goal)
    approval = record.plan_approval
    return record.pending is not None and (approval is None or approval.version != record.version)


def _left_to_people(config: RepoConfig) -> bool:
    return config.merge.policy == "review" or config.merge.required_approvals > 0


def _stuck(forge: Forge, snapshot: Snapshot, row: TaskRow, explain: bool) -> str:
    head = f"#{row.number} {row.state}"
    if row.state == State.WAITING.value:
        blockers = [snapshot.row(n) for n in row.depends_on]
        named = [f"#{b.number} ({b.state})" for b in blockers if b is not None and b.state not in (DONE, "closed")]
        return f"#{row.number} waiting on {', '.join(named)}" if named else f"{head}: its dependencies are done"
    state = State.NEEDS_HUMAN if row.state == State.NEEDS_HUMAN.value else None
    why = _why(forge, row.number, state) if explain else ""
    if state is not None:
        return f"{head}{why}"
    if row.state == State.REVIEW.value:
        return f"{head}: PR #{row.pr} is open and nothing is moving it{why}"
    return f"{head}: no job is running it{why}"


def _why(forge: Forge, number: int, state: State | None) -> str:
    """`: <headline> — <first line of detail>` of the issue's newest unresolved failure comment, if any."""
    failures = [
        c
        for c in comments.bot_comments(forge, number)
        if any(name.startswith(failure_marker("")) for name in markers.names(c.body))
        and "resolved by a later attempt" not in c.body
    ]
    if not failures:
        return ": see its last comments" if state == State.NEEDS_HUMAN else ""
    body = max(failures, key=lambda c: c.id).body
    headline = _BOLD.search(body)
    lines = [line.strip() for line in body.splitlines() if line.strip() and not line.startswith("<!--")]
    detail = next((line for line in lines if not line.startswith("**") and not line.startswith("_How")), "")
    text = " — ".join(part for part in ((headline.group(1).rstrip(".") if headline else ""), detail) if part)
    return f": {text[:WHY_CHARS]}{'…' if len(text) > WHY_CHARS else ''}"
