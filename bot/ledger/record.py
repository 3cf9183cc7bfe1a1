"""The planner's memory of one goal, kept on the forge: a data marker in the goal's status comment.

It holds the plan version, a plan that is being published (so a job killed half way finishes
the same plan instead of asking the model again), which handoffs and re-plan requests were
already folded into the plan, the planner's own token use, the design decisions, and the
approval of the goal's text (its digest, who approved it, how and when) with the newest edit
nobody approved. The approved text itself is kept in its own bot comment on the goal (tag
`goal-text`, `approved_text_body`; `bot/planner/approval.py` writes it): a goal body may be nearly
as long as GitHub allows, which the status comment cannot hold next to the plan; the planner uses
that text only when its digest is the record's.
Handoffs (worker comments on tasks) and re-plan requests (bot comments on the goal written by
`/orchestra replan`) are found here too: both are bot comments carrying a data marker.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from bot.forge.client import Forge
from bot.forge.types import Comment
from bot.ledger import markers
from bot.ledger.comments import is_bot
from bot.ledger.goaltext import Approval, ApprovedText, GoalEdit
from bot.ledger.goaltree import GoalTask
from bot.ledger.labels import State
from bot.llm.types import Usage
from bot.repoconfig import RepoConfig

STATUS_MARKER = "status"
RECORD_MARKER = "planner"
HANDOFF_MARKER = "handoff"
REPLAN_MARKER = "replan"
TEXT_MARKER = "goal-text"
APPROVED_MARKER = "approved-goal"
#: The plan posted for approval (`planning.approval: required`; bot/planner/plan_gate.py).
PLAN_MARKER = "plan-approval"


class PlanApproval(BaseModel):
    """A person's approval of one plan version (`planning.approval: required`)."""

    version: int
    by: str
    at: str


class DaySpend(BaseModel):
    """Tokens and dollars spent on one UTC day."""

    tokens: int = 0
    usd: float = 0.0


class GoalSpend(BaseModel):
    """What a goal has spent (the planner and every task's PR): the total the status last saw, and by UTC date.

    Kept in the record (on the forge), so the spend breaker's accounts survive the loss of Redis.
    """

    tokens: int = 0
    usd: float = 0.0
    days: dict[str, DaySpend] = Field(default_factory=dict)

    #: Days kept: the per-day cap needs only today's.
    KEEP_DAYS: ClassVar[int] = 7

    def counted(self, total: Usage, today: str) -> GoalSpend:
        """This spend with whatever `total` adds to the last total seen charged to `today`."""
        tokens, usd = max(0, total.total_tokens - self.tokens), max(0.0, total.cost_usd - self.usd)
        if not tokens and not usd:
            return self
        day = self.days.get(today, DaySpend())
        days = {**self.days, today: DaySpend(tokens=day.tokens + tokens, usd=round(day.usd + usd, 6))}
        kept = dict(sorted(days.items())[-self.KEEP_DAYS :])
        return GoalSpend(
            tokens=max(self.tokens, total.total_tokens), usd=round(max(self.usd, total.cost_usd), 6), days=kept
        )

    def on(self, day: str) -> DaySpend:
        return self.days.get(day, DaySpend())


class DoneTask(BaseModel):
    """What the status shows of a task closed as done; it no longer changes, so it is read from its PR once."""

    pr: int | None = None
    merged: bool = False
    attempts: int | None = None
    usage: Usage | None = None


class PlannerRecord(BaseModel):
    """What the planner remembers about a goal between jobs."""

    version: int = 0
    started_at: str | None = None
    pending: dict[str, Any] | None = None
    handoffs_done: list[int] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    notes: list[str] = Field(default_factory=list)
    closed_at: str | None = None
    approval: Approval | None = None
    goal_edit: GoalEdit | None = None
    plan_approval: PlanApproval | None = None
    spend: GoalSpend = Field(default_factory=GoalSpend)
    #: Task number → its facts once it closed as done (bot/planner/status.py reads no PR for these).
    done: dict[int, DoneTask] = Field(default_factory=dict)

    def merged_with(self, newer: PlannerRecord) -> PlannerRecord:
        """`newer` with the processed handoffs of both and the newest approval and edit of either (two
        jobs may have written in between)."""
        done = sorted(set(self.handoffs_done) | set(newer.handoffs_done))
        return newer.model_copy(
            update={
                "handoffs_done": done,
                "version": max(self.version, newer.version),
                "approval": _newest(self.approval, newer.approval),
                "goal_edit": _newest(self.goal_edit, newer.goal_edit),
                "plan_approval": _newest(self.plan_approval, newer.plan_approval),
                "spend": newer.spend if newer.spend.tokens >= self.spend.tokens else self.spend,
                "done": {**self.done, **newer.done},
            }
        )

    def awaits_approval(self, config: RepoConfig, top_level: bool) -> bool:
        """True when the plan recorded but not published waits for a person's `/orchestra approve`."""
        if config.planning.approval != "required" or not top_level or self.pending is None:
            return False
        return self.plan_approval is None or self.plan_approval.version != self.version

    @property
    def unapproved_edit(self) -> GoalEdit | None:
        """The newest edit when it left the goal's text different from the approved one."""
        edit, approval = self.goal_edit, self.approval
        if edit is None or approval is None or edit.sha256 == approval.sha256 or edit.at < approval.since:
            return None
        return edit


