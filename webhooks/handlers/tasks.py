"""Tasks: a closed task issue (labelled `<prefix>:task`) wakes its dependants and its goal's planner; a
closed or reopened task changes what the repository may dispatch."""

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
    yield event.repo_job("dispatch_repo")  # its slot is free, whatever happens to the goal's job


@router.register("issues", action="reopened")
def on_issues_reopened(event: Event) -> Iterator[JobRequest]:
    issue = Fields(event.payload).obj("issue")
    if labelled(issue, Kind.TASK) or labelled(issue, Kind.GOAL):
        yield event.repo_job("dispatch_repo")  # open again: dispatch labels it and starts it within the cap
