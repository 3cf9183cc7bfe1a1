"""Goals: an issue labelled `<prefix>:goal` (opened with it, or labelled later) is planned; a goal
whose `<prefix>:paused` label a person removes dispatches again.

Any prefix is routed (the web process cannot read the repository's `label_prefix`); the plan
job plans only an issue that carries the repository's own goal label.
"""

from __future__ import annotations

from collections.abc import Iterator

from bot.ledger.labels import Kind, State, kind_of_label, state_of_label
from bot.queue.kinds import JobRequest
from webhooks.event import Event, labelled
from webhooks.router import Router

router = Router()


@router.register("issues", action="opened")
def on_issues_opened(event: Event) -> Iterator[JobRequest]:
    issue = event.payload.get("issue") or {}
    if not labelled(issue, Kind.GOAL):
        return
    yield event.job("plan", number=issue["number"])


@router.register("issues", action="labeled")
def on_issues_labeled(event: Event) -> Iterator[JobRequest]:
    label = event.payload.get("label") or {}
    issue = event.payload.get("issue") or {}
    if kind_of_label(str(label.get("name", ""))) != Kind.GOAL or issue.get("state") == "closed":
        return
    yield event.job("plan", number=issue["number"])


@router.register("issues", action="unlabeled")
def on_issues_unlabeled(event: Event) -> Iterator[JobRequest]:
    label = event.payload.get("label") or {}
    issue = event.payload.get("issue") or {}
    if state_of_label(str(label.get("name", ""))) == State.PAUSED and labelled(issue, Kind.GOAL):
        yield event.repo_job("dispatch_repo")  # resumed by hand rather than with `/orchestra resume`
