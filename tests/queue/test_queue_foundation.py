"""RQ on the private Redis: a job enqueued here is run by a real `rq worker` process."""

import os
import subprocess
import sys
from pathlib import Path

from rq import Queue

from tests.support import sample_jobs

ROOT = Path(__file__).resolve().parents[2]


def test_real_rq_worker_runs_an_enqueued_job(redis_conn, redis_url) -> None:
    queue = Queue("foundation", connection=redis_conn)
    job = queue.enqueue(sample_jobs.add, 2, 3)
    result = subprocess.run(
        [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", redis_url, "--path", str(ROOT), "foundation"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    job.refresh()
    assert job.is_finished
    assert job.return_value() == 5


def test_private_redis_is_not_the_shared_one(redis_url) -> None:
    assert not redis_url.endswith(":6379/0") or os.environ.get("REDIS_URL")


def test_a_given_redis_url_gives_each_xdist_worker_its_own_database() -> None:
    from tests.support.redis_server import worker_url

    assert worker_url("redis://127.0.0.1:6380/0", "") == "redis://127.0.0.1:6380/0"  # not under xdist
    assert worker_url("redis://127.0.0.1:6380/0", "gw0") == "redis://127.0.0.1:6380/0"
    assert worker_url("redis://:pw@127.0.0.1:6380/2", "gw3") == "redis://:pw@127.0.0.1:6380/5"
    assert worker_url("redis://127.0.0.1:6380", "gw1") == "redis://127.0.0.1:6380/1"
