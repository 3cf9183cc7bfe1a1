"""Serving Prometheus text: the shared counts of every process, queue depths read at scrape time.

`orchestra serve` (`webhooks/metrics.py`) and `orchestra worker` (`bot/metrics/worker.py`) keep
their counts with prometheus_client in multiprocess mode: each process writes files in
`PROMETHEUS_MULTIPROC_DIR`, and a scrape adds up every file — a dead process's counts included,
so totals never move backwards.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.errors import ConfigError, QueueUnavailable

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.core import Metric

log = logging.getLogger(__name__)
#: The environment variable prometheus_client reads, once, when it is first imported.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: The Content-Type of `/metrics` (Prometheus text format 0.0.4).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class QueueDepths:
    """A collector that reads the queue depths when scraped (none when the queue cannot be read)."""

    def __init__(self, read: Callable[[], dict[str, int]]) -> None:
        self.read = read

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        gauge = GaugeMetricFamily("orchestra_queue_depth", "Jobs waiting per queue.", labels=["queue"])
        try:
            depths = self.read()
        except QueueUnavailable as exc:
            log.warning("metrics: queue depths unavailable: %s", exc)
            depths = {}
        for queue, depth in sorted(depths.items()):
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


def scrape_registry(
    shared_dir: str | Path | None,
    own: CollectorRegistry | None = None,
    queue_depths: Callable[[], dict[str, int]] | None = None,
) -> CollectorRegistry:
    """What one scrape shows: every process's files (or `own`, counts of this process), then queue depths."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    scrape = CollectorRegistry(auto_describe=False)
    if shared_dir is not None:
        MultiProcessCollector(scrape, path=str(shared_dir))
    elif own is not None:
        scrape.register(own)
    if queue_depths is not None:
        scrape.register(QueueDepths(queue_depths))
    return scrape


def serve(host: str, port: int, registry: CollectorRegistry) -> Any:
    """Serve `GET /metrics` from `registry` on a daemon thread; the server (its `server_port`, `shutdown()`).

    Processes forked later (RQ's worker processes and their work horses) close their copy of the
    listening socket at once, so the port is free again when this process ends.
    """
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from prometheus_client import make_wsgi_app

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            log.debug("metrics: " + format, *args)

    server = make_server(host, port, make_wsgi_app(registry), handler_class=Quiet)
    os.register_at_fork(after_in_child=server.socket.close)
    threading.Thread(target=server.serve_forever, name="orchestra-metrics", daemon=True).start()
    return server
