"""Deterministic fault injection: a seeded share of API calls answer 502 or a secondary rate limit."""

from __future__ import annotations

import random
import threading

from flask import Response

from localhub.rest import ApiError

SECONDARY_LIMIT = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID LOCALHUB."
)
RETRY_AFTER = "1"


class Faults:
    """Draws, in call order, whether an API call fails; the same seed gives the same sequence."""

    def __init__(self, rate: float = 0.0, seed: int = 0) -> None:
        self.rate = rate
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.injected = 0

    def draw(self) -> Response | None:
        """None (serve the call) or the fault answer to send instead."""
        if self.rate <= 0:
            return None
        with self._lock:
            hit = self._random.random() < self.rate
            bad_gateway = self._random.random() < 0.5
            if hit:
                self.injected += 1
        if not hit:
            return None
        if bad_gateway:
            return Response('{"message": "Server Error"}', status=502, mimetype="application/json")
        return ApiError(
            403, SECONDARY_LIMIT, headers={"Retry-After": RETRY_AFTER},
            doc="https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
        ).response()
