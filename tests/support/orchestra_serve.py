"""A real `orchestra serve` process on a free loopback port for tests, and signed deliveries to it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from tests.support.ports import free_port
from tests.support.waiting import wait_for
from tests.support.webhook_delivery import SECRET
from webhooks.signature import sign

ROOT = Path(__file__).resolve().parents[2]
ORCHESTRA = str(Path(sys.executable).with_name("orchestra"))


def serve_env(redis_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "ORCHESTRA_WEBHOOK_SECRET": SECRET,
        "ORCHESTRA_REDIS_URL": redis_url,
        "ORCHESTRA_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


class Served:
    """A running `orchestra serve`: its process, base URL and port."""

    def __init__(self, process: subprocess.Popen, port: int, log: Path) -> None:
        self.process, self.port, self.log = process, port, log
        self.base = f"http://127.0.0.1:{port}"

    def deliver(
        self, event: str, payload: Any, *, delivery: str | None = None, timeout: float = 10
    ) -> requests.Response:
        """POST a signed delivery on a new connection."""
        body = json.dumps(payload).encode()
        return requests.post(
            f"{self.base}/webhook", data=body, timeout=timeout, headers=signed_headers(event, body, delivery)
        )

    def output(self) -> str:
        return self.log.read_text()[-3000:]


def signed_headers(event: str, body: bytes, delivery: str | None = None) -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(SECRET.encode(), body),
        "Content-Type": "application/json",
    }


@contextmanager
def orchestra_serve(redis_url: str, tmp_path: Path, *args: str, workers: int = 2) -> Iterator[Served]:
    """Start `orchestra serve` and wait until `/healthz` answers; stop it (SIGTERM) afterwards."""
    port = free_port()
    log_path = tmp_path / f"serve-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [ORCHESTRA, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), *args],
            env=serve_env(redis_url),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    served = Served(process, port, log_path)
    try:

        def up() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"orchestra serve exited {process.returncode}: {served.output()}")
            try:
                return requests.get(f"{served.base}/healthz", timeout=1).ok
            except requests.ConnectionError:
                return False

        wait_for(up, timeout=30, what="orchestra serve to answer /healthz")
        yield served
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def goal_issue(number: int) -> dict[str, Any]:
    """An `issues opened` payload for a goal issue (a `plan` job)."""
    return {
        "action": "opened",
        "issue": {"number": number, "labels": [{"name": "orchestra:goal"}]},
        "repository": {"full_name": "octo/cat"},
        "sender": {"login": "ann", "type": "User"},
    }
