"""Goals: an issue labelled `orchestra:goal` (opened with it, or labelled later) is planned."""

from __future__ import annotations

from collections.abc import Iterator

from bot.queue.jobs import JobRequest
from bot.states import Kind, label_name
from webhooks.event import LABEL_PREFIX, Event, label_names
from webhooks.payload import Fields
from webhooks.router import Router

router = Router()
GOAL_LABEL = label_name(LABEL_PREFIX, Kind.GOAL)


@router.register("issues", action="opened")
def on_issues_opened(event: Event) -> Iterator[JobRequest]:
    issue = Fields(event.payload).obj("issue")
    if GOAL_LABEL not in label_names(issue):
        return
    yield event.job("plan", number=issue.integer("number"))


@router.register("issues", action="labeled")
def on_issues_labeled(event: Event) -> Iterator[JobRequest]:
    payload = Fields(event.payload)
    label, issue = payload.obj("label"), payload.obj("issue")
    if label.optional_text("name") != GOAL_LABEL or issue.optional_text("state") == "closed":
        return
    yield event.job("plan", number=issue.integer("number"))
