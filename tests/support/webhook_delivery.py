"""Helpers for webhook tests: signed deliveries to a Flask test client, and what RQ holds."""

from __future__ import annotations

import json
import uuid
from typing import Any

import redis
from flask.testing import FlaskClient
from rq import Queue
from rq.registry import DeferredJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from werkzeug.test import TestResponse

from bot.queue.kinds import QUEUES
from webhooks.signature import sign

SECRET = "test-secret-not-real"


def deliver(
    client: FlaskClient,
    event: str,
    payload: Any,
    *,
    delivery: str | None = None,
    secret: str | None = SECRET,
    body: bytes | None = None,
) -> TestResponse:
    """POST a delivery as GitHub would: event, delivery id and signature headers."""
    raw = body if body is not None else json.dumps(payload).encode()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "Content-Type": "application/json",
    }
    if secret is not None:
        headers["X-Hub-Signature-256"] = sign(secret.encode(), raw)
    return client.post("/webhook", data=raw, headers=headers)


def rq_job_ids(conn: redis.Redis) -> list[str]:
    """Every job id queued, deferred, scheduled or started, over the orchestra's queues."""
    ids: list[str] = []
    for name in QUEUES:
        queue = Queue(name, connection=conn)
        ids += queue.job_ids
        for registry in (DeferredJobRegistry, ScheduledJobRegistry, StartedJobRegistry):
            ids += registry(queue=queue).get_job_ids()
    return sorted(ids)
