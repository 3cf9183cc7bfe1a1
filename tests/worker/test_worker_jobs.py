"""A PR-maintenance job whose push lost the race to another job on the same PR runs again on the
moved branch instead of asking a person (the job boundary in bot/jobs.py)."""

from __future__ import annotations

from types import SimpleNamespace

from bot import jobs
from bot.errors import PushRejected
from bot.queue.kinds import JobRequest


def test_a_stale_push_in_a_pr_job_is_submitted_again_not_reported() -> None:
    submitted: list[JobRequest] = []
    # No forge at all: reporting a failure (a comment, the needs-human label) would crash here.
    ctx = SimpleNamespace(repo="o/r", executor=SimpleNamespace(submit=submitted.append), forge=None, config=None)
    again = JobRequest.make("resolve_conflict", repo="o/r", pr=3, base_sha="abc", installation_id=None)

    def core() -> str:
        raise PushRejected("`orchestra/2-x` moved on the forge and merging it conflicts in a.py")

    assert jobs._worker_job(ctx, "resolve_conflict", 2, 3, core, again) is None  # type: ignore[arg-type]
    assert submitted == [again]
