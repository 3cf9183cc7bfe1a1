"""`create_app(settings)`: the Flask app that verifies, deduplicates and routes deliveries into jobs.

The delivery endpoint is `POST /webhook` (also `POST /`). It does no forge call, no git, no
model call and starts no thread: it verifies, routes and enqueues, then answers — 202 naming
the jobs, 204 when there is nothing to do, 400 when a signed payload cannot be routed (a field
missing or of the wrong type), 503 when the queue is unreachable (GitHub then shows the delivery
as failed and it can be redelivered). Every error answer is one line of JSON.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from bot.errors import ConfigError, QueueUnavailable
from bot.queue.executors import RQExecutor
from bot.queue.kinds import Executor, JobRequest
from bot.settings import Settings
from webhooks.deliveries import DeliveryLog, MemoryDeliveryLog, RedisDeliveryLog
from webhooks.event import Event
from webhooks.handlers import ROUTER
from webhooks.health import probe_for
from webhooks.metrics import CONTENT_TYPE, Metrics
from webhooks.payload import MalformedEvent, check_envelope
from webhooks.router import Router
from webhooks.signature import verify

log = logging.getLogger(__name__)

#: GitHub caps webhook payloads at 25 MB.
MAX_BODY = 25 * 1024 * 1024
#: The bot's own events still matter for these (a merge it made closes a task; a push it made
#: moves the default branch; its CI results are CI results). Everything else it caused is dropped.
#: `merge_group` comes from GitHub's merge queue bot (a Bot sender), never from the orchestra.
OWN_EVENTS_THAT_COUNT = {
    ("push", None),
    ("check_suite", None),
    ("check_run", None),
    ("status", None),
    ("pull_request", "closed"),
    ("issues", "closed"),
    ("merge_group", None),
}


@dataclass(frozen=True)
class Outcome:
    """How a delivery ended: a metrics label, the HTTP status and the JSON body (None: empty)."""

    name: str
    status: int
    body: dict[str, Any] | None = None


def is_own_event(event: Event, bot_login: str) -> bool:
    """True for an event the bot itself caused and must not react to (it would loop)."""
    sender = event.sender
    own = str(sender.get("login", "")).lower() == bot_login.lower() or sender.get("type") == "Bot"
    if not own:
        return False
    return (event.name, None) not in OWN_EVENTS_THAT_COUNT and (event.name, event.action) not in OWN_EVENTS_THAT_COUNT


def parse_object(body: bytes) -> dict[str, Any] | str:
    """The body's JSON object, or why there is none."""
    try:
        payload = json.loads(body)
    except RecursionError:
        return "the body's JSON is nested too deeply"
    except ValueError:  # not JSON, not UTF-8, or a number too long to convert
        return "the body is not JSON"
    return payload if isinstance(payload, dict) else "the body is not a JSON object"


