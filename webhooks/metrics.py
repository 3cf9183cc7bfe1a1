"""Prometheus text metrics of this web process: deliveries by event and outcome, ack latency, queue depths.

Hand-written (a few counters and one histogram) to keep the web process free of extra
dependencies. Values are per process: with several gunicorn workers each scrape sees one
worker's counts (sum them in Prometheus by instance), while queue depths are global.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

#: Histogram buckets for the acknowledgement latency, in seconds.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    """Counters and a latency histogram, safe to update from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.deliveries: Counter[tuple[str, str]] = Counter()
        self._bucket_counts = [0] * len(BUCKETS)
        self._count = 0
        self._sum = 0.0

    def observe(self, event: str, outcome: str, seconds: float) -> None:
        with self._lock:
            self.deliveries[(event, outcome)] += 1
            self._count += 1
            self._sum += seconds
            for index, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    self._bucket_counts[index] += 1

    def render(self, queue_depths: Callable[[], dict[str, int]] | None = None) -> str:
        """The Prometheus text exposition (version 0.0.4)."""
        lines = [
            "# HELP orchestra_webhook_deliveries_total Webhook deliveries by event and outcome.",
            "# TYPE orchestra_webhook_deliveries_total counter",
        ]
        with self._lock:
            for (event, outcome), count in sorted(self.deliveries.items()):
                lines.append(
                    f'orchestra_webhook_deliveries_total{{event="{_escape(event)}",outcome="{_escape(outcome)}"}} {count}'
                )
            lines += [
                "# HELP orchestra_webhook_ack_seconds Time from request to answer.",
                "# TYPE orchestra_webhook_ack_seconds histogram",
            ]
            for bound, count in zip(BUCKETS, self._bucket_counts, strict=True):
                lines.append(f'orchestra_webhook_ack_seconds_bucket{{le="{bound}"}} {count}')
            lines.append(f'orchestra_webhook_ack_seconds_bucket{{le="+Inf"}} {self._count}')
            lines.append(f"orchestra_webhook_ack_seconds_sum {self._sum:.6f}")
            lines.append(f"orchestra_webhook_ack_seconds_count {self._count}")
        if queue_depths is not None:
            lines += ["# HELP orchestra_queue_depth Jobs waiting per queue.", "# TYPE orchestra_queue_depth gauge"]
            for queue, depth in sorted(queue_depths().items()):
                lines.append(f'orchestra_queue_depth{{queue="{_escape(queue)}"}} {depth}')
        return "\n".join(lines) + "\n"
