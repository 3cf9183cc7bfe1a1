"""Goals: an issue labelled `<prefix>:goal` (opened with it, or labelled later) is planned; an edit of
a goal's title or body is checked; a goal whose `<prefix>:paused` label a person removes dispatches again.

Any prefix is routed (the web process cannot read the repository's `label_prefix`); the plan
job plans only an issue that carries the repository's own goal label, and only once the person
who applied it may steer (it asks the forge; the web process cannot). An edit becomes a
`goal_edited` job with its sender and the digest of the text it left, so the job approves
exactly what a writer saved, never a later edit by someone else.
"""

from __future__ import annotations

from collections.abc import Iterator

from bot.ledger.goaltext import digest
from bot.ledger.labels import Kind, State, kind_of_label, state_of_label
from bot.queue.kinds import JobRequest
from webhooks.event import Event, labelled
from webhooks.payload import Fields
from webhooks.router import Router

router = Router()


@router.register("issues", action="opened")
def on_issues_opened(event: Event) -> Iterator[JobRequest]:
    issue = Fields(event.payload).obj("issue")
    if not labelled(issue, Kind.GOAL):
        return
    yield event.job("plan", number=issue.integer("number"))


@router.register("issues", action="labeled")
def on_issues_labeled(event: Event) -> Iterator[JobRequest]:
    payload = Fields(event.payload)
    label, issue = payload.obj("label"), payload.obj("issue")
    if kind_of_label(label.optional_text("name") or "") != Kind.GOAL or issue.optional_text("state") == "closed":
        return
    yield event.job("plan", number=issue.integer("number"))


@router.register("issues", action="edited")
def on_issues_edited(event: Event) -> Iterator[JobRequest]:
    payload = Fields(event.payload)
    issue, changes = payload.obj("issue"), payload.obj("changes")
    if (
        not labelled(issue, Kind.GOAL)
        or issue.optional_text("state") == "closed"
        or not ({"title", "body"} & set(changes.data))
    ):
        return
    yield event.job(
        "goal_edited",
        number=issue.integer("number"),
        sender=event.sender.get("login", ""),
        text_sha256=digest(issue.optional_text("title"), issue.optional_text("body")),
        edited_at=issue.optional_text("updated_at") or "",
    )


@router.register("issues", action="unlabeled")
def on_issues_unlabeled(event: Event) -> Iterator[JobRequest]:
    payload = Fields(event.payload)
    label, issue = payload.obj("label"), payload.obj("issue")
    if state_of_label(label.optional_text("name") or "") == State.PAUSED and labelled(issue, Kind.GOAL):
        yield event.repo_job("dispatch_repo")  # resumed by hand rather than with `/orchestra resume`