class FrontDoor:
    """Verifies, de-duplicates and routes one delivery into jobs; answers with a status and a body."""

    def __init__(
        self,
        secret: bytes,
        bot_login: str,
        executor: Executor,
        deliveries: DeliveryLog,
        router: Router,
        metrics: Metrics,
    ) -> None:
        self.secret = secret
        self.bot_login = bot_login
        self.executor, self.deliveries, self.router, self.metrics = executor, deliveries, router, metrics

    def receive(self) -> Response:
        """The answer to the current Flask request."""
        started = time.perf_counter()
        result = self._event()
        if isinstance(result, Outcome):
            # Not a verified delivery: its headers are anyone's, so they never become metric labels.
            return self._answer("unverified", result, started)
        return self._answer(result.name, self._route(result), started)

    def _event(self) -> Event | Outcome:
        name = request.headers.get("X-GitHub-Event", "")
        if (request.content_length or 0) > MAX_BODY:
            return Outcome("too_large", 413, {"error": "payload too large"})
        body = request.get_data(cache=False)
        if not verify(self.secret, body, request.headers.get("X-Hub-Signature-256")):
            return Outcome("bad_signature", 401, {"error": "bad or missing signature"})
        if not name:
            return Outcome("malformed", 400, {"error": "no X-GitHub-Event header"})
        payload = parse_object(body)
        if isinstance(payload, str):
            return Outcome("malformed", 400, {"error": payload})
        return Event(name, payload, request.headers.get("X-GitHub-Delivery", ""))

    def _route(self, event: Event) -> Outcome:
        if event.name == "ping":
            return Outcome("ping", 200, {"msg": "pong"})
        if not self.router.handlers(event):  # an event or action the bot does not handle
            return Outcome("ignored", 204)
        try:
            check_envelope(event.payload)
            if is_own_event(event, self.bot_login):
                return Outcome("own", 204)
            jobs = self.router.dispatch(event)
        except MalformedEvent as exc:
            log.info("delivery %s: malformed %s payload: %s", event.delivery_id, event.name, exc)
            return Outcome("malformed", 400, {"error": f"malformed {event.name} payload: {exc}"})
        if not jobs:
            return Outcome("ignored", 204)
        return self._submit(event, jobs)

    def _submit(self, event: Event, jobs: list[JobRequest]) -> Outcome:
        claimed = False
        try:
            if event.delivery_id:
                claimed = self.deliveries.claim(event.delivery_id)
                if not claimed:
                    return Outcome("duplicate", 200, {"duplicate": event.delivery_id})
            results = [self.executor.submit(job) for job in jobs]
        except QueueUnavailable as exc:
            if claimed:  # not accepted: a redelivery must not be dropped as a duplicate
                self.deliveries.release(event.delivery_id)
            log.warning("delivery %s: %s", event.delivery_id, exc)
            return Outcome("queue_unavailable", 503, {"error": "queue unavailable"})
        return Outcome("enqueued", 202, {"jobs": [{"id": r.job_id, "kind": r.kind, "new": r.new} for r in results]})

    def _answer(self, event_name: str, outcome: Outcome, started: float) -> Response:
        self.metrics.observe(event_name, outcome.name, time.perf_counter() - started)
        response = jsonify(outcome.body) if outcome.body is not None else Response()
        response.status_code = outcome.status
        return response

    def queue_depths(self) -> dict[str, int]:
        depths = getattr(self.executor, "queue_depths", None)
        try:
            return dict(depths()) if depths else {}
        except QueueUnavailable:
            return {}


def json_error(error: HTTPException) -> tuple[Response, int]:
    """Every error this app answers is one line of JSON, never an HTML page (a 500 included)."""
    status = error.code or 500
    message = "internal error" if status >= 500 else (error.description or error.name)
    return jsonify({"error": message}), status


def create_app(
    settings: Settings,
    executor: Executor | None = None,
    deliveries: DeliveryLog | None = None,
    router: Router = ROUTER,
) -> Flask:
    """The web app. Without `executor`, jobs go to RQ at `settings.redis_url`."""
    if settings.webhook_secret is None:
        raise ConfigError("ORCHESTRA_WEBHOOK_SECRET is not set; the app refuses to run without it")
    if executor is None:
        executor = RQExecutor.from_url(settings.redis_url)
    if deliveries is None:
        deliveries = (
            RedisDeliveryLog(executor.connection, settings.app_id)
            if isinstance(executor, RQExecutor)
            else MemoryDeliveryLog()
        )
    app = Flask("orchestra-webhooks")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    secret = settings.webhook_secret.get_secret_value().encode()
    door = FrontDoor(secret, settings.bot_login, executor, deliveries, router, Metrics())
    app.extensions["orchestra"] = door
    app.add_url_rule("/webhook", "delivery", door.receive, methods=["POST"])
    app.add_url_rule("/", "delivery_root", door.receive, methods=["POST"])
    app.register_error_handler(HTTPException, json_error)
    ready = probe_for(executor)

    @app.get("/healthz")
    def healthz() -> Response:
        """Liveness: the process answers."""
        return jsonify({"ok": True})

    @app.get("/readyz")
    def readyz() -> tuple[Response, int]:
        """Readiness: deliveries can be enqueued (the queue's Redis answers PING in time)."""
        reason = ready()
        return (jsonify({"ok": True}), 200) if reason is None else (jsonify({"error": reason}), 503)

    @app.get("/metrics")
    def metrics_text() -> Response:
        return Response(door.metrics.render(door.queue_depths), content_type=CONTENT_TYPE)

    return app
