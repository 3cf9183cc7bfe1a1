"""`orchestra run --redis`: the job of a local worker that dies runs again on another within seconds
(found by the chaos suite: with RQ's defaults a killed worker's job sat for minutes, until maintenance
every ten minutes found its lapsed heartbeat)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from rq import Queue, Retry
from rq.job import Job

from bot.modes.local.rqworker import DEAD_JOB_DETECTED_S
from tests.chaos.faults import children
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow


@pytest.mark.timeout(120)
def test_a_killed_local_workers_job_runs_again_on_another_within_seconds(
    tmp_path: Path, redis_conn: redis.Redis, redis_url: str
) -> None:
    env = {
        **os.environ,
        "ORCHESTRA_TOKEN": "lh_test_token",
        "ORCHESTRA_REDIS_URL": redis_url,
        "ORCHESTRA_API_URL": "http://127.0.0.1:9/api/v3",
        "ORCHESTRA_STATE_DIR": str(tmp_path / "state"),
    }
    workers = {
        name: subprocess.Popen(
            [sys.executable, "-m", "bot.modes.local.rqworker", name],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name in (f"lw-{os.getpid()}-1", f"lw-{os.getpid()}-2")
    }
    try:
        Queue("implement", connection=redis_conn).enqueue(
            "time.sleep", 300, job_id="sleepy", job_timeout=600, retry=Retry(max=1)
        )

        def runner() -> str | None:
            job = Job.fetch("sleepy", connection=redis_conn)
            return job.worker_name if job.get_status() == "started" and job.worker_name else None

        first = wait_for(runner, timeout=60, what="the job started")
        victim = workers[first]
        for pid in [victim.pid, *children(victim.pid)]:
            os.kill(pid, signal.SIGKILL)
        victim.wait(timeout=10)

        again = wait_for(
            lambda: (name := runner()) is not None and name != first and name,
            timeout=DEAD_JOB_DETECTED_S + 15,
            interval=0.2,
            what="the dead worker's job started again on the other worker",
        )
        assert again in workers
    finally:
        for proc in workers.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in workers.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
