"""Executors decide where a job runs: RQ on Redis (`RQExecutor`) or a thread pool in-process.

Both keep at most one live job per id (`bot/queue/jobs.py`): a job with the same id that is
queued, started, deferred or scheduled is not submitted again ("already live"); one that
finished, failed or was stopped is replaced by the new submission.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass
from typing import Any, Protocol

import redis
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

from bot.errors import QueueUnavailable
from bot.queue.jobs import QUEUES, JobRequest

log = logging.getLogger(__name__)

#: Job states in which a job will still run (or is running): a second copy is not enqueued.
LIVE_STATES = frozenset(
    {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED, JobStatus.CREATED}
    | {status for status in JobStatus if status.value in ("rate_limited", "ready_to_enqueue")}
)
#: Seconds between RQ's retries of a failed job (its count is the kind's `retries`).
RETRY_INTERVALS = [30, 120, 600]


@dataclass(frozen=True)
class SubmitResult:
    """What `submit` did: the job's id, and False when an identical job was already live."""

    job_id: str
    kind: str
    new: bool


class Executor(Protocol):
    """Where jobs run."""

    def submit(self, job: JobRequest) -> SubmitResult:
        """Run `job` (eventually), unless a job with its id is already live."""
        ...

    def live(self, job_id: str) -> bool:
        """True while a job with this id is waiting to run or running."""
        ...

    def cancel(self, job_id: str) -> bool:
        """Drop the job if it has not started; True when a waiting job was dropped. Running jobs finish."""
        ...


class RQExecutor:
    """Jobs on RQ queues (`urgent`, `default`, `implement`); run by `orchestra worker`."""

    def __init__(self, connection: redis.Redis) -> None:
        self.connection = connection
        self.queues = {name: Queue(name, connection=connection) for name in QUEUES}

    @classmethod
    def from_url(cls, url: str) -> RQExecutor:
        # Short timeouts: the web process must answer fast even when Redis is gone.
        return cls(redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5))

    def submit(self, job: JobRequest) -> SubmitResult:
        jid = job.job_id
        try:
            # Optimistic: a new id costs one atomic enqueue; only a clash looks at the old job.
            for _attempt in range(2):
                try:
                    self._enqueue(job)
                    return SubmitResult(jid, job.kind, new=True)
                except DuplicateJobError:
                    if self._live(jid):
                        return SubmitResult(jid, job.kind, new=False)
            return SubmitResult(jid, job.kind, new=False)  # replaced meanwhile by another process
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise QueueUnavailable(f"cannot enqueue {jid}: {exc}") from exc

    def _enqueue(self, job: JobRequest) -> None:
        spec = job.spec
        retry = Retry(max=spec.retries, interval=RETRY_INTERVALS[: spec.retries]) if spec.retries else None
        self.queues[spec.queue].enqueue_call(
            spec.func,
            kwargs=dict(job.args),
            timeout=spec.timeout,
            job_id=job.job_id,
            retry=retry,
            description=f"{job.kind} {job.args}",
            unique=True,  # atomic: two web processes racing enqueue one job
        )

    def _live(self, jid: str) -> bool:
        """True when the job is live; a finished/failed one is deleted so it can be replaced."""
        status = self.connection.hget(Job.key_for(jid), "status")
        if status is None:
            return False
        text = status.decode() if isinstance(status, bytes) else str(status)
        if text in {state.value for state in LIVE_STATES}:
            return True
        with contextlib.suppress(NoSuchJobError):  # gone meanwhile (expired or replaced elsewhere)
            Job.fetch(jid, connection=self.connection).delete()
        return False

    def live(self, job_id: str) -> bool:
        try:
            return Job.fetch(job_id, connection=self.connection).get_status(refresh=False) in LIVE_STATES
        except NoSuchJobError:
            return False
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise QueueUnavailable(f"cannot read job {job_id}: {exc}") from exc

    def cancel(self, job_id: str) -> bool:
        try:
            job = Job.fetch(job_id, connection=self.connection)
            if job.get_status(refresh=False) == JobStatus.STARTED or job.get_status(refresh=False) not in LIVE_STATES:
                return False
            job.delete()  # removes it from its queue and registries: it never runs
        except NoSuchJobError:
            return False
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise QueueUnavailable(f"cannot cancel job {job_id}: {exc}") from exc
        return True

    def queue_depths(self) -> dict[str, int]:
        """Jobs waiting per queue (for /metrics)."""
        try:
            return {name: queue.count for name, queue in self.queues.items()}
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise QueueUnavailable(f"cannot read queue depths: {exc}") from exc


def resolve(dotted: str) -> Callable[..., Any]:
    """The function a dotted path names (imported on first use, in the process that runs it)."""
    module, _, name = dotted.rpartition(".")
    func: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return func


class InlineExecutor:
    """Jobs on a thread pool in this process (the Action, local mode, the demo)."""

    def __init__(self, workers: int = 4, resolver: Callable[[str], Callable[..., Any]] = resolve) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="orchestra-job")
        self._resolver = resolver
        self._lock = threading.Lock()
        self._live: dict[str, Future[Any]] = {}
        self.failures: dict[str, BaseException] = {}
        self.results: dict[str, Any] = {}

    def submit(self, job: JobRequest) -> SubmitResult:
        jid = job.job_id
        with self._lock:
            running = self._live.get(jid)
            if running is not None and not running.done():
                return SubmitResult(jid, job.kind, new=False)
            self._live[jid] = self._pool.submit(self._run, jid, job)
        return SubmitResult(jid, job.kind, new=True)

    def live(self, job_id: str) -> bool:
        with self._lock:
            future = self._live.get(job_id)
            return future is not None and not future.done()

    def cancel(self, job_id: str) -> bool:
        with self._lock:
            future = self._live.get(job_id)
            return future is not None and future.cancel()

    def _run(self, jid: str, job: JobRequest) -> Any:
        func = self._resolver(job.spec.func)
        try:
            result = func(**job.args)
        except Exception as exc:  # a job's failure is recorded, as RQ's failed registry would
            log.exception("job %s failed", jid)
            self.failures[jid] = exc
            raise
        self.results[jid] = result
        return result

    def drain(self, timeout: float = 30.0) -> None:
        """Wait until no job is running (jobs may submit more jobs); TimeoutError past `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                pending = [f for f in self._live.values() if not f.done()]
            if not pending:
                return
            wait_futures(pending, timeout=min(0.05, max(0.0, deadline - time.monotonic())))
        raise TimeoutError(f"inline jobs still running after {timeout}s")

    def queue_depths(self) -> dict[str, int]:
        with self._lock:
            return {"inline": sum(1 for f in self._live.values() if not f.done())}

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)
