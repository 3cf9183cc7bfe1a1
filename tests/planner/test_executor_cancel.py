"""Both executors answer `live(job_id)` and `cancel(job_id)`: a waiting job is dropped and never runs,
a running one is not cancelled, an unknown id is neither live nor cancelled."""

from __future__ import annotations

import threading

import redis
from rq import Queue

from bot.queue import InlineExecutor, JobRequest, RQExecutor


def plan(number: int) -> JobRequest:
    return JobRequest.make("plan", repo="o/r", number=number, installation_id=None)


def test_rq_executor_live_and_cancel(redis_conn: redis.Redis) -> None:
    executor = RQExecutor(redis_conn)
    job = plan(1)
    assert not executor.live(job.job_id) and not executor.cancel(job.job_id)
    executor.submit(job)
    assert executor.live(job.job_id)
    assert executor.cancel(job.job_id)
    assert not executor.live(job.job_id)
    assert Queue("default", connection=redis_conn).job_ids == []
    assert executor.submit(job).new  # a cancelled job can be submitted again


def test_inline_executor_cancels_only_waiting_jobs() -> None:
    release = threading.Event()
    started = threading.Event()

    def blocking(_job: object) -> None:
        started.set()
        release.wait(10)

    executor = InlineExecutor(workers=1, perform=blocking)
    first, second = plan(1), plan(2)
    executor.submit(first)
    started.wait(10)
    executor.submit(second)
    assert executor.live(first.job_id) and executor.live(second.job_id)
    assert not executor.cancel(first.job_id)  # running: it finishes
    assert executor.cancel(second.job_id)
    release.set()
    executor.drain(10)
    assert not executor.live(first.job_id) and first.job_id in executor.results
    assert second.job_id not in executor.results
    executor.shutdown()
