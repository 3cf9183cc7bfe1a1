"""Signed deliveries that cannot be routed — a field missing or of the wrong type, JSON nested too
deep — are answered 400 with one line of JSON naming the field, and enqueue nothing; events and
actions the bot does not handle stay 204 whatever their shape; no answer is ever an HTML page."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient

from bot.queue import RQExecutor
from bot.settings import Settings
from tests.support.schemas import webhook_examples
from tests.support.webhook_delivery import SECRET, deliver, rq_job_ids
from webhooks.app import create_app
from webhooks.router import Router

SETTINGS = Settings(webhook_secret=SECRET, app_id="4242")
BRANCH = "orchestra/5-add-login"


@pytest.fixture
def client(redis_conn: redis.Redis) -> Iterator[FlaskClient]:
    yield create_app(SETTINGS, executor=RQExecutor(redis_conn)).test_client()


def _first(event: str, action: str | None = None) -> dict[str, Any]:
    return next(e for e in webhook_examples(event) if action is None or e.get("action") == action)


def goal() -> dict[str, Any]:
    payload = _first("issues", "opened")
    payload["issue"]["labels"] = [{"name": "orchestra:goal"}]
    return payload


def command() -> dict[str, Any]:
    payload = _first("issue_comment", "created")
    payload["comment"]["body"] = "/orchestra plan"
    return payload


def merged() -> dict[str, Any]:
    payload = _first("pull_request", "closed")
    payload["pull_request"].update(merged=True, head={**payload["pull_request"]["head"], "ref": BRANCH})
    return payload


def review(event: str, action: str) -> Callable[[], dict[str, Any]]:
    def make() -> dict[str, Any]:
        payload = _first(event, action)
        payload["pull_request"]["head"]["ref"] = BRANCH
        if "review" in payload:
            payload["review"]["state"] = "changes_requested"
        return payload

    return make


def suite_failed() -> dict[str, Any]:
    payload = _first("check_suite", "completed")
    payload["check_suite"].update(conclusion="failure", head_branch=BRANCH)
    return payload


def run_failed() -> dict[str, Any]:
    payload = _first("check_run", "completed")
    payload["check_run"]["conclusion"] = "failure"
    payload["check_run"]["check_suite"]["head_branch"] = BRANCH
    return payload


def status_failed() -> dict[str, Any]:
    payload = _first("status")
    payload.update(state="failure", branches=[{"name": BRANCH}])
    return payload


def push() -> dict[str, Any]:
    return next(e for e in webhook_examples("push") if e["ref"] == f"refs/heads/{e['repository']['default_branch']}")


def delete(path: str) -> Callable[[dict[str, Any]], None]:
    *parents, last = path.split(".")

    def mutate(payload: dict[str, Any]) -> None:
        for key in parents:
            payload = payload[key]
        del payload[last]

    return mutate


def put(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    *parents, last = path.split(".")

    def mutate(payload: dict[str, Any]) -> None:
        for key in parents:
            payload = payload[key]
        payload[last] = value

    return mutate


# (event, a payload that makes a job, how it is broken, the path the answer names)
BROKEN: list[tuple[str, Callable[[], dict[str, Any]], Callable[[dict[str, Any]], None], str]] = [
    ("issues", goal, delete("issue.number"), "issue.number"),
    ("issues", goal, put("issue", "#7"), "issue"),
    ("issues", goal, put("issue.number", "7"), "issue.number"),
    ("issues", goal, put("issue.number", True), "issue.number"),
    ("issues", goal, put("issue.labels", "orchestra:goal"), "issue.labels"),
    ("issues", goal, put("issue.labels", ["orchestra:goal"]), "issue.labels[0]"),
    ("issues", goal, put("repository", None), "repository.full_name"),
    ("issues", goal, put("repository.full_name", ["octo", "cat"]), "repository.full_name"),
    ("issues", goal, put("installation", {"id": "12"}), "installation.id"),
    ("issues", goal, put("sender", "octocat"), "sender"),
    ("issue_comment", command, delete("comment.id"), "comment.id"),
    ("issue_comment", command, put("comment.body", 42), "comment.body"),
    ("issue_comment", command, put("issue.number", None), "issue.number"),
    ("issue_comment", command, put("comment", "/orchestra plan"), "comment"),
    ("pull_request", merged, put("pull_request.head", BRANCH), "pull_request.head"),
    ("pull_request", merged, put("pull_request.merged", "yes"), "pull_request.merged"),
    ("pull_request_review", review("pull_request_review", "submitted"), put("review.id", "1"), "review.id"),
    (
        "pull_request_review_comment",
        review("pull_request_review_comment", "created"),
        delete("pull_request.number"),
        "pull_request.number",
    ),
    ("check_suite", suite_failed, put("check_suite.pull_requests", {}), "check_suite.pull_requests"),
    ("check_run", run_failed, put("check_run.check_suite", BRANCH), "check_run.check_suite"),
    ("status", status_failed, put("branches", [BRANCH]), "branches[0]"),
    ("push", push, put("repository.default_branch", 1), "repository.default_branch"),
]


def _assert_json_error(response: Any, status: int) -> str:
    assert response.status_code == status, response.data
    assert response.mimetype == "application/json"
    text = response.get_data(as_text=True).strip()
    assert "\n" not in text and "<html" not in text.lower()
    error = response.json["error"]
    assert isinstance(error, str) and error
    return error


@pytest.mark.parametrize(
    ("event", "make", "breaks", "path"),
    BROKEN,
    ids=[f"{event}-{path}-{index}" for index, (event, _m, _b, path) in enumerate(BROKEN)],
)
def test_a_signed_payload_with_a_missing_or_wrongly_typed_field_is_400_naming_it(
    client: FlaskClient,
    redis_conn: redis.Redis,
    event: str,
    make: Callable[[], dict[str, Any]],
    breaks: Callable[[dict[str, Any]], None],
    path: str,
) -> None:
    payload = make()
    assert deliver(client, event, payload).status_code == 202  # intact, the payload makes a job
    redis_conn.flushdb()
    breaks(payload)
    error = _assert_json_error(deliver(client, event, payload), 400)
    assert error.startswith(f"malformed {event} payload: {path}: expected "), error
    assert rq_job_ids(redis_conn) == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"a": ' * 100_000 + b"1" + b"}" * 100_000, "nested too deeply"),
        (b'{"action": "opened", "issue": {"number": ' + b"9" * 5000 + b"}}", "not JSON"),
        (b'{"action": "opened", "issue": "\xff\xfe"}', "not JSON"),
        (b'"just a string"', "not a JSON object"),
    ],
    ids=["deep-array", "deep-object", "huge-number", "not-utf8", "string"],
)
def test_a_signed_body_that_is_no_usable_json_object_is_400(
    client: FlaskClient, redis_conn: redis.Redis, body: bytes, reason: str
) -> None:
    error = _assert_json_error(deliver(client, "issues", None, body=body), 400)
    assert reason in error
    assert rq_job_ids(redis_conn) == []


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        ("fork", {"forkee": "not an object", "repository": 7}),
        ("issues", {"action": "deleted", "issue": "not an object"}),
        ("pull_request", {"action": "edited", "pull_request": ["x"]}),
        ("issues", {"action": 5, "issue": {"number": "x"}}),
    ],
    ids=["unknown-event", "unhandled-action", "unhandled-pr-action", "non-string-action"],
)
def test_unhandled_events_and_actions_stay_204_whatever_their_shape(
    client: FlaskClient, redis_conn: redis.Redis, event: str, payload: dict[str, Any]
) -> None:
    response = deliver(client, event, payload)
    assert response.status_code == 204 and response.data == b""
    assert rq_job_ids(redis_conn) == []


def test_a_delivery_without_an_event_header_is_400(client: FlaskClient) -> None:
    raw = json.dumps(goal()).encode()
    response = deliver(client, "", None, body=raw)
    assert "X-GitHub-Event" in _assert_json_error(response, 400)


def test_http_errors_are_json_not_html(client: FlaskClient) -> None:
    assert _assert_json_error(client.get("/nowhere"), 404)
    assert _assert_json_error(client.get("/webhook"), 405)


def test_a_bug_in_a_handler_is_a_json_500_and_enqueues_nothing(redis_conn: redis.Redis) -> None:
    broken = Router()

    @broken.register("issues", action="opened")
    def on_opened(_event: Any) -> Iterator[Any]:
        raise RuntimeError("a handler bug")
        yield  # pragma: no cover

    client = create_app(SETTINGS, executor=RQExecutor(redis_conn), router=broken).test_client()
    assert _assert_json_error(deliver(client, "issues", goal()), 500) == "internal error"
    assert rq_job_ids(redis_conn) == []
