"""Checks: a failure on an orchestra branch wakes its CI fixer; a success asks whether to merge.

A check finishing on the merge queue's branch (`orchestra/queue/…`) wakes the repository's landing
job, and so does a green check on the default branch (a queue held while the default branch was red
goes on).
"""

from __future__ import annotations

from collections.abc import Iterator

from bot.ledger.batches import is_queue_branch
from bot.queue.kinds import JobRequest
from webhooks.event import Event, orchestra_task_number
from webhooks.payload import Fields
from webhooks.router import Router

router = Router()
FAILED = frozenset({"failure", "timed_out", "startup_failure"})


def check_jobs(
    event: Event, conclusion: str | None, branch: str | None, sha: str | None, pulls: list[Fields]
) -> Iterator[JobRequest]:
    """A finished check on an orchestra branch: `fix_ci` when it failed, `maybe_merge` when it passed;
    on the queue's branch, or green on the default branch: `land`."""
    if is_queue_branch(branch):
        if conclusion and conclusion != "pending":
            yield event.job("land")
        return
    default = Fields(event.payload).obj("repository").optional_text("default_branch")
    if branch and branch == default and conclusion == "success":
        yield event.job("land")
        return
    if orchestra_task_number(branch) is None or not sha:
        return
    pr = next((number for p in pulls if (number := p.optional_integer("number"))), None)
    if conclusion in FAILED:
        yield event.job("fix_ci", pr=pr, branch=branch, head_sha=sha)
    elif conclusion == "success":
        yield event.job("maybe_merge", pr=pr, branch=branch, head_sha=sha)


@router.register("check_suite", action="completed")
def on_check_suite_completed(event: Event) -> Iterator[JobRequest]:
    suite = Fields(event.payload).obj("check_suite")
    yield from check_jobs(
        event,
        suite.optional_text("conclusion"),
        suite.optional_text("head_branch"),
        suite.optional_text("head_sha"),
        suite.objects("pull_requests"),
    )


@router.register("check_run", action="completed")
def on_check_run_completed(event: Event) -> Iterator[JobRequest]:
    run = Fields(event.payload).obj("check_run")
    yield from check_jobs(
        event,
        run.optional_text("conclusion"),
        run.obj("check_suite").optional_text("head_branch"),
        run.optional_text("head_sha"),
        run.objects("pull_requests"),
    )


@router.register("status")
def on_status(event: Event) -> Iterator[JobRequest]:
    payload = Fields(event.payload)
    state = payload.optional_text("state")
    conclusion = "failure" if state in ("failure", "error") else state
    sha = payload.optional_text("sha")
    for branch in payload.objects("branches"):
        yield from check_jobs(event, conclusion, branch.optional_text("name"), sha, [])
