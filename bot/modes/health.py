"""Liveness probes of the App server's containers, light enough to run every 30 s (`python -m bot.modes.health`).

- `web [--url URL]`: the web process answers `GET /healthz` (default http://127.0.0.1:8000/healthz)
  with 2xx. The Dockerfile's HEALTHCHECK; the dashboard's probe with `--url http://127.0.0.1:9181/`.
- `worker`: Redis answers PING, and at least one RQ worker of this host is registered there. A worker
  registers when it starts, heartbeats while idle or busy, and its record expires `worker_ttl + 60` s
  (8 min by default) after its last beat, so a dead or hung pool shows as unhealthy, and a worker
  that cannot reach Redis shows as unhealthy at once. It does not use the metrics port.

One line on stdout, exit 0 (healthy) or 1 (not). This module imports no model SDK or CLI: the full
`orchestra` command takes seconds of CPU to start, too much for a probe every 30 s.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence

WEB_URL = "http://127.0.0.1:8000/healthz"
TIMEOUT_S = 3.0
REDIS_VARIABLES = ("ORCHESTRA_REDIS_URL", "REDIS_URL")
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"  # bot/settings.py's default


class Unhealthy(Exception):
    """The probe's one line when the process is not alive."""


def web(url: str = WEB_URL, timeout_s: float = TIMEOUT_S) -> str:
    """`url` answers 2xx (redirects followed); otherwise Unhealthy."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as answer:  # noqa: S310 - a URL the operator chose
            status = int(answer.status)
    except urllib.error.HTTPError as exc:
        raise Unhealthy(f"{url} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Unhealthy(f"{url} does not answer: {reason}") from None
    if not 200 <= status < 300:
        raise Unhealthy(f"{url} answered HTTP {status}")
    return f"{url} answered HTTP {status}"


def redis_url(env: Mapping[str, str]) -> tuple[str, str]:
    """(the queue's URL, the variable it came from), as `Settings` reads it."""
    for name in REDIS_VARIABLES:
        if env.get(name):
            return env[name], name
    return DEFAULT_REDIS_URL, "the default"


def worker(env: Mapping[str, str], hostname: str | None = None, timeout_s: float = TIMEOUT_S) -> str:
    """Redis answers and an RQ worker of `hostname` (default: this host) is registered; otherwise Unhealthy."""
    import redis
    from rq import Worker

    url, source = redis_url(env)
    host = hostname or socket.gethostname()
    connection = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    try:
        connection.ping()
        workers = [w for w in Worker.all(connection=connection) if w.hostname == host]
    except redis.RedisError as exc:  # the message never holds the URL's password
        raise Unhealthy(f"Redis ({source}) does not answer: {type(exc).__name__}: {exc}") from None
    finally:
        connection.close()
    if not workers:
        raise Unhealthy(f"no RQ worker of host {host} is registered in Redis ({source}): the pool is not running")
    return f"{len(workers)} RQ worker(s) of host {host} registered in Redis ({source})"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot.modes.health",
        description="Liveness probe of an Agent Orchestra container: one line, exit 0 when alive, 1 when not.",
        epilog=f"environment variables read (worker): ORCHESTRA_REDIS_URL (or REDIS_URL), default {DEFAULT_REDIS_URL}",
    )
    parser.add_argument(
        "--timeout", type=float, default=TIMEOUT_S, help=f"seconds for each network call (default {TIMEOUT_S:g})"
    )
    sub = parser.add_subparsers(dest="probe", required=True, metavar="PROBE")
    web_probe = sub.add_parser("web", help="the web process (or any HTTP endpoint) answers 2xx")
    web_probe.add_argument("--url", default=WEB_URL, help=f"what to GET (default {WEB_URL})")
    sub.add_parser("worker", help="Redis answers and an RQ worker of this host is registered there")
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.probe == "web":
            line = web(args.url, args.timeout)
        else:
            line = worker(os.environ if env is None else env, timeout_s=args.timeout)
    except Unhealthy as exc:
        print(f"unhealthy: {exc}")
        return 1
    print(f"healthy: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
