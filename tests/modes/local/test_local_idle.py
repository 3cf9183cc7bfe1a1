"""`orchestra run --redis` is not idle while a failed job's retry waits in RQ's scheduled registry (found by
the chaos suite: a worker killed mid-job, its job's retry due in 30 s, and the run judged the task stuck —
"working: no job is running it" — before the retry ran)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import redis

from bot.modes.local.run import jobs_idle
from bot.queue.executors import RQExecutor


def _session(executor: RQExecutor) -> Any:
    settled = SimpleNamespace(drain=lambda timeout=0: True)
    return SimpleNamespace(hub=SimpleNamespace(ci=settled, events=settled), executor=executor)


def test_a_scheduled_retry_keeps_the_run_busy(redis_conn: redis.Redis) -> None:
    executor = RQExecutor(redis_conn)
    assert jobs_idle(_session(executor))
    executor.queues["implement"].enqueue_at(
        datetime.now(UTC) + timedelta(seconds=30), "os.getpid", job_id="implement-retry-later"
    )
    assert not jobs_idle(_session(executor))
