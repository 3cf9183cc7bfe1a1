"""Bounded retries for model calls: back off on 429/5xx/overloaded/timeouts, honour retry-after."""

from __future__ import annotations

import email.utils
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import tenacity

from bot.errors import ModelError, ModelUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Statuses worth another attempt: timeout, conflict/lock, rate limit, server errors, overloaded.
RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})

_KEY_LIKE = re.compile(r"\b(sk|sk-ant|sk-proj)-[A-Za-z0-9_\-*.]{4,}")


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying one call, and how to back off when the provider gives no hint."""

    #: Total bound in seconds: no attempt starts after it, no wait would cross it.
    max_retry_s: float = 120.0
    initial_wait_s: float = 1.0
    max_wait_s: float = 30.0


class Transient(Exception):
    """An attempt failed in a way that another attempt may fix."""

    def __init__(self, detail: str, retry_after_s: float | None = None) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """The wait the provider asked for: ``retry-after-ms``, else ``retry-after`` (seconds or an HTTP date)."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def scrub(text: str, secrets: Sequence[str]) -> str:
    """Remove secrets (and anything shaped like an API key) from a provider's message."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _KEY_LIKE.sub(r"\1-***", text)


def status_failure(
    what: str, status: int, headers: Mapping[str, str], message: str, secrets: Sequence[str]
) -> Exception:
    """Turn an HTTP error status into `Transient` (retry) or `ModelError` (give up now)."""
    detail = f"{what}: HTTP {status}: {scrub(message, secrets)}"
    if status in RETRYABLE_STATUSES:
        return Transient(detail, retry_after_seconds(headers))
    return ModelError(detail)


def _wait(policy: RetryPolicy) -> Callable[[tenacity.RetryCallState], float]:
    backoff = tenacity.wait_random_exponential(multiplier=policy.initial_wait_s, max=policy.max_wait_s)

    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        hint = error.retry_after_s if isinstance(error, Transient) else None
        return hint if hint is not None else float(backoff(state))

    return wait


def call_with_retries(
    attempt: Callable[[], T],
    policy: RetryPolicy,
    *,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `attempt` until it succeeds, raises a non-Transient error, or the bound would be crossed.

    `attempt` raises `Transient` for failures worth retrying. Past the bound: ModelUnavailable.
    """
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(Transient),
        wait=_wait(policy),
        stop=tenacity.stop_before_delay(policy.max_retry_s),
        sleep=sleep,
        before_sleep=lambda s: log.warning(
            "%s: attempt %d failed (%s); retrying in %.2fs",
            what,
            s.attempt_number,
            s.outcome.exception() if s.outcome else "?",
            s.upcoming_sleep,
        ),
        reraise=False,
    )
    started = time.monotonic()
    try:
        return retrying(attempt)
    except tenacity.RetryError as exc:
        last = exc.last_attempt.exception()
        elapsed = time.monotonic() - started
        raise ModelUnavailable(
            f"{last} (gave up after {exc.last_attempt.attempt_number} attempts in {elapsed:.1f}s; "
            f"retry bound {policy.max_retry_s:g}s)"
        ) from last