def _newest(a: Any, b: Any) -> Any:
    """Of two stamped values (`.at`), the later; None loses."""
    if a is None or b is None:
        return a if b is None else b
    return b if b.at >= a.at else a


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def utc_day() -> str:
    """Today's UTC date, ``2026-11-29``: the key of per-day spend."""
    return datetime.now(UTC).date().isoformat()


def status_comment(forge: Forge, goal: int) -> Comment | None:
    """The bot's status comment on the goal, if it exists."""
    return next(
        (c for c in forge.list_comments(goal) if is_bot(forge, c) and markers.has_tag(c.body, STATUS_MARKER)), None
    )


def load_record(forge: Forge, goal: int, comments: list[Comment] | None = None) -> PlannerRecord:
    """The record in the status comment (a fresh one when there is none or it is unreadable)."""
    listing = comments if comments is not None else forge.list_comments(goal)
    for comment in listing:
        if is_bot(forge, comment) and markers.has_tag(comment.body, STATUS_MARKER):
            data = markers.read_data(comment.body, RECORD_MARKER)
            if isinstance(data, dict):
                try:
                    return PlannerRecord.model_validate(data)
                except ValueError:
                    return PlannerRecord()
    return PlannerRecord()


def approved_text_body(text: ApprovedText) -> str:
    """The `goal-text` comment: who approved the text, and the text itself in a hidden data marker."""
    approval = text.approval
    state = (
        f"**Approval withdrawn**: {approval.withdrawn}"
        if approval.withdrawn
        else "Edits by people without write access are not used until someone with write access approves "
        "them (`/orchestra plan` approves the current text)."
    )
    return "\n".join(
        [
            markers.tag(TEXT_MARKER),
            markers.data_marker(APPROVED_MARKER, text.model_dump(mode="json"), ensure_ascii=False),
            f"**The goal text the planner uses** was approved by @{approval.by} ({_HOW[approval.how]}) "
            f"on {approval.since}; SHA-256 `{approval.sha256[:12]}`. {state}",
        ]
    )


_HOW = {
    "label": "they made the issue a goal",
    "command": "with `/orchestra plan`",
    "edit": "they edited it",
    "bot": "the orchestra filed it",
}


def read_approved_text(forge: Forge, comments: list[Comment]) -> ApprovedText | None:
    """The approved text kept on the goal, when it is there, readable and intact (its digest matches)."""
    for comment in comments:
        if is_bot(forge, comment) and markers.has_tag(comment.body, TEXT_MARKER):
            data = markers.read_data(comment.body, APPROVED_MARKER)
            try:
                text = ApprovedText.model_validate(data)
            except ValueError:
                return None
            return text if text.intact else None
    return None


def handoff_comment(task: int, report_markdown: str) -> str:
    """The body of a worker's handoff comment on task `task` (the worker posts it; the planner reads it)."""
    return f"**Handoff report**\n\n{report_markdown.strip()}\n\n{markers.data_marker(HANDOFF_MARKER, {'task': task})}"


def read_handoffs(forge: Forge, task: int, done: set[int]) -> list[tuple[int, str]]:
    """(comment id, text) of the bot's handoff comments on `task` not in `done`."""
    found = []
    for comment in forge.list_comments(task):
        if comment.id in done or not is_bot(forge, comment) or not markers.has_tag(comment.body, HANDOFF_MARKER):
            continue
        found.append((comment.id, _strip_markers(comment.body)))
    return found


def _strip_markers(text: str) -> str:
    return re.sub(r"<!-- orchestra:.*?-->", "", text, flags=re.DOTALL).strip()


def replan_request_body(sender: str, text: str, comment_id: int, outcome: str | None = None) -> str:
    """The bot comment that holds a re-plan request until the plan job has applied it."""
    quoted = "\n".join(f"> {line}" for line in text.strip().splitlines()) or "> (no instructions)"
    state = {"comment": comment_id, "text": text, "sender": sender, "done": outcome is not None}
    head = (
        f"@{sender} re-planned with your guidance:\n\n{quoted}\n\n{outcome}"
        if outcome is not None
        else f"@{sender} re-planning with your guidance; I will edit this comment with what changed.\n\n{quoted}"
    )
    return f"{markers.tag(f'{REPLAN_MARKER}-{comment_id}')}\n{head}\n\n{markers.data_marker(REPLAN_MARKER, state)}"


def pending_replans(forge: Forge, comments: list[Comment]) -> list[dict[str, Any]]:
    """Re-plan requests on the goal that have not been applied yet, oldest first."""
    found = []
    for comment in comments:
        if not is_bot(forge, comment):
            continue
        data = markers.read_data(comment.body, REPLAN_MARKER)
        if isinstance(data, dict) and not data.get("done") and isinstance(data.get("comment"), int):
            found.append(data)
    return found


def unprocessed_handoffs(
    forge: Forge, config: RepoConfig, tasks: list[GoalTask], record: PlannerRecord
) -> list[tuple[int, int, str]]:
    """(task number, comment id, text) of the goal's handoffs not yet folded into the plan."""
    done = set(record.handoffs_done)
    found = []
    for task in tasks:
        state = task.state(config)
        if task.subgoal or (task.open and state in (None, State.WAITING, State.READY)):
            continue  # no worker has run on it yet
        found += [(task.number, cid, text) for cid, text in read_handoffs(forge, task.number, done)]
    return found
