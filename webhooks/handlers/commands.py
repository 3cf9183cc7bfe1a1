"""Commands: a `/orchestra <verb>` comment becomes a command job (permission is checked there)."""

from __future__ import annotations

from collections.abc import Iterator

from bot.commands import parse
from bot.queue.kinds import JobRequest
from webhooks.event import Event
from webhooks.payload import Fields
from webhooks.router import Router

router = Router()


@router.register("issue_comment", action="created")
def on_comment_created(event: Event) -> Iterator[JobRequest]:
    payload = Fields(event.payload)
    comment = payload.obj("comment")
    command = parse(comment.optional_text("body"))
    if command is None:
        return
    yield event.job(
        "command",
        number=payload.obj("issue").integer("number"),
        comment_id=comment.integer("id"),
        verb=command.verb,
        text=command.text,
        sender=payload.obj("sender").optional_text("login") or "",
    )
