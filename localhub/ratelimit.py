"""The primary rate limit: an hourly request budget per token, with GitHub's `x-ratelimit-*` headers."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace

ANONYMOUS_BUDGET = 60
WINDOW = 3600


@dataclass(frozen=True)
class Rate:
    """One caller's standing after a call (remaining < 0: the call is refused)."""

    limit: int
    used: int
    reset: int

    @property
    def remaining(self) -> int:
        return self.limit - self.used

    def exhausted(self) -> Rate:
        return replace(self, used=self.limit)

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.remaining)),
            "X-RateLimit-Reset": str(self.reset),
            "X-RateLimit-Used": str(min(self.used, self.limit)),
            "X-RateLimit-Resource": "core",
        }

    def shape(self) -> dict[str, int]:
        return {
            "limit": self.limit,
            "remaining": max(0, self.remaining),
            "reset": self.reset,
            "used": min(self.used, self.limit),
        }


class RateLimiter:
    """Counts calls per key in fixed hourly windows; the budget is set at start (`--rate-limit`)."""

    def __init__(self, budget: int = 5000) -> None:
        self.budget = budget
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}  # key -> (window reset epoch, used)

    def _budget(self, kind: str) -> int:
        return ANONYMOUS_BUDGET if kind == "anonymous" else self.budget

    def spend(self, key: str, kind: str, cost: int = 1) -> Rate:
        now = int(time.time())
        with self._lock:
            reset, used = self._windows.get(key, (now + WINDOW, 0))
            if now >= reset:
                reset, used = now + WINDOW, 0
            budget = self._budget(kind)
            if used + cost > budget:  # refused: the call is not counted
                return Rate(budget, budget + 1, reset)
            used += cost
            self._windows[key] = (reset, used)
        return Rate(budget, used, reset)

    def refund(self, key: str, kind: str, cost: int = 1) -> Rate:
        """Give back a call that turned out free (a 304 answer)."""
        with self._lock:
            reset, used = self._windows.get(key, (int(time.time()) + WINDOW, cost))
            self._windows[key] = (reset, max(0, used - cost))
        return self.peek(key, kind)

    def peek(self, key: str, kind: str) -> Rate:
        return self.spend(key, kind, cost=0)
