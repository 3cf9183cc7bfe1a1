"""Commands: a `/orchestra <verb>` comment becomes a command job (permission is checked there)."""

from __future__ import annotations

from collections.abc import Iterator

from bot.commands import parse
from bot.queue.kinds import JobRequest
from webhooks.event import Event
from webhooks.router import Router

router = Router()


@router.register("issue_comment", action="created")
def on_comment_created(event: Event) -> Iterator[JobRequest]:
    comment = event.payload.get("comment") or {}
    issue = event.payload.get("issue") or {}
    command = parse(comment.get("body"))
    if command is None or not issue.get("number"):
        return
    yield event.job(
        "command",
        number=issue["number"],
        comment_id=comment["id"],
        verb=command.verb,
        text=command.text,
        sender=event.sender.get("login", ""),
    )
