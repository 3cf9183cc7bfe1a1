"""Readiness: can this web process take deliveries? A PING of the queue's Redis, bounded in time.

`/healthz` is liveness (the process answers); `/readyz` asks this. A probe has its own Redis
client with short timeouts and no retries, so a Redis that is down, or a network that drops
packets, answers "not ready" within about a second instead of holding the probe open.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

#: Seconds to connect, and then to read the answer to PING.
PROBE_TIMEOUT_S = 0.5

#: A readiness check: None when ready, else a one-line reason.
Probe = Callable[[], str | None]


def always_ready() -> str | None:
    """The probe of an executor that needs nothing outside this process."""
    return None


def redis_probe(connection: redis.Redis, timeout_s: float = PROBE_TIMEOUT_S) -> Probe:
    """A probe that PINGs the Redis `connection` talks to, through a client of its own."""
    pool = connection.connection_pool
    settings: dict[str, Any] = {
        **pool.connection_kwargs,
        "socket_timeout": timeout_s,
        "socket_connect_timeout": timeout_s,
        "retry": Retry(NoBackoff(), 0),
    }
    client = redis.Redis(connection_pool=redis.ConnectionPool(connection_class=pool.connection_class, **settings))

    def probe() -> str | None:
        try:
            client.ping()
        except redis.RedisError as exc:
            log.warning("not ready: Redis PING failed: %s", exc)
            return f"queue unavailable: Redis did not answer PING ({type(exc).__name__})"
        return None

    return probe


def probe_for(executor: Any) -> Probe:
    """The readiness probe for `executor`: its Redis when it has one (RQ), else always ready."""
    connection = getattr(executor, "connection", None)
    return redis_probe(connection) if isinstance(connection, redis.Redis) else always_ready
