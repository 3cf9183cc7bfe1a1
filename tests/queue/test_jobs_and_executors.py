"""Job ids are deterministic and RQ-safe; both executors keep at most one live job per id."""

from __future__ import annotations

import re
import threading

import pytest
import redis
from rq import Queue
from rq.job import Job

from bot.errors import QueueUnavailable
from bot.jobs import FUNCTIONS, plan_goal
from bot.queue import JOBS, InlineExecutor, JobRequest, RQExecutor

RQ_ID = re.compile(r"^[A-Za-z0-9_-]+$")


def plan(repo: str = "octo/cat.web", number: int = 12) -> JobRequest:
    return JobRequest.make("plan", repo=repo, number=number, installation_id=3)


def test_job_ids_are_deterministic_distinct_and_in_rqs_alphabet() -> None:
    ids = {
        plan().job_id,
        plan(repo="octo/cat_web").job_id,
        plan(repo="octo_cat/web").job_id,
        plan(number=13).job_id,
        JobRequest.make(
            "fix_ci", repo="o/r", pr=4, branch="orchestra/4-x", head_sha="ab12", installation_id=None
        ).job_id,
        JobRequest.make(
            "command", repo="o/r", number=4, comment_id=99, verb="status", text="", sender="ann", installation_id=None
        ).job_id,
    }
    assert len(ids) == 6
    assert all(RQ_ID.match(i) for i in ids)
    assert plan().job_id == plan().job_id == "plan-octo_scat_oweb-12"


def test_every_kind_names_a_bot_jobs_function_and_a_known_queue() -> None:
    assert set(FUNCTIONS) == set(JOBS)
    for kind in JOBS.values():
        assert FUNCTIONS[kind.name].__module__ == "bot.jobs"
        assert kind.queue in {"urgent", "default", "implement"}
        assert "installation_id" in kind.params and "installation_id" not in kind.id_fields
    assert JOBS["fix_ci"].queue == "urgent" and JOBS["plan"].queue == "default"


def test_a_request_with_wrong_arguments_is_refused() -> None:
    with pytest.raises(ValueError, match="missing"):
        JobRequest.make("plan", repo="o/r")
    with pytest.raises(ValueError, match="unknown job kind"):
        JobRequest.make("nope")


def test_rq_executor_enqueues_once_while_live_and_replaces_a_finished_job(redis_conn: redis.Redis) -> None:
    executor = RQExecutor(redis_conn)
    first = executor.submit(plan())
    second = executor.submit(plan())
    assert first.new and not second.new
    queue = Queue("default", connection=redis_conn)
    assert queue.job_ids == [first.job_id]
    job = Job.fetch(first.job_id, connection=redis_conn)
    assert job.func_name == "bot.queue.runs.run_job" and job.meta["orchestra_kind"] == "plan"
    assert FUNCTIONS[job.meta["orchestra_kind"]] is plan_goal
    assert job.kwargs == {"repo": "octo/cat.web", "number": 12, "installation_id": 3}
    assert job.timeout == JOBS["plan"].timeout and job.retries_left == JOBS["plan"].retries

    queue.remove(job)  # as a worker would take it; then it finishes
    job.set_status("finished")
    third = executor.submit(plan())
    assert third.new
    assert queue.job_ids == [first.job_id]


def test_rq_executor_routes_kinds_to_their_queues(redis_conn: redis.Redis) -> None:
    executor = RQExecutor(redis_conn)
    executor.submit(JobRequest.make("fix_ci", repo="o/r", pr=4, branch="b", head_sha="ab", installation_id=None))
    executor.submit(JobRequest.make("implement", repo="o/r", number=5, installation_id=None))
    assert executor.queue_depths() == {"urgent": 1, "default": 0, "implement": 1}


def test_rq_executor_without_redis_raises_queue_unavailable() -> None:
    executor = RQExecutor.from_url("redis://127.0.0.1:1/0")
    with pytest.raises(QueueUnavailable):
        executor.submit(plan())


def test_inline_executor_runs_jobs_and_keeps_one_live_copy() -> None:
    gate, started = threading.Event(), threading.Event()
    ran: list[dict] = []

    def job(**kwargs: object) -> str:
        started.set()
        gate.wait(5)
        ran.append(kwargs)
        return "done"

    executor = InlineExecutor(workers=2, perform=lambda request: job(**request.args))
    try:
        assert executor.submit(plan()).new
        assert started.wait(5)
        assert not executor.submit(plan()).new  # running: folded, and it runs once more at its end
        assert not executor.submit(plan()).new
        gate.set()
        executor.drain(10)
        assert ran == [{"repo": "octo/cat.web", "number": 12, "installation_id": 3}] * 2
        assert executor.results[plan().job_id] == "done"
        assert executor.submit(plan()).new  # finished: replaced
        executor.drain(10)
        assert len(ran) == 3
    finally:
        executor.shutdown()


def test_inline_executor_retries_a_failed_job_as_rq_would_and_then_keeps_it_failed() -> None:
    attempts: list[int] = []

    def flaky(**kwargs: object) -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("the forge hiccuped")
        return "done"

    retrying = InlineExecutor(workers=1, perform=lambda request: flaky(**request.args), retry_delays=(0.01, 0.01))
    failing = InlineExecutor(workers=1, perform=lambda request: flaky(**request.args))  # the Action: no retries
    try:
        retrying.submit(plan())
        retrying.drain(10)
        assert len(attempts) == 3 and retrying.results[plan().job_id] == "done"  # plan retries twice
        assert not retrying.failed(plan().job_id)
        attempts.clear()
        failing.submit(plan())
        failing.drain(10)
        assert len(attempts) == 1 and failing.failed(plan().job_id)
        assert not failing.failed(JobRequest.make("plan", repo="o/r", number=1, installation_id=None).job_id)
    finally:
        retrying.shutdown()
        failing.shutdown()


def test_rq_executor_says_which_job_failed(redis_conn: redis.Redis) -> None:
    executor = RQExecutor(redis_conn)
    job = JobRequest.make("sweep", repo="o/r", installation_id=None)
    assert not executor.failed(job.job_id)
    executor.submit(job)
    Job.fetch(job.job_id, connection=redis_conn).set_status("failed")
    assert executor.failed(job.job_id) and not executor.live(job.job_id)
