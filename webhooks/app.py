"""`create_app(settings)`: the Flask app that verifies, deduplicates and routes deliveries into jobs.

The delivery endpoint is `POST /webhook` (also `POST /`). It does no forge call, no git, no
model call and starts no thread: it verifies, routes and enqueues, then answers — 202 naming
the jobs, 204 when there is nothing to do, 503 when the queue is unreachable (GitHub then shows
the delivery as failed and it can be redelivered).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from flask import Flask, Response, jsonify, request

from bot.errors import ConfigError, QueueUnavailable
from bot.queue.executors import Executor, RQExecutor
from bot.settings import Settings
from webhooks.deliveries import DeliveryLog, MemoryDeliveryLog, RedisDeliveryLog
from webhooks.event import Event
from webhooks.handlers import ROUTER
from webhooks.metrics import Metrics
from webhooks.router import Router
from webhooks.signature import verify

log = logging.getLogger(__name__)

#: GitHub caps webhook payloads at 25 MB.
MAX_BODY = 25 * 1024 * 1024
#: The bot's own events still matter for these (a merge it made closes a task; a push it made
#: moves the default branch; its CI results are CI results). Everything else it caused is dropped.
OWN_EVENTS_THAT_COUNT = {("push", None), ("check_suite", None), ("check_run", None), ("status", None),
                         ("pull_request", "closed"), ("issues", "closed")}


def is_own_event(event: Event, bot_login: str) -> bool:
    """True for an event the bot itself caused and must not react to (it would loop)."""
    sender = event.sender
    own = str(sender.get("login", "")).lower() == bot_login.lower() or sender.get("type") == "Bot"
    if not own:
        return False
    return (event.name, None) not in OWN_EVENTS_THAT_COUNT and (event.name, event.action) not in OWN_EVENTS_THAT_COUNT


def create_app(
    settings: Settings,
    executor: Executor | None = None,
    deliveries: DeliveryLog | None = None,
    router: Router = ROUTER,
) -> Flask:
    """The web app. Without `executor`, jobs go to RQ at `settings.redis_url`."""
    if settings.webhook_secret is None:
        raise ConfigError("ORCHESTRA_WEBHOOK_SECRET is not set; the app refuses to run without it")
    secret = settings.webhook_secret.get_secret_value().encode()
    if executor is None:
        executor = RQExecutor.from_url(settings.redis_url)
    if deliveries is None:
        deliveries = (
            RedisDeliveryLog(executor.connection, settings.app_id) if isinstance(executor, RQExecutor) else MemoryDeliveryLog()
        )
    app = Flask("orchestra-webhooks")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    metrics = Metrics()
    app.extensions["orchestra"] = {"executor": executor, "deliveries": deliveries, "metrics": metrics}

    def answer(event_name: str, outcome: str, started: float, body: Any, status: int) -> Response:
        metrics.observe(event_name, outcome, time.perf_counter() - started)
        response = jsonify(body) if body is not None else Response(status=status)
        response.status_code = status
        return response

    @app.post("/webhook")
    @app.post("/")
    def delivery() -> Response:
        started = time.perf_counter()
        name = request.headers.get("X-GitHub-Event", "")
        if (request.content_length or 0) > MAX_BODY:
            return answer(name or "unknown", "too_large", started, {"error": "payload too large"}, 413)
        body = request.get_data(cache=False)
        if not verify(secret, body, request.headers.get("X-Hub-Signature-256")):
            return answer(name or "unknown", "bad_signature", started, {"error": "bad or missing signature"}, 401)
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            payload = None
        if not isinstance(payload, dict) or not name:
            return answer(name or "unknown", "malformed", started, {"error": "malformed delivery"}, 400)
        event = Event(name, payload, request.headers.get("X-GitHub-Delivery", ""))
        if name == "ping":
            return answer(name, "ping", started, {"msg": "pong"}, 200)
        if is_own_event(event, settings.bot_login):
            return answer(name, "own", started, None, 204)
        jobs = router.dispatch(event) if event.repo else []
        if not jobs:
            return answer(name, "ignored", started, None, 204)
        return _submit(event, jobs, started)

    def _submit(event: Event, jobs: list, started: float) -> Response:
        claimed = False
        try:
            if event.delivery_id:
                claimed = deliveries.claim(event.delivery_id)
                if not claimed:
                    return answer(event.name, "duplicate", started, {"duplicate": event.delivery_id}, 200)
            results = [executor.submit(job) for job in jobs]
        except QueueUnavailable as exc:
            if claimed:
                deliveries.release(event.delivery_id)
            log.warning("delivery %s: %s", event.delivery_id, exc)
            return answer(event.name, "queue_unavailable", started, {"error": "queue unavailable"}, 503)
        body = {"jobs": [{"id": r.job_id, "kind": r.kind, "new": r.new} for r in results]}
        return answer(event.name, "enqueued", started, body, 202)

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify({"ok": True})

    @app.get("/metrics")
    def metrics_text() -> Response:
        depths = getattr(executor, "queue_depths", None)

        def safe_depths() -> dict[str, int]:
            try:
                return depths() if depths else {}
            except QueueUnavailable:
                return {}

        return Response(metrics.render(safe_depths), mimetype="text/plain; version=0.0.4")

    return app
