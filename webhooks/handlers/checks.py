"""Checks: a failure on an orchestra branch wakes its CI fixer; a success asks whether to merge."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.queue.kinds import JobRequest
from webhooks.event import Event, orchestra_task_number
from webhooks.router import Router

router = Router()
FAILED = frozenset({"failure", "timed_out", "startup_failure"})


def check_jobs(event: Event, conclusion: str | None, branch: str | None, sha: str | None,
               pulls: list[Any]) -> Iterator[JobRequest]:
    """A finished check on an orchestra branch: `fix_ci` when it failed, `maybe_merge` when it passed."""
    if orchestra_task_number(branch) is None or not sha:
        return
    pr = next((p.get("number") for p in pulls if isinstance(p, dict) and p.get("number")), None)
    if conclusion in FAILED:
        yield event.job("fix_ci", pr=pr, branch=branch, head_sha=sha)
    elif conclusion == "success":
        yield event.job("maybe_merge", pr=pr, branch=branch, head_sha=sha)


@router.register("check_suite", action="completed")
def on_check_suite_completed(event: Event) -> Iterator[JobRequest]:
    suite = event.payload.get("check_suite") or {}
    yield from check_jobs(event, suite.get("conclusion"), suite.get("head_branch"), suite.get("head_sha"),
                     suite.get("pull_requests") or [])


@router.register("check_run", action="completed")
def on_check_run_completed(event: Event) -> Iterator[JobRequest]:
    run = event.payload.get("check_run") or {}
    suite = run.get("check_suite") or {}
    yield from check_jobs(event, run.get("conclusion"), suite.get("head_branch"), run.get("head_sha"),
                     run.get("pull_requests") or [])


@router.register("status")
def on_status(event: Event) -> Iterator[JobRequest]:
    state = event.payload.get("state")
    conclusion = "failure" if state in ("failure", "error") else state
    sha = event.payload.get("sha")
    for branch in event.payload.get("branches") or []:
        yield from check_jobs(event, conclusion, branch.get("name"), sha, [])
