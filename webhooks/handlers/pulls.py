"""Pull requests: a merged orchestra PR closes its task; pushes to the default branch may cause conflicts;
reviews that request changes wake the PR's worker."""

from __future__ import annotations

from collections.abc import Iterator

from bot.queue.kinds import JobRequest
from webhooks.event import Event, orchestra_task_number
from webhooks.router import Router

router = Router()
ZERO_SHA = "0" * 40


def _orchestra_pr(event: Event) -> dict | None:
    pull = event.payload.get("pull_request") or {}
    head = (pull.get("head") or {}).get("ref")
    return pull if orchestra_task_number(head) is not None else None


@router.register("pull_request", action="closed")
def on_pull_request_closed(event: Event) -> Iterator[JobRequest]:
    pull = _orchestra_pr(event)
    if pull is None or not pull.get("merged"):
        return
    task = orchestra_task_number(pull["head"]["ref"])
    yield event.job("on_task_closed", number=task)


@router.register("push")
def on_push(event: Event) -> Iterator[JobRequest]:
    repository = event.payload.get("repository") or {}
    default = repository.get("default_branch") or repository.get("master_branch")
    after = event.payload.get("after")
    if not default or event.payload.get("ref") != f"refs/heads/{default}" or not after or after == ZERO_SHA:
        return
    yield event.job("scan_conflicts", base_sha=after)


@router.register("pull_request_review", action="submitted")
def on_review_submitted(event: Event) -> Iterator[JobRequest]:
    pull = _orchestra_pr(event)
    review = event.payload.get("review") or {}
    if pull is None or str(review.get("state", "")).lower() != "changes_requested":
        return
    yield event.job("address_review", pr=pull["number"], review_id=review["id"])


@router.register("pull_request_review_comment", action="created")
def on_review_comment(event: Event) -> Iterator[JobRequest]:
    pull = _orchestra_pr(event)
    comment = event.payload.get("comment") or {}
    if pull is None:
        return
    # Comments of one review share its id, so a review with ten comments is one job.
    yield event.job("address_review", pr=pull["number"], review_id=comment.get("pull_request_review_id") or comment["id"])
