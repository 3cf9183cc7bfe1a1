"""Tasks: a closed task issue (labelled `<prefix>:task`) wakes its dependants and its goal's planner."""

from __future__ import annotations

from collections.abc import Iterator

from bot.ledger.labels import Kind
from bot.queue.kinds import JobRequest
from webhooks.event import Event, labelled
from webhooks.payload import Fields
from webhooks.router import Router

router = Router()


@router.register("issues", action="closed")
def on_issues_closed(event: Event) -> Iterator[JobRequest]:
    issue = Fields(event.payload).obj("issue")
    if not labelled(issue, Kind.TASK):
        return
    yield event.job("on_task_closed", number=issue.integer("number"))
