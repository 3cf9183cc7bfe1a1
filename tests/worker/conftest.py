"""The `bed` fixture: the worker test bed of tests/worker/bed.py, torn down after each test."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.worker.bed import Bed, make_bed


@pytest.fixture
def bed(tmp_path: Path, localhub, model_server, redis_url, redis_conn, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bed]:
    # RQ retries a lapsed job after RETRY_INTERVALS; no test waits 30 s for that.
    monkeypatch.setattr("bot.queue.executors.RETRY_INTERVALS", [0, 0, 0])
    world = make_bed(tmp_path, localhub, model_server, redis_url, redis_conn)
    world.serve_webhooks(secrets.token_hex(16))
    try:
        yield world
    finally:
        world.stop()
