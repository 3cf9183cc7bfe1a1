"""Bounded retries through the real SDKs against the stand-in: injected 429 (retry-after and
retry-after-ms), 529 overloaded, 500 and a slow answer succeed within the bound; past the
bound the call raises ModelUnavailable; a 401 raises ModelError at once, without the key."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from bot.errors import ModelError, ModelUnavailable
from bot.llm.factory import make_model
from bot.llm.retry import RetryPolicy, retry_after_seconds, scrub
from bot.llm.types import ChatModel, Message
from tests.support.model_server import ModelServer, Turn

SPECS = ["openai:gpt-5.2", "anthropic:claude-haiku-4-5"]
FAST = RetryPolicy(max_retry_s=3.0, initial_wait_s=0.01, max_wait_s=0.05)
HI = [Message(role="user", content="hi")]


def model(
    server: ModelServer, spec: str, *, policy: RetryPolicy = FAST, timeout_s: float = 5.0, key: str | None = None
) -> ChatModel:
    key = key or f"sk-test-{secrets.token_hex(12)}"
    env = {
        "OPENAI_API_KEY": key,
        "OPENAI_BASE_URL": server.openai_base_url,
        "ANTHROPIC_API_KEY": key,
        "ANTHROPIC_BASE_URL": server.anthropic_base_url,
    }
    return make_model(spec, env=env, retry=policy, timeout_s=timeout_s)


@pytest.mark.parametrize("spec", SPECS)
def test_429_retry_after_is_honoured_then_succeeds(model_server: ModelServer, spec: str) -> None:
    model_server.script([Turn(text="ok")])
    model_server.fail_next("429", 1, retry_after=0.3)
    client = model(model_server, spec)
    started = time.monotonic()
    reply = client.complete(HI, [])
    elapsed = time.monotonic() - started
    assert reply.text == "ok" and len(model_server.requests) == 2
    assert 0.3 <= elapsed < FAST.max_retry_s


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("kind", ["529", "500"])
def test_overloaded_and_server_errors_are_retried(model_server: ModelServer, spec: str, kind: str) -> None:
    model_server.script([Turn(text="recovered")])
    model_server.fail_next(kind, 2)
    assert model(model_server, spec).complete(HI, []).text == "recovered"
    assert len(model_server.requests) == 3


def test_retry_after_ms_wins_over_backoff(model_server: ModelServer) -> None:
    model_server.script([Turn(text="ok")])
    model_server.fail_next("529", 1, retry_after_ms=250)
    started = time.monotonic()
    assert model(model_server, "anthropic:claude-haiku-4-5").complete(HI, []).text == "ok"
    assert time.monotonic() - started >= 0.25


@pytest.mark.parametrize("spec", SPECS)
def test_slow_answer_times_out_and_the_retry_succeeds(model_server: ModelServer, spec: str) -> None:
    model_server.script([Turn(text="fast this time")])
    model_server.fail_next("slow", 1, delay=3.0)
    client = model(model_server, spec, timeout_s=0.3)
    started = time.monotonic()  # the call only: building the SDK's client is slow on a busy machine
    reply = client.complete(HI, [])
    assert reply.text == "fast this time" and len(model_server.requests) == 2
    assert time.monotonic() - started < 3.0  # did not wait for the slow answer


@pytest.mark.parametrize("spec", SPECS)
def test_retry_after_beyond_the_bound_gives_up_at_once(model_server: ModelServer, spec: str) -> None:
    model_server.script([Turn(text="never reached")])
    model_server.fail_next("429", 1, retry_after=30)
    client = model(model_server, spec, policy=RetryPolicy(max_retry_s=0.5, initial_wait_s=0.01))
    started = time.monotonic()  # the call only: building the SDK's client is slow on a busy machine
    with pytest.raises(ModelUnavailable, match="HTTP 429") as caught:
        client.complete(HI, [])
    assert time.monotonic() - started < 0.5 and len(model_server.requests) == 1
    assert "retry bound 0.5s" in str(caught.value)


@pytest.mark.parametrize("spec", SPECS)
def test_persistent_failure_ends_in_model_unavailable_within_bound(model_server: ModelServer, spec: str) -> None:
    model_server.fail_next("500", 1000)
    client = model(model_server, spec, policy=RetryPolicy(max_retry_s=0.4, initial_wait_s=0.02, max_wait_s=0.05))
    started = time.monotonic()
    with pytest.raises(ModelUnavailable, match="HTTP 500"):
        client.complete(HI, [])
    assert time.monotonic() - started < 1.5
    assert len(model_server.requests) >= 3


@pytest.mark.parametrize("spec", SPECS)
def test_401_is_a_model_error_without_retry_or_key(model_server: ModelServer, spec: str) -> None:
    model_server.script([Turn(text="never reached")])
    model_server.api_key = "the-right-key"
    key = f"sk-test-{secrets.token_hex(16)}"
    with pytest.raises(ModelError) as caught:
        model(model_server, spec, key=key).complete(HI, [])
    assert type(caught.value) is ModelError
    message = str(caught.value)
    assert "HTTP 401" in message and "Incorrect API key" in message
    assert key not in message and key[8:] not in message
    assert len(model_server.requests) == 1
    assert model_server.requests[0].headers.get("authorization", "<redacted>") == "<redacted>"


def test_retry_after_parses_seconds_dates_and_milliseconds() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after_seconds({"retry-after": "7"}) == 7
    assert (
        retry_after_seconds({"retry-after": format_datetime(now + timedelta(seconds=90), usegmt=True)}, now=now) == 90
    )
    assert retry_after_seconds({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


def test_scrub_removes_the_key_and_key_shaped_text() -> None:
    assert scrub("bad key abc123secret here", ["abc123secret"]) == "bad key *** here"
    assert "proj" not in scrub("Incorrect API key provided: sk-proj-AbCd1234****wxyz.", [])


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("stream", [False, True])
def test_answer_cut_mid_way_is_retried(model_server: ModelServer, spec: str, stream: bool) -> None:
    model_server.script([Turn(text="a complete answer, in several chunks", tool_calls=[("run", {"command": "ls"})])])
    model_server.fail_next("cut", 1)
    key = f"sk-test-{secrets.token_hex(12)}"
    env = {
        "OPENAI_API_KEY": key,
        "OPENAI_BASE_URL": model_server.openai_base_url,
        "ANTHROPIC_API_KEY": key,
        "ANTHROPIC_BASE_URL": model_server.anthropic_base_url,
    }
    reply = make_model(spec, env=env, retry=FAST, stream=stream).complete(HI, [])
    assert reply.text == "a complete answer, in several chunks"
    assert [c.arguments for c in reply.tool_calls] == [{"command": "ls"}]
    assert len(model_server.requests) == 2


@pytest.mark.parametrize("spec", SPECS)
def test_stream_that_ends_early_is_retried_not_taken_as_complete(model_server: ModelServer, spec: str) -> None:
    model_server.script([Turn(text="the whole answer", tool_calls=[("run", {"command": "pytest"})])])
    model_server.fail_next("eof", 1)
    key = f"sk-test-{secrets.token_hex(12)}"
    env = {
        "OPENAI_API_KEY": key,
        "OPENAI_BASE_URL": model_server.openai_base_url,
        "ANTHROPIC_API_KEY": key,
        "ANTHROPIC_BASE_URL": model_server.anthropic_base_url,
    }
    reply = make_model(spec, env=env, retry=FAST, stream=True).complete(HI, [])
    assert reply.text == "the whole answer" and reply.tool_calls[0].arguments == {"command": "pytest"}
    assert len(model_server.requests) == 2


@pytest.mark.parametrize("spec", [*SPECS, "openai-responses:gpt-5.2"])
def test_error_event_inside_a_stream_is_retried(model_server: ModelServer, spec: str) -> None:
    model_server.script([Turn(text="after the overload")])
    model_server.fail_next("overloaded-event", 2)
    key = f"sk-test-{secrets.token_hex(12)}"
    env = {
        "ANTHROPIC_API_KEY": key,
        "ANTHROPIC_BASE_URL": model_server.anthropic_base_url,
        "OPENAI_API_KEY": key,
        "OPENAI_BASE_URL": model_server.openai_base_url,
    }
    reply = make_model(spec, env=env, retry=FAST, stream=True).complete(HI, [])
    assert reply.text == "after the overload" and len(model_server.requests) == 3
