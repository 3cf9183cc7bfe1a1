"""Delivery ids already accepted: a redelivery of the same `X-GitHub-Delivery` is dropped.

A delivery is claimed (SET NX with a TTL) before its jobs are submitted and released again if
the queue could not take them, so a delivery that was answered 503 can be redelivered.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Protocol

import redis

from bot.errors import QueueUnavailable

#: GitHub keeps deliveries (and allows redelivery) for 3 days.
TTL_S = 3 * 24 * 3600


class DeliveryLog(Protocol):
    def claim(self, delivery_id: str) -> bool:
        """True when this delivery id was not seen before (and is now marked as seen)."""
        ...

    def release(self, delivery_id: str) -> None:
        """Forget a claim (its jobs could not be enqueued)."""
        ...


class RedisDeliveryLog:
    """Claims in Redis, keyed by app id and delivery id, shared by every web process."""

    def __init__(self, connection: redis.Redis, app_id: str | None, ttl_s: int = TTL_S) -> None:
        self.connection = connection
        self.prefix = f"orchestra:delivery:{app_id or 'token'}:"
        self.ttl_s = ttl_s

    def claim(self, delivery_id: str) -> bool:
        try:
            return bool(self.connection.set(self.prefix + delivery_id, "1", nx=True, ex=self.ttl_s))
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise QueueUnavailable(f"cannot record delivery {delivery_id}: {exc}") from exc

    def release(self, delivery_id: str) -> None:
        # If Redis is gone, the claim is gone with it (or expires): nothing to undo.
        with contextlib.suppress(redis.ConnectionError, redis.TimeoutError):
            self.connection.delete(self.prefix + delivery_id)


class MemoryDeliveryLog:
    """Claims in this process's memory (with the InlineExecutor)."""

    def __init__(self, ttl_s: int = TTL_S) -> None:
        self.ttl_s = ttl_s
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def claim(self, delivery_id: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen = {k: t for k, t in self._seen.items() if t > now}
            expires = self._seen.get(delivery_id)
            if expires is not None and expires > now:
                return False
            self._seen[delivery_id] = now + self.ttl_s
            return True

    def release(self, delivery_id: str) -> None:
        with self._lock:
            self._seen.pop(delivery_id, None)
