"""Prometheus metrics of the web front door: deliveries by event and outcome, ack latency, queue depths.

Under `orchestra serve` several worker processes answer, so the counts are kept with
`prometheus_client` in multiprocess mode: `PROMETHEUS_MULTIPROC_DIR` names a directory where each
process writes its own files, and a scrape, whichever process answers it, adds up every file
(a dead process's counts included, so totals never move backwards). Without that variable
(the Flask test client, local mode) the counts live in this process. Queue depths are read from
Redis at scrape time. The exposition is shared with `orchestra worker`'s (`bot/metrics/exposition.py`).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.metrics.exposition import (
    CONTENT_TYPE,
    MULTIPROC_ENV,
    QueueDepths,
    multiprocess_dir,
    scrape_registry,
)

__all__ = ["BUCKETS", "CONTENT_TYPE", "MULTIPROC_ENV", "Metrics", "QueueDepths", "multiprocess_dir"]

#: Histogram buckets for the acknowledgement latency, in seconds.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)

# prometheus_client is imported inside the functions below, not here: it picks per-process or
# shared counts when first imported, and the `orchestra` command line imports this module long
# before `orchestra serve` has set PROMETHEUS_MULTIPROC_DIR.


class Metrics:
    """Delivery counters and the ack latency histogram of one app (of every process, when shared)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics

        # `_created` series exist only in single-process mode; without them both modes read alike.
        disable_created_metrics()
        self.shared_dir = multiprocess_dir()
        self.registry = CollectorRegistry()
        self.deliveries = Counter(
            "orchestra_webhook_deliveries",
            "Webhook deliveries by event and outcome.",
            ["event", "outcome"],
            registry=self.registry,
        )
        self.ack_seconds = Histogram(
            "orchestra_webhook_ack_seconds", "Time from request to answer.", buckets=BUCKETS, registry=self.registry
        )

    def observe(self, event: str, outcome: str, seconds: float) -> None:
        self.deliveries.labels(event=event, outcome=outcome).inc()
        self.ack_seconds.observe(seconds)

    def render(self, queue_depths: Callable[[], dict[str, int]] | None = None) -> bytes:
        """The Prometheus text exposition (version 0.0.4): every process's counts, then queue depths."""
        from prometheus_client import generate_latest

        return bytes(generate_latest(scrape_registry(self.shared_dir, self.registry, queue_depths)))
