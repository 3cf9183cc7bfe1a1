"""A trigger is never lost: a job submitted while the same job runs runs once more afterwards,
while submissions to a job still waiting fold into it (both executors; RQ with a real worker)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import redis
from rq import SimpleWorker

from bot import runtime
from bot.queue.executors import InlineExecutor, RQExecutor
from bot.queue.kinds import JOBS, JobKind, JobRequest
from bot.runtime import Runtime
from bot.settings import Settings
from tests.support import sample_jobs
from tests.support.waiting import wait_for


@pytest.fixture
def gated_kind() -> Iterator[sample_jobs.Gate]:
    """A job kind `gated` whose function blocks until the test opens the gate."""
    sample_jobs.GATE = gate = sample_jobs.Gate()
    JOBS["gated"] = JobKind(
        "gated", "default", 60, ("repo", "number", "installation_id"), ("repo", "number"), retries=0
    )
    runtime.install(Runtime(Settings(), RQExecutor.__new__(RQExecutor), jobs={"gated": run_gated}))
    yield gate
    gate.release.set()
    JOBS.pop("gated", None)
    runtime.reset()


def run_gated(_rt: Runtime, repo: str, number: int, installation_id: int | None = None) -> int:
    return sample_jobs.gated(repo, number, installation_id)


def perform(job: JobRequest) -> int:
    return sample_jobs.gated(**job.args)


def gated(number: int = 1) -> JobRequest:
    return JobRequest.make("gated", repo="o/r", number=number, installation_id=None)


def test_inline_submission_while_running_runs_again(gated_kind: sample_jobs.Gate) -> None:
    executor = InlineExecutor(workers=2, perform=perform)
    assert executor.submit(gated()).new
    assert gated_kind.started.acquire(timeout=10)
    assert not executor.submit(gated()).new  # folded into the running job ...
    assert not executor.submit(gated()).new  # ... however many times
    gated_kind.release.set()
    executor.drain(10)
    assert gated_kind.runs == 2  # ... which ran exactly once more
    assert not executor.live(gated().job_id)


def test_inline_submissions_while_waiting_fold_into_one_run(gated_kind: sample_jobs.Gate) -> None:
    executor = InlineExecutor(workers=1, perform=perform)
    executor.submit(gated(number=1))  # occupies the only thread
    assert gated_kind.started.acquire(timeout=10)
    assert executor.submit(gated(number=2)).new
    assert not executor.submit(gated(number=2)).new  # still waiting: folds
    gated_kind.release.set()
    executor.drain(10)
    assert gated_kind.runs == 2  # #1 once, #2 once


def test_rq_submission_while_running_runs_again(gated_kind: sample_jobs.Gate, redis_conn: redis.Redis) -> None:
    executor = RQExecutor(redis_conn)
    first = executor.submit(gated())
    seen: list[bool] = []

    def trigger_while_running() -> None:  # RQ's worker needs the main thread: this one submits
        assert gated_kind.started.acquire(timeout=20)
        seen.append(executor.submit(gated()).new)
        gated_kind.release.set()

    helper = threading.Thread(target=trigger_while_running, daemon=True)
    helper.start()
    SimpleWorker(["default"], connection=redis_conn).work(burst=True)
    helper.join(10)
    assert first.new and seen == [False]  # folded into the running job ...
    assert gated_kind.runs == 2  # ... which ran once more
    wait_for(lambda: not executor.live(first.job_id), timeout=10, what="the job to end")
    assert executor.submit(gated()).new  # once it has ended, a submission is a new job again
