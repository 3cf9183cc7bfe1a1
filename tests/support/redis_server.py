"""A private `redis-server` per test session on a free port; the machine's Redis is never touched.

Under pytest-xdist each worker process is a session of its own, so each has its own server (its
own port, its own directory under the worker's `tmp_path_factory`). With `REDIS_URL` given, the
workers share that server and each uses its own database: the URL's number plus the worker's
index (gw0 +0, gw1 +1, ...), so one worker's `flushdb` never empties another's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis

from tests.support.ports import free_port
from tests.support.waiting import wait_for


class _ExitedEarly(RuntimeError):
    """redis-server ended before it answered (most often: its port was taken meanwhile)."""


def worker_url(url: str, worker: str | None = None) -> str:
    """`url` with its database number shifted by the xdist worker's index (unchanged outside xdist)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "") if worker is None else worker
    if not worker.startswith("gw"):
        return url
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0) + int(worker[2:])
    return urlunsplit(parts._replace(path=f"/{database}"))


class PrivateRedis:
    """A redis-server child process bound to loopback, storing nothing on disk.

    With `password`, the server requires it (`requirepass`) and `url` carries it, as a
    deployment's ORCHESTRA_REDIS_URL does (`redis://:PASSWORD@host:port/0`); `bare_url` is the
    address without it. `port`: listen there (a restart of a server that was stopped).
    """

    def __init__(self, workdir: Path, password: str | None = None, port: int | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail(
                "redis-server is not installed; install it (Debian: `apt-get install redis-server`, "
                "macOS: `brew install redis`) or set REDIS_URL to a Redis the tests may flush."
            )
        # A free port can be taken between our probe and the server's bind (parallel workers start
        # servers too): a server that exits at once is started again on another port (unless `port`
        # was given: a restart on the same port).
        for attempt in range(3):
            try:
                self._start(binary, workdir, password, port)
                return
            except _ExitedEarly:
                if attempt == 2 or port is not None:
                    raise

    def _start(self, binary: str, workdir: Path, password: str | None, port: int | None) -> None:
        self.port = port or free_port()
        self.bare_url = f"redis://127.0.0.1:{self.port}/0"
        self.url = f"redis://:{password}@127.0.0.1:{self.port}/0" if password else self.bare_url
        # The password goes in through a config file, so it is not on the server's command line.
        config = workdir / "redis.conf"
        config.write_text(f"requirepass {password}\n" if password else "")
        config.chmod(0o600)
        self.process = subprocess.Popen(
            [
                binary,
                str(config),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
                "--daemonize",
                "no",
                "--logfile",
                str(workdir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)

        def ready() -> bool:
            if self.process.poll() is not None:
                raise _ExitedEarly(f"redis-server exited: {(workdir / 'redis.log').read_text()[-2000:]}")
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        wait_for(ready, timeout=15, what="private redis-server to answer PING")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a Redis only this test session uses (REDIS_URL when given, else a private server)."""
    given = os.environ.get("REDIS_URL")
    if given:
        yield worker_url(given)
        return
    server = PrivateRedis(tmp_path_factory.mktemp("redis"))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def redis_conn(redis_url: str) -> Iterator[redis.Redis]:
    """A connection to the session's Redis, flushed before each test."""
    conn = redis.Redis.from_url(redis_url)
    conn.flushdb()
    yield conn
    conn.close()
