"""The in-process executor takes waiting jobs by queue (urgent, default, implement), and waits for
a delayed submission on a timer, not on a worker."""

from __future__ import annotations

import threading

from bot.queue.executors import InlineExecutor
from bot.queue.kinds import JobRequest
from tests.support.waiting import wait_for


def _job(kind: str, number: int) -> JobRequest:
    if kind == "maybe_merge":
        return JobRequest.make(
            kind, repo="o/r", pr=number, branch=f"b{number}", head_sha=f"{number:040d}", installation_id=None
        )
    return JobRequest.make(kind, repo="o/r", number=number, installation_id=None)


def test_merges_before_new_implementations_before_waiting_planning() -> None:
    started: list[str] = []
    gate = threading.Event()

    def perform(job: JobRequest) -> None:
        started.append(f"{job.kind}:{job.args.get('number', job.args.get('pr'))}")
        if len(started) == 1:
            assert gate.wait(10)

    executor = InlineExecutor(workers=1, perform=perform)
    try:
        executor.submit(_job("implement", 1))  # takes the only worker until the gate opens
        wait_for(lambda: started, what="the first job started")
        executor.submit(_job("implement", 2))
        executor.submit(_job("plan", 3))
        executor.submit(_job("maybe_merge", 4))
        executor.submit(_job("implement", 5))
        gate.set()
        executor.drain(timeout=10)
    finally:
        executor.shutdown()
    assert started == ["implement:1", "maybe_merge:4", "plan:3", "implement:2", "implement:5"]
    assert len(executor.waits) == 5


def test_a_cancelled_waiting_job_never_runs_and_the_rest_do() -> None:
    ran: list[int] = []
    gate = threading.Event()

    def perform(job: JobRequest) -> None:
        ran.append(job.args["number"])
        if len(ran) == 1:
            assert gate.wait(10)

    executor = InlineExecutor(workers=1, perform=perform)
    try:
        executor.submit(_job("implement", 1))
        wait_for(lambda: ran, what="the first job started")
        executor.submit(_job("implement", 2))
        executor.submit(_job("implement", 3))
        assert executor.cancel(_job("implement", 2).job_id)
        assert not executor.live(_job("implement", 2).job_id)
        gate.set()
        executor.drain(timeout=10)
    finally:
        executor.shutdown()
    assert ran == [1, 3]


def test_submit_later_holds_no_worker() -> None:
    ran: list[int] = []
    executor = InlineExecutor(workers=1, perform=lambda job: ran.append(job.args["number"]))
    try:
        executor.submit_later(_job("implement", 1), 0.3)
        executor.submit(_job("implement", 2))
        wait_for(lambda: ran == [2], what="the immediate job ran while the delayed one waits")
        wait_for(lambda: ran == [2, 1], what="the delayed job ran")
    finally:
        executor.shutdown()
