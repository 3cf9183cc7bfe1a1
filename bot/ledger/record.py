"""The planner's memory of one goal, kept on the forge: a data marker in the goal's status comment.

It holds the plan version, a plan that is being published (so a job killed half way finishes
the same plan instead of asking the model again), which handoffs and re-plan requests were
already folded into the plan, the planner's own token use, and the design decisions.
Handoffs (worker comments on tasks) and re-plan requests (bot comments on the goal written by
`/orchestra replan`) are found here too: both are bot comments carrying a data marker.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from bot.forge.client import Forge
from bot.forge.types import Comment
from bot.ledger import markers
from bot.ledger.comments import is_bot
from bot.ledger.goaltree import GoalTask
from bot.ledger.labels import State
from bot.llm.types import Usage
from bot.repoconfig import RepoConfig

STATUS_MARKER = "status"
RECORD_MARKER = "planner"
HANDOFF_MARKER = "handoff"
REPLAN_MARKER = "replan"


class PlannerRecord(BaseModel):
    """What the planner remembers about a goal between jobs."""

    version: int = 0
    started_at: str | None = None
    pending: dict[str, Any] | None = None
    handoffs_done: list[int] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    notes: list[str] = Field(default_factory=list)
    closed_at: str | None = None

    def merged_with(self, newer: PlannerRecord) -> PlannerRecord:
        """`newer` with the processed handoffs of both (two jobs may have written in between)."""
        done = sorted(set(self.handoffs_done) | set(newer.handoffs_done))
        return newer.model_copy(update={"handoffs_done": done, "version": max(self.version, newer.version)})


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def status_comment(forge: Forge, goal: int) -> Comment | None:
    """The bot's status comment on the goal, if it exists."""
    return next((c for c in forge.list_comments(goal)
                 if is_bot(forge, c) and markers.has_tag(c.body, STATUS_MARKER)), None)


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
    head = (f"@{sender} re-planned with your guidance:\n\n{quoted}\n\n{outcome}" if outcome is not None
            else f"@{sender} re-planning with your guidance; I will edit this comment with what changed.\n\n{quoted}")
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


def unprocessed_handoffs(forge: Forge, config: RepoConfig, tasks: list[GoalTask],
                         record: PlannerRecord) -> list[tuple[int, int, str]]:
    """(task number, comment id, text) of the goal's handoffs not yet folded into the plan."""
    done = set(record.handoffs_done)
    found = []
    for task in tasks:
        state = task.state(config)
        if task.subgoal or (task.open and state in (None, State.WAITING, State.READY)):
            continue  # no worker has run on it yet
        found += [(task.number, cid, text) for cid, text in read_handoffs(forge, task.number, done)]
    return found
