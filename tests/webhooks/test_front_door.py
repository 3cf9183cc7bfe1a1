"""The front door: forged, malformed, oversized, repeated and self-caused deliveries change nothing;
a queue outage answers 503 without burning the delivery id; health and metrics answer."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import redis
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from bot.errors import ConfigError
from bot.queue import InlineExecutor, RQExecutor
from bot.settings import Settings
from tests.support.schemas import webhook_examples
from tests.support.webhook_delivery import SECRET, deliver, rq_job_ids
from webhooks.app import MAX_BODY, create_app
from webhooks.deliveries import RedisDeliveryLog
from webhooks.signature import sign, verify

SETTINGS = Settings(webhook_secret=SECRET, app_id="4242", bot_login="orchestra[bot]")


def goal_opened() -> dict:
    payload = next(e for e in webhook_examples("issues") if e["action"] == "opened")
    payload["issue"]["labels"] = [{"name": "orchestra:goal"}]
    return payload


@pytest.fixture
def client(redis_conn: redis.Redis) -> Iterator[FlaskClient]:
    yield create_app(SETTINGS, executor=RQExecutor(redis_conn)).test_client()


def test_githubs_own_signature_vector() -> None:
    secret, body = b"It's a Secret to Everybody", b"Hello, World!"
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert sign(secret, body) == expected
    assert verify(secret, body, expected)
    assert not verify(secret, body + b" ", expected)
    assert not verify(secret, body, None)
    assert not verify(secret, body, "sha1=" + expected[7:])


@pytest.mark.parametrize("how", ["missing", "wrong secret", "tampered body"])
def test_a_forged_or_unsigned_delivery_is_401_and_enqueues_nothing(
    client: FlaskClient, redis_conn: redis.Redis, how: str
) -> None:
    payload = goal_opened()
    if how == "missing":
        response = deliver(client, "issues", payload, secret=None)
    elif how == "wrong secret":
        response = deliver(client, "issues", payload, secret="guess")
    else:
        signed = json.dumps(payload).encode()
        headers = {
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": "d-1",
            "X-Hub-Signature-256": sign(SECRET.encode(), signed),
        }
        response = client.post("/webhook", data=signed.replace(b"orchestra:goal", b"orchestra:task"), headers=headers)
    assert response.status_code == 401
    assert rq_job_ids(redis_conn) == []


def test_the_same_delivery_twice_makes_one_job(client: FlaskClient, redis_conn: redis.Redis) -> None:
    first = deliver(client, "issues", goal_opened(), delivery="same-id")
    second = deliver(client, "issues", goal_opened(), delivery="same-id")
    assert first.status_code == 202 and second.status_code == 200
    assert second.json == {"duplicate": "same-id"}
    assert rq_job_ids(redis_conn) == [first.json["jobs"][0]["id"]]


def test_a_new_delivery_of_the_same_work_reports_the_live_job(client: FlaskClient, redis_conn: redis.Redis) -> None:
    first = deliver(client, "issues", goal_opened())
    again = deliver(client, "issues", goal_opened())
    assert again.status_code == 202 and again.json["jobs"][0]["new"] is False
    assert rq_job_ids(redis_conn) == [first.json["jobs"][0]["id"]]


def test_the_bots_own_events_are_dropped_except_those_that_still_matter(
    client: FlaskClient, redis_conn: redis.Redis
) -> None:
    comment = next(e for e in webhook_examples("issue_comment") if e["action"] == "created")
    comment["comment"]["body"] = "/orchestra plan"
    comment["sender"].update(login="orchestra[bot]", type="Bot")
    assert deliver(client, "issue_comment", comment).status_code == 204
    goal = goal_opened()
    goal["sender"].update(login="Orchestra[bot]", type="User")
    assert deliver(client, "issues", goal).status_code == 204
    assert rq_job_ids(redis_conn) == []
    # A push the bot made (it merged a PR) still moves the default branch: conflicts are scanned.
    push = next(e for e in webhook_examples("push") if e["ref"] == f"refs/heads/{e['repository']['default_branch']}")
    push["sender"].update(login="orchestra[bot]", type="Bot")
    assert deliver(client, "push", push).status_code == 202


def test_malformed_json_is_400(client: FlaskClient, redis_conn: redis.Redis) -> None:
    assert deliver(client, "issues", None, body=b"{not json").status_code == 400
    assert deliver(client, "issues", None, body=b"[1, 2]").status_code == 400
    assert rq_job_ids(redis_conn) == []


def test_oversized_body_is_413(client: FlaskClient) -> None:
    response = client.post(
        "/webhook", data=b"x" * (MAX_BODY + 1), headers={"X-GitHub-Event": "issues", "X-Hub-Signature-256": "sha256=00"}
    )
    assert response.status_code == 413


def test_ping_is_answered(client: FlaskClient) -> None:
    response = deliver(client, "ping", webhook_examples("ping")[0])
    assert response.status_code == 200 and response.json == {"msg": "pong"}


def test_root_path_is_also_the_delivery_endpoint(client: FlaskClient, redis_conn: redis.Redis) -> None:
    raw = json.dumps(goal_opened()).encode()
    response = client.post(
        "/",
        data=raw,
        headers={
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": "r1",
            "X-Hub-Signature-256": sign(SECRET.encode(), raw),
        },
    )
    assert response.status_code == 202


def test_queue_outage_is_503_and_the_delivery_can_be_redelivered(redis_conn: redis.Redis) -> None:
    log = RedisDeliveryLog(redis_conn, "4242")
    down = create_app(SETTINGS, executor=RQExecutor.from_url("redis://127.0.0.1:1/0"), deliveries=log)
    assert deliver(down.test_client(), "issues", goal_opened(), delivery="d-503").status_code == 503
    assert redis_conn.keys("orchestra:delivery:*") == []
    up = create_app(SETTINGS, executor=RQExecutor(redis_conn), deliveries=log)
    assert deliver(up.test_client(), "issues", goal_opened(), delivery="d-503").status_code == 202
    assert len(rq_job_ids(redis_conn)) == 1


def test_queue_outage_with_default_delivery_log_is_503() -> None:
    app = create_app(SETTINGS, executor=RQExecutor.from_url("redis://127.0.0.1:1/0"))
    assert deliver(app.test_client(), "issues", goal_opened()).status_code == 503


def test_inline_executor_dedupes_deliveries_in_memory() -> None:
    ran: list[dict] = []
    executor = InlineExecutor(workers=1, perform=lambda job: ran.append(job.args))
    try:
        client = create_app(SETTINGS, executor=executor).test_client()
        assert deliver(client, "issues", goal_opened(), delivery="m1").status_code == 202
        assert deliver(client, "issues", goal_opened(), delivery="m1").status_code == 200
        executor.drain(10)
        assert len(ran) == 1 and ran[0]["number"] == goal_opened()["issue"]["number"]
    finally:
        executor.shutdown()


def test_the_app_refuses_to_start_without_a_secret() -> None:
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET"):
        create_app(Settings(), executor=InlineExecutor())


def _samples(text: str) -> dict[str, float]:
    return {
        f"{s.name}{sorted(s.labels.items())}": s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_healthz_and_metrics(client: FlaskClient) -> None:
    assert client.get("/healthz").json == {"ok": True}
    deliver(client, "issues", goal_opened())
    deliver(client, "issues", goal_opened(), secret="forged")
    response = client.get("/metrics")
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = _samples(response.get_data(as_text=True))
    assert samples["orchestra_webhook_deliveries_total[('event', 'issues'), ('outcome', 'enqueued')]"] == 1
    assert samples["orchestra_webhook_deliveries_total[('event', 'unverified'), ('outcome', 'bad_signature')]"] == 1
    assert samples["orchestra_webhook_ack_seconds_count[]"] == 2
    assert samples["orchestra_webhook_ack_seconds_bucket[('le', '+Inf')]"] == 2
    assert samples["orchestra_queue_depth[('queue', 'default')]"] == 1


def test_readyz_is_503_with_a_reason_while_redis_is_unreachable(client: FlaskClient) -> None:
    assert client.get("/readyz").json == {"ok": True}
    down = create_app(SETTINGS, executor=RQExecutor.from_url("redis://127.0.0.1:1/0")).test_client()
    response = down.get("/readyz")
    assert response.status_code == 503
    assert response.json == {"error": "queue unavailable: Redis did not answer PING (ConnectionError)"}
    assert down.get("/healthz").json == {"ok": True}


def test_an_app_without_redis_is_always_ready() -> None:
    executor = InlineExecutor(workers=1, perform=lambda job: None)
    try:
        assert create_app(SETTINGS, executor=executor).test_client().get("/readyz").json == {"ok": True}
    finally:
        executor.shutdown()
