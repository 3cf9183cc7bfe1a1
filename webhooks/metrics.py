"""Prometheus metrics of the web front door: deliveries by event and outcome, ack latency, queue depths.

Under `orchestra serve` several worker processes answer, so the counts are kept with
`prometheus_client` in multiprocess mode: `PROMETHEUS_MULTIPROC_DIR` names a directory where each
process writes its own files, and a scrape, whichever process answers it, adds up every file
(a dead process's counts included, so totals never move backwards). Without that variable
(the Flask test client, local mode) the counts live in this process. Queue depths are read from
Redis at scrape time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from bot.errors import ConfigError

if TYPE_CHECKING:
    from prometheus_client.core import Metric

#: Histogram buckets for the acknowledgement latency, in seconds.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
#: The environment variable prometheus_client reads, once, when it is first imported.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: The Content-Type of `/metrics` (Prometheus text format 0.0.4).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# prometheus_client is imported inside the functions below, not here: it picks per-process or
# shared counts when first imported, and the `orchestra` command line imports this module long
# before `orchestra serve` has set PROMETHEUS_MULTIPROC_DIR.


class QueueDepths:
    """A collector that reads the queue depths when scraped."""

    def __init__(self, read: Callable[[], dict[str, int]]) -> None:
        self.read = read

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        gauge = GaugeMetricFamily("orchestra_queue_depth", "Jobs waiting per queue.", labels=["queue"])
        for queue, depth in sorted(self.read().items()):
            gauge.add_metric([queue], depth)
        yield gauge


def multiprocess_dir() -> str | None:
    """The directory the counts are shared through, or None when they live in this process."""
    from prometheus_client import values

    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        return None
    if values.ValueClass is values.MutexValue:
        raise ConfigError(f"{MULTIPROC_ENV} was set after prometheus_client was imported; set it before starting")
    if not os.path.isdir(directory):
        raise ConfigError(f"{MULTIPROC_ENV}={directory} is not a directory")
    return directory


class Metrics:
    """Delivery counters and the ack latency histogram of one app (of every process, when shared)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics

        # `_created` series exist only in single-process mode; without them both modes read alike.
        disable_created_metrics()
        self.shared_dir = multiprocess_dir()
        self.registry = CollectorRegistry()
        self.deliveries = Counter("orchestra_webhook_deliveries", "Webhook deliveries by event and outcome.",
                                  ["event", "outcome"], registry=self.registry)
        self.ack_seconds = Histogram("orchestra_webhook_ack_seconds", "Time from request to answer.",
                                     buckets=BUCKETS, registry=self.registry)

    def observe(self, event: str, outcome: str, seconds: float) -> None:
        self.deliveries.labels(event=event, outcome=outcome).inc()
        self.ack_seconds.observe(seconds)

    def render(self, queue_depths: Callable[[], dict[str, int]] | None = None) -> bytes:
        """The Prometheus text exposition (version 0.0.4): every process's counts, then queue depths."""
        from prometheus_client import CollectorRegistry, generate_latest
        from prometheus_client.multiprocess import MultiProcessCollector

        scrape = CollectorRegistry(auto_describe=False)
        if self.shared_dir is not None:
            MultiProcessCollector(scrape, path=self.shared_dir)
        else:
            scrape.register(self.registry)
        if queue_depths is not None:
            scrape.register(QueueDepths(queue_depths))
        return bytes(generate_latest(scrape))
