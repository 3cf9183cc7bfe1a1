"""The same tool-call conversation round-trips through the real openai and anthropic SDKs
(plain and streamed) against the model stand-in over HTTP: tool calls parsed, tool results
sent back in each provider's format, usage and cost counted, Anthropic cache markers sent."""

from __future__ import annotations

import secrets

import pytest

from bot.llm.factory import make_model
from bot.llm.pricing import load_prices
from bot.llm.types import ChatModel, Message, Reply, ToolSpec
from tests.support.model_server import ModelServer, Turn

TOOLS = [
    ToolSpec(
        name="read_file",
        description="Read a file.",
        parameters={"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
    ),
    ToolSpec(
        name="run",
        description="Run a command.",
        parameters={"type": "object", "properties": {"command": {"type": "string"}}},
    ),
]
CASES = [
    ("openai:gpt-5.2", False),
    ("openai:gpt-5.2", True),
    ("anthropic:claude-haiku-4-5", False),
    ("anthropic:claude-haiku-4-5", True),
]


def env_for(server: ModelServer) -> dict[str, str]:
    return {
        "OPENAI_API_KEY": f"sk-test-{secrets.token_hex(8)}",
        "OPENAI_BASE_URL": server.openai_base_url,
        "ANTHROPIC_API_KEY": f"sk-ant-test-{secrets.token_hex(8)}",
        "ANTHROPIC_BASE_URL": server.anthropic_base_url,
    }


def converse(model: ChatModel) -> tuple[Reply, Reply, list[Message]]:
    """system + user → two tool calls → two tool results → final text."""
    messages = [
        Message(role="system", content="You are a careful coding agent."),
        Message(role="user", content="Fix the failing test.", cache_breakpoint=True),
    ]
    first = model.complete(messages, TOOLS)
    messages.append(Message(role="assistant", content=first.text, tool_calls=first.tool_calls))
    for call in first.tool_calls:
        messages.append(Message(role="tool", tool_call_id=call.id, content=f"output of {call.name}"))
    second = model.complete(messages, TOOLS)
    return first, second, messages


@pytest.mark.parametrize(("spec", "stream"), CASES)
def test_tool_call_round_trip(model_server: ModelServer, spec: str, stream: bool) -> None:
    model_server.script(
        [
            Turn(
                text="Reading first.",
                tool_calls=[("read_file", {"path": "src/app.py"}), ("run", {"command": "pytest -q"})],
                input_tokens=1000,
                output_tokens=50,
                cached_tokens=600,
                cache_write_tokens=100 if "anthropic" in spec else 0,
            ),
            Turn(text="All tests pass now.", input_tokens=1200, output_tokens=30),
        ]
    )
    model = make_model(spec, env=env_for(model_server), stream=stream, max_retry_s=2)
    first, second, _ = converse(model)

    assert first.text == "Reading first."
    assert [(c.name, c.arguments) for c in first.tool_calls] == [
        ("read_file", {"path": "src/app.py"}),
        ("run", {"command": "pytest -q"}),
    ]
    assert len({c.id for c in first.tool_calls}) == 2
    assert first.stop_reason == "tool_use" and second.stop_reason == "end_turn"
    assert second.text == "All tests pass now." and second.tool_calls == []

    usage = first.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cached_tokens, usage.calls) == (1000, 50, 600, 1)
    expected = load_prices().cost(model.spec.split(":", 1)[1], usage).cost_usd
    assert usage.cost_usd == pytest.approx(expected) and usage.cost_usd > 0 and usage.unpriced_calls == 0

    requests = model_server.requests
    assert len(requests) == 2 and all(r.auth_present for r in requests)
    assert all(bool(r.body.get("stream")) == stream for r in requests)
    sent = requests[1].body
    ids = [c.id for c in first.tool_calls]
    if spec.startswith("openai"):
        assistant, *results = sent["messages"][2:]
        assert [c["id"] for c in assistant["tool_calls"]] == ids
        assert assistant["tool_calls"][0]["function"] == {"name": "read_file", "arguments": '{"path": "src/app.py"}'}
        assert [(r["role"], r["tool_call_id"], r["content"]) for r in results] == [
            ("tool", ids[0], "output of read_file"),
            ("tool", ids[1], "output of run"),
        ]
        assert sent["messages"][0] == {"role": "system", "content": "You are a careful coding agent."}
        assert sent["tools"][0]["function"]["name"] == "read_file"
        assert sent["max_completion_tokens"] == 4096
        if stream:
            assert sent["stream_options"] == {"include_usage": True}
    else:
        assert first.usage.cache_write_tokens == 100
        user, assistant, results = sent["messages"]
        assert [b["type"] for b in assistant["content"]] == ["text", "tool_use", "tool_use"]
        assert [b["id"] for b in assistant["content"][1:]] == ids
        assert results["role"] == "user"
        assert [(b["type"], b["tool_use_id"], b["content"]) for b in results["content"]] == [
            ("tool_result", ids[0], "output of read_file"),
            ("tool_result", ids[1], "output of run"),
        ]
        # Prompt caching of the stable prefix: system, the tool list, the marked message.
        assert sent["system"][0]["cache_control"] == {"type": "ephemeral"}
        assert sent["tools"][-1]["cache_control"] == {"type": "ephemeral"}
        assert "cache_control" not in sent["tools"][0]
        assert user["content"][-1]["cache_control"] == {"type": "ephemeral"}
        assert sent["tools"][0]["input_schema"]["required"] == ["path"]


