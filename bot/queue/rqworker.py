"""`OrchestraWorker`: RQ's forking worker with a claim lease that follows the job-monitoring interval.

RQ keeps a started job in its StartedJobRegistry while the worker heartbeats (every
`job_monitoring_interval`); the entry lapses `interval + 60 s` after the last beat, and the next
maintenance pass of any worker marks the job abandoned and retries it (its `Retry`) or fails it.
Here the grace is `2 × interval` (at least 5 s) — the same 60 s at RQ's default 30 s interval —
so a deployment (or a test) that beats faster also detects a dead worker faster; and an idle
worker wakes for maintenance at least every `maintenance_interval`, not only every `worker_ttl`.
With metrics on (`orchestra worker --metrics-port`), the worker counts each job run its work horse
measured (`bot/metrics/worker.py`). What its work horses read from the forge is kept in the workers'
Redis for the next one (`bot/queue/forgecache.py`).

A process running orchestra jobs also needs its runtime composed and installed: the App server's
`ServerWorker` (bot/modes/server.py, used by `orchestra worker`) and local mode's worker
(bot/modes/local/rqworker.py) do that around this class.
"""

from __future__ import annotations

import importlib
import logging
import os
import time
from collections.abc import Sequence
from typing import Any

from rq.job import Job
from rq.queue import Queue
from rq.worker import Worker

from bot import logs
from bot.forge import memo
from bot.metrics.worker import job_outbox
from bot.queue.forgecache import RedisStore
from bot.queue.runs import KIND_META
from bot.settings import parse_log_level

MIN_GRACE_S = 5


def preload(modules: Sequence[str]) -> float:
    """Import `modules` in this (parent) process; the seconds it took. RQ forks a work horse per job,
    and a work horse inherits what its parent imported: importing the job modules and the model SDKs
    once here saves each job importing them again after the fork (about 0.45 CPU-s a job)."""
    started = time.monotonic()
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:  # an optional SDK that is absent: its jobs import (and fail) as before
            logging.getLogger(__name__).info("preload: %s not imported: %s", name, exc)
    return time.monotonic() - started


class OrchestraWorker(Worker):
    """A forking RQ worker whose started jobs lapse `2 × job_monitoring_interval` after the last heartbeat."""

    #: The worker's log lines when nothing configured logging before it (`bot/logs.py`): local mode's
    #: workers write human lines; the App server's (`ServerWorker`) JSON.
    log_format = "human"

    #: Modules imported before the first fork (`preload`); the runtime's composition roots name them.
    preload_modules: Sequence[str] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        preload(self.preload_modules)
        # what a work horse reads from the forge outlives it (bot/queue/forgecache.py)
        memo.share(RedisStore(self.connection))
        if not logging.getLogger().handlers:  # job outcomes (bot.*) in the worker's log, as RQ's own lines
            kind = logs.parse_format(os.environ.get(logs.FORMAT_ENV), self.log_format)
            logs.configure(kind, parse_log_level(os.environ.get("ORCHESTRA_LOG_LEVEL") or "INFO"))

    @property
    def lease_grace_s(self) -> int:
        return max(MIN_GRACE_S, 2 * int(self.job_monitoring_interval))

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        interval = int(self.job_monitoring_interval)
        if job.timeout and job.timeout > 0:
            return int(min(job.timeout - working_time, interval)) + self.lease_grace_s
        return interval + self.lease_grace_s

    def execute_job(self, job: Job, queue: Queue) -> None:
        # With `orchestra worker --metrics-port`, this process counts what the work horse measured.
        with job_outbox(str(job.meta.get(KIND_META) or job.func_name)):
            super().execute_job(job, queue)

    @property
    def dequeue_timeout(self) -> int:
        return max(1, min(self.worker_ttl - 15, int(self.maintenance_interval)))
