"""Metering: REST calls by method and route template and by token label; webhook deliveries; faults."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Metrics:
    """Thread-safe counters, read as one JSON snapshot at `GET /_localhub/metrics`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: Counter[str] = Counter()
        self._tokens: Counter[str] = Counter()
        #: (token label, "METHOD route", "charged" | "not_modified"): what each token spent where.
        self._token_routes: Counter[tuple[str, str, str]] = Counter()
        self._statuses: Counter[str] = Counter()
        self._deliveries: Counter[tuple[str, str]] = Counter()
        self._faults: Counter[str] = Counter({"before": 0, "after": 0})

    def rest_call(self, method: str, route: str, token_label: str, status: int) -> None:
        with self._lock:
            self._routes[f"{method} {route}"] += 1
            self._tokens[token_label] += 1
            self._statuses[str(status)] += 1
            self._token_routes[(token_label, f"{method} {route}", "not_modified" if status == 304 else "charged")] += 1

    def fault(self, when: str) -> None:
        """An injected fault: "before" (the call was not served) or "after" (served, answered 502)."""
        with self._lock:
            self._faults[when] += 1

    def delivery(self, event: str, outcome: str) -> None:
        with self._lock:
            self._deliveries[(event, outcome)] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            by_token_route: dict[str, dict[str, dict[str, int]]] = {}
            for (label, route, kind), count in sorted(self._token_routes.items()):
                by_token_route.setdefault(label, {}).setdefault(route, {})[kind] = count
            by_event: dict[str, dict[str, int]] = {}
            for (event, outcome), count in sorted(self._deliveries.items()):
                by_event.setdefault(event, {})[outcome] = count
            return {
                "rest": {
                    "total": sum(self._routes.values()),
                    "by_route": dict(sorted(self._routes.items())),
                    "by_token": dict(sorted(self._tokens.items())),
                    "by_status": dict(sorted(self._statuses.items())),
                    "by_token_route": by_token_route,
                },
                "webhooks": {"total": sum(self._deliveries.values()), "by_event": by_event},
                "faults": dict(sorted(self._faults.items())),
            }
