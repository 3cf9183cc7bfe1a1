"""Bounded retries for forge calls: backoff on 5xx and lost connections, waits on rate limits.

PyGithub's own retries are switched off (they would also retry non-idempotent POSTs blindly);
every Forge verb goes through `RetryPolicy.call` instead, and a create passes a `recover`
function that looks for the thing before creating it again after an ambiguous failure.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import requests
from github.GithubException import GithubException

from bot.errors import ForgeUnavailable, RateLimited

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Network failures where the request may or may not have reached the forge.
AMBIGUOUS_NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def _header(headers: dict[str, str] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None


def is_rate_limit(exc: GithubException) -> bool:
    """A 429, or a 403 that says so (retry-after, remaining 0, or a rate-limit message)."""
    if exc.status == 429:
        return True
    if exc.status != 403:
        return False
    if _header(exc.headers, "retry-after") is not None or _header(exc.headers, "x-ratelimit-remaining") == "0":
        return True
    message = str(exc.data.get("message", "")) if isinstance(exc.data, dict) else str(exc.data or "")
    return "rate limit" in message.lower()


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry. `scale` multiplies every wait (tests use ~0.001)."""

    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0
    rate_limit_floor: float = 60.0
    max_rate_limit_wait: float = 900.0
    scale: float = 1.0
    #: PyGithub's pause between writes (secondary rate limits); None in tests.
    write_spacing_s: float | None = 1.0
    #: Below this share of the hourly budget left, calls are spread over the time to the reset.
    pace_below: float = 0.1
    #: The longest pause pacing makes before one call.
    max_pace_s: float = 30.0
    clock: Callable[[], float] = field(default=time.time, compare=False)
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def backoff(self, attempt: int) -> float:
        """Exponential backoff for the `attempt`-th failure (1-based), capped."""
        return min(self.max_delay, self.base_delay * 2 ** (attempt - 1))

    def pace(self, remaining: int, limit: int, reset: float) -> float:
        """Seconds to pause before the next call so the `remaining` budget lasts until `reset`:
        0 while more than `pace_below` of the budget is left (or nothing is known yet)."""
        if limit <= 0 or remaining < 0 or remaining > limit * self.pace_below:
            return 0.0
        return min(self.max_pace_s, max(0.0, reset - self.clock()) / max(1, remaining))

    def rate_limit_wait(self, exc: GithubException) -> float:
        """Seconds to wait: retry-after, else until x-ratelimit-reset, else the floor."""
        retry_after = _header(exc.headers, "retry-after")
        if retry_after is not None and retry_after.strip().isdigit():
            return float(retry_after)
        reset = _header(exc.headers, "x-ratelimit-reset")
        if reset is not None and reset.strip().isdigit():
            return max(1.0, float(reset) - self.clock() + 1)
        return self.rate_limit_floor

    def call(self, what: str, fn: Callable[[], T], recover: Callable[[], T | None] | None = None) -> T:
        """Run `fn` with bounded retries; before a retry after an ambiguous failure, try `recover`.

        `recover` returns the effect of an earlier attempt when it did land (so a create is
        not repeated), or None. Raises ForgeUnavailable or RateLimited when the bound is reached;
        any other GithubException (4xx) propagates unchanged.
        """
        ambiguous = False
        for attempt in range(1, self.attempts + 1):
            if ambiguous and recover is not None:
                found = self._recover(what, recover)
                if found is not None:
                    return found
            try:
                return fn()
            except GithubException as exc:
                if exc.status >= 500:
                    ambiguous, wait, last = True, self.backoff(attempt), f"HTTP {exc.status}"
                elif is_rate_limit(exc):
                    wait = self.rate_limit_wait(exc)
                    if wait > self.max_rate_limit_wait:
                        raise RateLimited(f"{what}: the forge asks to wait {wait:.0f}s") from exc
                    ambiguous, last = False, f"rate limited (HTTP {exc.status})"
                else:
                    raise
                error: BaseException = exc
            except AMBIGUOUS_NETWORK_ERRORS as exc:
                ambiguous, wait, last, error = True, self.backoff(attempt), type(exc).__name__, exc
            if attempt == self.attempts:
                break
            log.info("forge %s failed (%s); retry %d/%d in %.1fs", what, last, attempt, self.attempts - 1, wait)
            self.sleep(wait * self.scale)
        kind = RateLimited if last.startswith("rate limited") else ForgeUnavailable
        raise kind(f"{what}: {last} after {self.attempts} attempts") from error

    def _recover(self, what: str, recover: Callable[[], T | None]) -> T | None:
        # The look-up itself may hit a fault; it is retried without recovery of its own.
        return self.call(f"{what} (look-up)", recover)
