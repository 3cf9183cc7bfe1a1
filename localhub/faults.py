"""Deterministic fault injection: a seeded share of API calls answer 502 or a secondary rate limit,
before doing the work or (writes only) after applying it."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from flask import Response

from localhub.rest import ApiError

SECONDARY_LIMIT = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID LOCALHUB."
)
RETRY_AFTER = "1"
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
BEFORE = "before"
AFTER = "after"


@dataclass(frozen=True)
class Fault:
    """One injected fault: `when` is BEFORE (the call is not served) or AFTER (served, then 502)."""

    when: str
    bad_gateway: bool

    def response(self) -> Response:
        if self.bad_gateway:
            return bad_gateway()
        return ApiError(
            403,
            SECONDARY_LIMIT,
            headers={"Retry-After": RETRY_AFTER},
            doc="https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
        ).response()


def bad_gateway() -> Response:
    return Response('{"message": "Server Error"}', status=502, mimetype="application/json")


class Faults:
    """Draws, in call order, whether an API call fails; the same seed gives the same sequence.

    `after_share` is the share of injected faults that hit a write (POST/PATCH/PUT/DELETE) after
    it was applied: the effect exists, the answer is a 502. A read that draws an "after" fault
    fails before instead (a read has no effect to apply), so reads are never "after" faults.
    """

    def __init__(self, rate: float = 0.0, seed: int = 0, after_share: float = 0.0) -> None:
        if not 0.0 <= after_share <= 1.0:
            raise ValueError(f"fault after-share must be between 0 and 1, got {after_share}")
        self.rate = rate
        self.after_share = after_share
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.injected = 0  # every fault drawn (before + after)

    def draw(self, method: str = "GET") -> Fault | None:
        """None (serve the call normally) or the fault to inject into this call."""
        if self.rate <= 0:
            return None
        with self._lock:
            hit = self._random.random() < self.rate
            bad = self._random.random() < 0.5
            # A third number only when the mode is on, so existing seeds keep their sequences.
            late = self.after_share > 0 and self._random.random() < self.after_share
            if hit:
                self.injected += 1
        if not hit:
            return None
        if late and method.upper() in WRITE_METHODS:
            return Fault(AFTER, True)
        return Fault(BEFORE, bad)
