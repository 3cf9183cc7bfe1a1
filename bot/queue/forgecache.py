"""The RQ workers' Redis as the forge memos' shared level (bot/forge/memo.py).

An RQ worker forks a work horse per job; what a work horse read from the forge (files at a commit,
answers kept for their ETags, default branch names) would die with it. Kept in the workers' Redis
for the memo's time to live, the next job's work horse finds them there: config, prompts and notes
of an unchanged commit are read once per deployment, not once per job, and a list it read before is
revalidated with `If-None-Match` (a 304 is free) instead of read again in full.

Redis failing is a miss or a lost write here, never an error: the forge is asked as without it.
"""

from __future__ import annotations

import logging
import time

import redis

log = logging.getLogger(__name__)


class RedisStore:
    """`SharedStore` on a Redis connection: GET, and SET with EX. After a Redis error it is left alone
    for `PAUSE_S` (each call would otherwise wait out redis-py's retries and time-outs again)."""

    PAUSE_S = 30.0

    def __init__(self, connection: redis.Redis) -> None:
        self.connection = connection
        self._paused_until = 0.0

    def get(self, key: str) -> bytes | None:
        if self._paused():
            return None
        try:
            value = self.connection.get(key)
        except redis.RedisError as exc:
            self._pause(exc)
            return None
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes, ttl_s: int) -> None:
        if self._paused():
            return
        try:
            self.connection.set(key, value, ex=ttl_s)
        except redis.RedisError as exc:
            self._pause(exc)

    def _paused(self) -> bool:
        return time.monotonic() < self._paused_until

    def _pause(self, exc: Exception) -> None:
        log.info("forge memo: Redis failed (%s); reading from the forge alone for %.0fs", exc, self.PAUSE_S)
        self._paused_until = time.monotonic() + self.PAUSE_S
