"""The worker's metrics: job runs by kind and outcome, their durations, model tokens and cost by role,
forge calls by verb and the forge's rate limit left — counted by each RQ worker process.

RQ's worker forks a work horse per job. A horse that counted for itself would leave a set of
prometheus_client files per job (multiprocess mode writes one per process), so a busy worker
would fill its directory and slow every scrape. Instead the horse writes its `JobMeasure` as a
line to an outbox file (`bot/metrics/jobs.py`), and the worker process — long-lived, one set of
files each — reads it when the horse has ended and counts it (`job_outbox`). A horse that died
before it could write (killed, out of memory, past its timeout) is counted as outcome `lost`.

`orchestra worker --metrics-port` turns this on in its pool process (`enable`) before the worker
processes fork; they inherit it.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from bot.metrics import jobs
from bot.metrics.jobs import JobMeasure

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

#: Histogram buckets for a job run, in seconds: from a quick dispatch to an agent's long task.
JOB_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0)


class WorkerMetrics:
    """The counters of one worker process (every process's, when scraped from the shared directory)."""

    def __init__(self) -> None:
        from prometheus_client import (
            CollectorRegistry,
            Counter,
            Gauge,
            Histogram,
            disable_created_metrics,
        )

        disable_created_metrics()  # `_created` series exist only in single-process mode
        self.registry: CollectorRegistry = CollectorRegistry()
        r = self.registry
        self.jobs = Counter("orchestra_jobs", "Job runs by kind and outcome.", ["kind", "outcome"], registry=r)
        self.job_seconds = Histogram(
            "orchestra_job_seconds", "Duration of a job run.", ["kind"], buckets=JOB_BUCKETS, registry=r
        )
        self.tokens = Counter(
            "orchestra_model_tokens",
            "Model tokens by role and direction (input, output).",
            ["role", "direction"],
            registry=r,
        )
        self.cost = Counter("orchestra_model_cost_usd", "Model cost in US dollars by role.", ["role"], registry=r)
        self.forge_calls = Counter("orchestra_forge_calls", "Forge client calls by verb.", ["verb"], registry=r)
        self.rate_remaining = Gauge(
            "orchestra_forge_ratelimit_remaining",
            "The forge's X-RateLimit-Remaining last seen, by installation ('' for a token).",
            ["installation"],
            multiprocess_mode="mostrecent",
            registry=r,
        )

    def record(self, measure: JobMeasure) -> None:
        """Count one job run."""
        self.jobs.labels(kind=measure.kind, outcome=measure.outcome).inc()
        self.job_seconds.labels(kind=measure.kind).observe(measure.seconds)
        for role, usage in measure.usage.items():
            self.tokens.labels(role=role, direction="input").inc(usage.get("input_tokens", 0))
            self.tokens.labels(role=role, direction="output").inc(usage.get("output_tokens", 0))
            self.cost.labels(role=role).inc(usage.get("cost_usd", 0.0))
        for verb, count in measure.forge_calls.items():
            self.forge_calls.labels(verb=verb).inc(count)
        for installation, remaining in measure.ratelimit_remaining.items():
            self.rate_remaining.labels(installation=installation).set(remaining)


_directory: Path | None = None
_recorder: WorkerMetrics | None = None


def enable(directory: Path) -> None:
    """Count job runs in this process and the processes it forks, sharing counts through `directory`."""
    global _directory
    _directory = Path(directory)


def recorder() -> WorkerMetrics | None:
    """This process's counters (made on first use, after the fork), or None when metrics are off."""
    global _recorder
    if _directory is None:
        return None
    if _recorder is None:
        _recorder = WorkerMetrics()
    return _recorder


@contextlib.contextmanager
def job_outbox(kind: str) -> Iterator[None]:
    """Around a work horse's life: it writes its measures to an outbox this process counts afterwards."""
    counters = recorder()
    if counters is None or _directory is None:
        yield
        return
    path = _directory / f"outbox-{os.getpid()}.jsonl"  # not *.db: prometheus_client's scrape ignores it
    path.unlink(missing_ok=True)
    jobs.deliver_to(jobs.outbox(path))  # the horse forks with it
    started = time.monotonic()
    try:
        yield
    finally:
        jobs.deliver_to(None)
        measures = jobs.read_outbox(path)
        path.unlink(missing_ok=True)
        for measure in measures or [JobMeasure(kind, jobs.LOST, round(time.monotonic() - started, 6))]:
            counters.record(measure)
