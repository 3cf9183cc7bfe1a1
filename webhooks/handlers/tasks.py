"""Tasks: a closed task issue wakes its dependants and its goal's planner."""

from __future__ import annotations

from collections.abc import Iterator

from bot.queue.jobs import JobRequest
from bot.states import Kind, label_name
from webhooks.event import LABEL_PREFIX, Event, label_names
from webhooks.payload import Fields
from webhooks.router import Router

router = Router()
TASK_LABEL = label_name(LABEL_PREFIX, Kind.TASK)


@router.register("issues", action="closed")
def on_issues_closed(event: Event) -> Iterator[JobRequest]:
    issue = Fields(event.payload).obj("issue")
    if TASK_LABEL not in label_names(issue):
        return
    yield event.job("on_task_closed", number=issue.integer("number"))
