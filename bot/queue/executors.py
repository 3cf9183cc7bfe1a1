"""Executors decide where a job runs: RQ on Redis (`RQExecutor`) or a thread pool in-process.

Both keep at most one live job per id (`bot/queue/kinds.py`): a job with the same id that is
still waiting is not submitted again ("already live"); one that is running runs once more when
it ends (`bot/queue/runs.py`: a trigger is never lost); one that finished, failed or was stopped
is replaced by the new submission.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from datetime import datetime
from typing import Any

import redis
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

from bot.errors import QueueUnavailable
from bot.queue import runs
from bot.queue.kinds import QUEUES, JobRequest, SubmitResult

#: In-process, a free worker takes the waiting job of the first queue in this order (as RQ workers
#: listen on `urgent`, then `default`, then `implement`): merges and fixes before new implementations.
QUEUE_RANK = {name: rank for rank, name in enumerate(QUEUES)}

log = logging.getLogger(__name__)

#: Job states in which a job will still run (or is running): a second copy is not enqueued.
LIVE_STATES = frozenset(
    {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED, JobStatus.CREATED}
    | {status for status in JobStatus if status.value in ("rate_limited", "ready_to_enqueue")}
)
#: Seconds between RQ's retries of a failed job (its count is the kind's `retries`).
RETRY_INTERVALS = [30, 120, 600]


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
                    seen = runs.note_submission(self.connection, jid, job.spec.timeout + 60)
                    if seen == "again":
                        return SubmitResult(jid, job.kind, new=False)
                    if seen == "finished":
                        self._await_end(jid)
                    if self._live(jid):
                        return SubmitResult(jid, job.kind, new=False)
            return SubmitResult(jid, job.kind, new=False)  # replaced meanwhile by another process
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise QueueUnavailable(f"cannot enqueue {jid}: {exc}") from exc

    def _enqueue(self, job: JobRequest) -> None:
        spec = job.spec
        retry = Retry(max=spec.retries, interval=RETRY_INTERVALS[: spec.retries]) if spec.retries else None
        self.queues[spec.queue].enqueue_call(
            runs.run_job,
            kwargs=dict(job.args),
            meta={runs.KIND_META: job.kind},
            timeout=spec.timeout,
            job_id=job.job_id,
            retry=retry,
            description=f"{job.kind} {job.args}",
            unique=True,  # atomic: two web processes racing enqueue one job
        )

    def _await_end(self, jid: str, bound_s: float = 5.0) -> None:
        """A job past its last check is still marked started for a moment: wait (bounded) until
        RQ records its end, so the new submission replaces it instead of folding into it."""
        deadline = time.monotonic() + bound_s
        while time.monotonic() < deadline:
            status = self.connection.hget(Job.key_for(jid), "status")
            if status is None or (status.decode() if isinstance(status, bytes) else str(status)) != "started":
                return
            time.sleep(0.005)
        log.warning("job %s still marked started %.0fs after its last check", jid, bound_s)

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

    def failed(self, job_id: str) -> bool:
        """True when RQ keeps the job as failed (its retries spent; kept `failure_ttl`, a year by default)."""
        try:
            return Job.fetch(job_id, connection=self.connection).get_status(refresh=False) == JobStatus.FAILED
        except NoSuchJobError:
            return False
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise QueueUnavailable(f"cannot read job {job_id}: {exc}") from exc

    def schedule(self, job: JobRequest, at: datetime) -> SubmitResult:
        """Enqueue `job` at `at` (RQ's scheduler, on in `orchestra worker`); nothing when its id exists."""
        spec = job.spec
        try:
            self.queues[spec.queue].enqueue_at(
                at,
                runs.run_job,
                kwargs=dict(job.args),
                meta={runs.KIND_META: job.kind},
                timeout=spec.timeout,
                job_id=job.job_id,
                description=f"{job.kind} {job.args}",
                unique=True,
            )
        except DuplicateJobError:
            return SubmitResult(job.job_id, job.kind, new=False)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise QueueUnavailable(f"cannot schedule {job.job_id}: {exc}") from exc
        return SubmitResult(job.job_id, job.kind, new=True)

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


#: How an in-process executor runs one job to its end (a runtime's `perform`).
Perform = Callable[[JobRequest], Any]


class InlineExecutor:
    """Jobs on a thread pool in this process (the Action, local mode, the demo).

    Per id, a job is waiting, running, or gone. A submission while it waits folds into it; while
    it runs, the job runs once more when it ends (a trigger is never lost); otherwise it is new.
    With `retry_delays`, a failed job runs again after each delay, up to its kind's `retries`
    (as RQ retries); without, a failure is final at once (the Action reports it).

    Waiting jobs are taken by priority: the kind's queue (`urgent` before `default` before
    `implement`, as RQ workers listen), then submission order. `submit_later` waits on a timer
    thread, never on a worker.
    """

    def __init__(self, workers: int = 4, perform: Perform | None = None, retry_delays: Sequence[float] = ()) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="orchestra-job")
        self._perform = perform
        self.retry_delays = tuple(retry_delays)
        self._lock = threading.Lock()
        self._live: dict[str, Future[Any]] = {}
        self._state: dict[str, str] = {}  # id -> "waiting" | "running" | "again"
        self._queue_of: dict[str, str] = {}  # id -> its kind's queue (kept after it ends; read only while in _state)
        self.failures: dict[str, BaseException] = {}
        self.results: dict[str, Any] = {}
        self._waiting: list[tuple[int, int, str, JobRequest, float]] = []  # heap: (rank, seq, id, job, submitted)
        self._seq = itertools.count()
        self._timers: set[threading.Timer] = set()
        #: Seconds each job waited between its submission and its start (the bench reads them).
        self.waits: list[float] = []

    def bind(self, perform: Perform) -> None:
        """Say how this executor runs a job (a runtime's `perform`, once the runtime is composed)."""
        self._perform = perform

    def submit(self, job: JobRequest) -> SubmitResult:
        jid = job.job_id
        with self._lock:
            state = self._state.get(jid)
            if state is not None:
                if state != "waiting":
                    self._state[jid] = "again"
                return SubmitResult(jid, job.kind, new=False)
            self._state[jid] = "waiting"
            self._queue_of[jid] = job.spec.queue
            heapq.heappush(
                self._waiting,
                (QUEUE_RANK.get(job.spec.queue, len(QUEUE_RANK)), next(self._seq), jid, job, time.monotonic()),
            )
            # Each submission adds one runner; a runner takes the best waiting job, not necessarily this one.
            self._live[jid] = self._pool.submit(self._next)
        return SubmitResult(jid, job.kind, new=True)

    def submit_later(self, job: JobRequest, delay_s: float) -> None:
        """Submit `job` after `delay_s` seconds, from a timer thread (no worker waits for it)."""

        def fire() -> None:
            with self._lock:
                self._timers.discard(timer)
            self.submit(job)

        timer = threading.Timer(delay_s, fire)
        timer.daemon = True
        with self._lock:
            self._timers.add(timer)
        timer.start()

    def _next(self) -> Any:
        """A runner: the waiting job first in priority order (none when it was cancelled meanwhile)."""
        with self._lock:
            while self._waiting:
                _rank, _seq, jid, job, submitted = heapq.heappop(self._waiting)
                if self._state.get(jid) == "waiting":
                    break
            else:
                return None
        return self._run(jid, job, submitted)

    def live(self, job_id: str) -> bool:
        with self._lock:
            return job_id in self._state

    def queued(self, queue: str) -> int:
        """Jobs of `queue` waiting for a free worker now (the landing job asks how many implementations are)."""
        with self._lock:
            return sum(
                1 for jid, state in self._state.items() if state == "waiting" and self._queue_of.get(jid) == queue
            )

    def failed(self, job_id: str) -> bool:
        with self._lock:
            return job_id in self.failures and job_id not in self._state

    def cancel(self, job_id: str) -> bool:
        with self._lock:
            if self._state.get(job_id) == "waiting":
                del self._state[job_id]  # its runner finds it gone and takes the next waiting job
                return True
            return False

    def _run(self, jid: str, job: JobRequest, submitted: float | None = None) -> Any:
        if self._perform is None:
            raise RuntimeError("an InlineExecutor runs jobs once it is bound to a runtime's perform")
        if submitted is not None:
            self.waits.append(time.monotonic() - submitted)
        for _round in range(runs.MAX_RERUNS + 1):
            with self._lock:
                self._state[jid] = "running"
            try:
                result = self._perform_with_retries(jid, job)
            except Exception as exc:  # a job's failure is recorded, as RQ's failed registry would
                log.exception("job %s failed", jid)
                with self._lock:
                    self.failures[jid] = exc
                    self._state.pop(jid, None)
                raise
            self.results[jid] = result
            self.failures.pop(jid, None)
            with self._lock:
                if self._state.get(jid) != "again" or _round == runs.MAX_RERUNS:
                    self._state.pop(jid, None)
                    return result
            log.info("job %s runs again: triggered while it ran", jid)
        return None

    def _perform_with_retries(self, jid: str, job: JobRequest) -> Any:
        assert self._perform is not None
        delays = self.retry_delays[: job.spec.retries]
        for delay in delays:
            try:
                return self._perform(job)
            except Exception as exc:
                log.warning("job %s failed (%s: %s); retrying in %.1fs", jid, type(exc).__name__, exc, delay)
                time.sleep(delay)
        return self._perform(job)

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
        with self._lock:
            timers, self._timers = list(self._timers), set()
        for timer in timers:
            timer.cancel()
        self._pool.shutdown(wait=True)
