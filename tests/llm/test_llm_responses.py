"""The Responses API provider round-trips a tool-call conversation through the real openai SDK
(plain and streamed) against the stand-in: calls and text parsed, tool outputs sent as
function_call_output items, encrypted reasoning carried back with the assistant turn
(``store: false``), usage and cost counted; faults are retried like the other providers."""

from __future__ import annotations

import secrets

import pytest

from bot.errors import ModelUnavailable
from bot.llm.factory import make_model
from bot.llm.retry import RetryPolicy
from bot.llm.types import Message, ToolSpec
from tests.support.model_server import ModelServer, Turn

TOOLS = [
    ToolSpec(
        name="read_file",
        description="Read a file.",
        parameters={"type": "object", "properties": {"path": {"type": "string"}}},
    )
]
FAST = RetryPolicy(max_retry_s=3.0, initial_wait_s=0.01, max_wait_s=0.05)


def env(server: ModelServer) -> dict[str, str]:
    return {"OPENAI_API_KEY": f"sk-test-{secrets.token_hex(8)}", "OPENAI_BASE_URL": server.openai_base_url}


@pytest.mark.parametrize("stream", [False, True])
def test_responses_round_trip_keeps_reasoning(model_server: ModelServer, stream: bool) -> None:
    model_server.script(
        [
            Turn(
                text="Looking.",
                tool_calls=[("read_file", {"path": "a.py"}), ("read_file", {"path": "b.py"})],
                reasoning="enc-reasoning-1",
                input_tokens=2000,
                output_tokens=100,
                cached_tokens=1500,
            ),
            Turn(text="Done."),
        ]
    )
    model = make_model("openai-responses:gpt-5.2", env=env(model_server), stream=stream, retry=FAST)
    messages = [Message(role="system", content="Be brief."), Message(role="user", content="Fix it.")]
    first = model.complete(messages, TOOLS, max_tokens=1000)
    assert first.text == "Looking." and first.stop_reason == "tool_use"
    assert [c.arguments for c in first.tool_calls] == [{"path": "a.py"}, {"path": "b.py"}]
    assert (first.usage.input_tokens, first.usage.cached_tokens, first.usage.output_tokens) == (2000, 1500, 100)
    # gpt-5.2: 500 uncached at $1.75, 1500 cached at $0.175, 100 out at $14 (per million)
    assert first.usage.cost_usd == pytest.approx((500 * 1.75 + 1500 * 0.175 + 100 * 14) / 1e6)

    messages.append(first.as_message())
    messages += [
        Message(role="tool", tool_call_id=c.id, content=f"contents of {c.arguments['path']}") for c in first.tool_calls
    ]
    second = model.complete(messages, TOOLS)
    assert second.text == "Done." and second.stop_reason == "end_turn" and second.provider_state == {}

    sent = model_server.requests[1].body
    assert sent["store"] is False and sent["instructions"] == "Be brief."
    assert sent["include"] == ["reasoning.encrypted_content"]
    assert sent["tools"][0]["name"] == "read_file" and sent["tools"][0]["type"] == "function"
    kinds = [item.get("type", item.get("role")) for item in sent["input"]]
    assert kinds == [
        "user",
        "reasoning",
        "assistant",
        "function_call",
        "function_call",
        "function_call_output",
        "function_call_output",
    ]
    assert sent["input"][1]["encrypted_content"] == "enc-reasoning-1"
    ids = [c.id for c in first.tool_calls]
    assert [i["call_id"] for i in sent["input"][3:5]] == ids
    assert [(i["call_id"], i["output"]) for i in sent["input"][5:]] == [
        (ids[0], "contents of a.py"),
        (ids[1], "contents of b.py"),
    ]
    assert all(bool(r.body.get("stream")) == stream for r in model_server.requests)


@pytest.mark.parametrize("stream", [False, True])
def test_responses_faults_are_retried_then_bounded(model_server: ModelServer, stream: bool) -> None:
    model_server.script([Turn(text="ok")])
    model_server.fail_next("429", 1, retry_after=0.05)
    model_server.fail_next("cut", 1)
    if stream:
        model_server.fail_next("eof", 1)  # ends cleanly before response.completed
    model = make_model("openai-responses:gpt-5-mini", env=env(model_server), stream=stream, retry=FAST)
    assert model.complete([Message(role="user", content="hi")], []).text == "ok"
    assert len(model_server.requests) == (4 if stream else 3)

    model_server.fail_next("529", 100)
    bounded = make_model(
        "openai-responses:gpt-5-mini",
        env=env(model_server),
        stream=stream,
        retry=RetryPolicy(max_retry_s=0.2, initial_wait_s=0.02, max_wait_s=0.05),
    )
    with pytest.raises(ModelUnavailable, match="HTTP 529"):
        bounded.complete([Message(role="user", content="hi")], [])