def test_anthropic_streams_when_max_tokens_is_large(model_server: ModelServer) -> None:
    model_server.script([Turn(text="long answer")])
    model = make_model("anthropic:claude-haiku-4-5", env=env_for(model_server), stream=False)
    reply = model.complete([Message(role="user", content="write a lot")], [], max_tokens=64_000)
    assert reply.text == "long answer"
    assert model_server.requests[0].body["stream"] is True
    assert model_server.requests[0].body["max_tokens"] == 64_000


def test_openai_compatible_uses_spec_base_url_and_placeholder_key(model_server: ModelServer) -> None:
    model_server.script([Turn(text="hello from a local model")])
    spec = f"openai-compatible:qwen2.5-coder:7b@{model_server.openai_base_url}"
    model = make_model(spec, env={})  # no key and no OPENAI_BASE_URL: the spec is enough
    reply = model.complete([Message(role="user", content="hi")], [], max_tokens=100)
    assert reply.text == "hello from a local model"
    sent = model_server.requests[0].body
    assert sent["model"] == "qwen2.5-coder:7b" and sent["max_tokens"] == 100
    assert "max_completion_tokens" not in sent
    assert reply.usage.cost_usd == 0 and reply.usage.unpriced_calls == 1
    assert model.context_window == 32_768


def test_openai_key_never_goes_to_a_compatible_host_named_in_the_spec(model_server: ModelServer) -> None:
    model_server.script([Turn(text="placeholder accepted"), Turn(text="own key accepted")])
    spec = f"openai-compatible:llama3@{model_server.openai_base_url}"
    model_server.api_key = "not-needed"  # any other key gets a 401
    reply = make_model(spec, env={"OPENAI_API_KEY": "sk-real-openai-key"}).complete(
        [Message(role="user", content="hi")], []
    )
    assert reply.text == "placeholder accepted"
    model_server.api_key = "litellm-master-key"
    env = {"OPENAI_API_KEY": "sk-real-openai-key", "ORCHESTRA_COMPATIBLE_API_KEY": "litellm-master-key"}
    assert make_model(spec, env=env).complete([Message(role="user", content="hi")], []).text == "own key accepted"


def test_openai_base_url_from_environment(model_server: ModelServer) -> None:
    model_server.script([Turn(text="via OPENAI_BASE_URL")])
    model = make_model("openai:gpt-5-mini", env=env_for(model_server))
    assert model.complete([Message(role="user", content="hi")], []).text == "via OPENAI_BASE_URL"
    assert model_server.requests[0].path == "/v1/chat/completions"
    assert model.context_window == 400_000


def test_policy_function_drives_both_providers(model_server: ModelServer) -> None:
    seen: list[str] = []

    def policy(request: dict, provider: str) -> Turn:
        seen.append(provider)
        return Turn(text=f"{provider} saw {len(request['messages'])} message(s)")

    model_server.policy(policy)
    env = env_for(model_server)
    for spec in ("openai:gpt-5.2", "anthropic:claude-haiku-4-5"):
        reply = make_model(spec, env=env).complete([Message(role="user", content="hi")], [])
        assert reply.text.endswith("saw 1 message(s)")
    assert seen == ["openai", "anthropic"]


def neutral(messages: list[Message]) -> list[tuple]:
    return [(m.role, m.content, [(c.id, c.name, c.arguments) for c in m.tool_calls], m.tool_call_id) for m in messages]


@pytest.mark.parametrize("spec", ["openai:gpt-5.2", "openai-responses:gpt-5.2", "anthropic:claude-haiku-4-5"])
def test_what_each_provider_sends_reads_back_as_the_same_conversation(model_server: ModelServer, spec: str) -> None:
    model_server.script(
        [
            Turn(text="Reading.", tool_calls=[("read_file", {"path": "a"}), ("run", {"command": "ls"})]),
            Turn(text="Done."),
        ]
    )
    _, _, messages = converse(make_model(spec, env=env_for(model_server)))
    assert neutral(model_server.requests[1].messages) == neutral(messages)


@pytest.mark.parametrize("spec", ["openai:gpt-5.2", "openai-responses:gpt-5.2", "anthropic:claude-haiku-4-5"])
def test_one_message_policy_drives_every_provider_alike(model_server: ModelServer, spec: str) -> None:
    def policy(messages: list[Message]) -> Turn:
        results = [m.content for m in messages if m.role == "tool"]
        if not results:
            return Turn(tool_calls=[("read_file", {"path": "VERSION"})])
        return Turn(text=f"version is {results[-1]}")

    model_server.policy_on_messages(policy)
    model = make_model(spec, env=env_for(model_server))
    messages = [Message(role="user", content="What version?")]
    reply = model.complete(messages, TOOLS)
    messages.append(reply.as_message())
    messages.append(Message(role="tool", tool_call_id=reply.tool_calls[0].id, content="1.2.3"))
    assert model.complete(messages, TOOLS).text == "version is 1.2.3"
