"""`DispatchExecutor` sends each task's implement job out once (one workflow run per task) and runs
everything else — and the implement job of the run's own task — on the executor it wraps."""

from __future__ import annotations

import pytest

from bot.queue.fanout import DispatchExecutor
from bot.queue.kinds import JobRequest, SubmitResult


class Recorder:
    def __init__(self) -> None:
        self.jobs: list[JobRequest] = []

    def submit(self, job: JobRequest) -> SubmitResult:
        self.jobs.append(job)
        return SubmitResult(job.job_id, job.kind, new=True)


def implement(number: int, repo: str = "o/r") -> JobRequest:
    return JobRequest.make("implement", repo=repo, number=number, installation_id=None)


def test_implement_jobs_are_dispatched_once_and_others_run_inside() -> None:
    inner, sent = Recorder(), []
    fanout = DispatchExecutor(inner, sent.append, local_tasks=[("O/R", 3)])
    plan = JobRequest.make("plan", repo="o/r", number=1, installation_id=None)
    results = [fanout.submit(job) for job in (plan, implement(2), implement(2), implement(3), implement(4))]
    assert [r.new for r in results] == [True, True, False, True, True]
    assert [j.args["number"] for j in sent] == [2, 4]
    assert [(j.kind, j.args["number"]) for j in inner.jobs] == [("plan", 1), ("implement", 3)]
    assert [j.args["number"] for j in fanout.dispatched] == [2, 4]


def test_a_failed_dispatch_can_be_tried_again() -> None:
    attempts: list[int] = []

    def flaky(job: JobRequest) -> None:
        attempts.append(job.args["number"])
        if len(attempts) == 1:
            raise ConnectionError("forge unreachable")

    fanout = DispatchExecutor(Recorder(), flaky)
    with pytest.raises(ConnectionError):
        fanout.submit(implement(5))
    assert fanout.dispatched == []
    assert fanout.submit(implement(5)).new
    assert attempts == [5, 5] and [j.args["number"] for j in fanout.dispatched] == [5]


def test_dispatched_tasks_count_as_live_and_are_not_cancelled_here() -> None:
    class Inner(Recorder):
        def live(self, job_id: str) -> bool:
            return job_id == "plan-o_sr-1"

        def cancel(self, job_id: str) -> bool:
            return job_id == "plan-o_sr-1"

    fanout = DispatchExecutor(Inner(), lambda job: None)
    fanout.submit(implement(2))
    assert fanout.live(implement(2).job_id) and not fanout.live(implement(3).job_id)
    assert fanout.live("plan-o_sr-1") and fanout.cancel("plan-o_sr-1")
    assert not fanout.cancel(implement(2).job_id)
