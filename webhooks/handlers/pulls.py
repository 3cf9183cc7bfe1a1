"""Pull requests: a merged orchestra PR closes its task; pushes to the default branch may cause conflicts;
reviews that request changes wake the PR's worker."""

from __future__ import annotations

from collections.abc import Iterator

from bot.queue.kinds import JobRequest
from webhooks.event import Event, orchestra_task_number
from webhooks.payload import Fields
from webhooks.router import Router

router = Router()
ZERO_SHA = "0" * 40


def _task_number(pull: Fields) -> int | None:
    """The task an orchestra PR works on (its head is `orchestra/<n>-…`), else None."""
    return orchestra_task_number(pull.obj("head").optional_text("ref"))


def _orchestra_pr(event: Event) -> Fields | None:
    pull = Fields(event.payload).obj("pull_request")
    return pull if _task_number(pull) is not None else None


@router.register("pull_request", action="closed")
def on_pull_request_closed(event: Event) -> Iterator[JobRequest]:
    pull = _orchestra_pr(event)
    if pull is None or not pull.flag("merged"):
        return
    yield event.job("on_task_closed", number=_task_number(pull))


@router.register("push")
def on_push(event: Event) -> Iterator[JobRequest]:
    payload = Fields(event.payload)
    repository = payload.obj("repository")
    default = repository.optional_text("default_branch") or repository.optional_text("master_branch")
    after = payload.optional_text("after")
    if not default or payload.optional_text("ref") != f"refs/heads/{default}" or not after or after == ZERO_SHA:
        return
    yield event.job("scan_conflicts", base_sha=after)


@router.register("pull_request_review", action="submitted")
def on_review_submitted(event: Event) -> Iterator[JobRequest]:
    pull = _orchestra_pr(event)
    review = Fields(event.payload).obj("review")
    if pull is None or (review.optional_text("state") or "").lower() != "changes_requested":
        return
    yield event.job("address_review", pr=pull.integer("number"), review_id=review.integer("id"))


@router.register("pull_request_review_comment", action="created")
def on_review_comment(event: Event) -> Iterator[JobRequest]:
    pull = _orchestra_pr(event)
    comment = Fields(event.payload).obj("comment")
    if pull is None:
        return
    # Comments of one review share its id, so a review with ten comments is one job.
    review_id = comment.optional_integer("pull_request_review_id") or comment.integer("id")
    yield event.job("address_review", pr=pull.integer("number"), review_id=review_id)
