"""Anthropic Messages behind the `ChatModel` interface, with prompt caching of the stable prefix."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx2

from bot.llm.provider import ProviderModel
from bot.llm.retry import Transient
from bot.llm.types import Message, Reply, ToolCall, ToolSpec, Usage

CACHE = {"type": "ephemeral"}
#: Anthropic allows 4 cache breakpoints: system, tools, and the last two marked messages.
MAX_MESSAGE_BREAKPOINTS = 2
#: Above this many output tokens we always stream (the SDK refuses long non-streaming calls).
STREAM_ABOVE_MAX_TOKENS = 8192
#: An `event: error` inside a 200 stream carries only a type; the status it stands for.
STATUS_OF_ERROR_TYPE = {"overloaded_error": 529, "rate_limit_error": 429, "api_error": 500, "timeout_error": 504}


def system_blocks(messages: list[Message]) -> list[dict[str, Any]]:
    """All system messages as one cached text block (the stable head of every request)."""
    text = "\n\n".join(m.content for m in messages if m.role == "system" and m.content)
    return [{"type": "text", "text": text, "cache_control": CACHE}] if text else []


def to_wire_tools(tools: list[ToolSpec]) -> list[dict[str, Any]]:
    wire: list[dict[str, Any]] = [
        {"name": t.name, "description": t.description, "input_schema": t.parameters} for t in tools
    ]
    if wire:
        wire[-1]["cache_control"] = CACHE
    return wire


def _blocks(m: Message) -> list[dict[str, Any]]:
    if m.role == "tool":
        return [{"type": "tool_result", "tool_use_id": m.tool_call_id or "", "content": m.content or "(no output)"}]
    blocks: list[dict[str, Any]] = [{"type": "text", "text": m.content}] if m.content else []
    if m.role == "assistant":
        blocks += [{"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments} for c in m.tool_calls]
    return blocks or [{"type": "text", "text": "(empty)"}]


def to_wire_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """Our turns as Anthropic turns: tool results become user blocks; same-role turns merge."""
    marked = [i for i, m in enumerate(messages) if m.cache_breakpoint and m.role != "system"]
    keep = set(marked[-MAX_MESSAGE_BREAKPOINTS:])
    wire: list[dict[str, Any]] = []
    for i, m in enumerate(messages):
        if m.role == "system":
            continue
        role = "assistant" if m.role == "assistant" else "user"
        blocks = _blocks(m)
        if i in keep:
            blocks[-1] = {**blocks[-1], "cache_control": CACHE}
        if wire and wire[-1]["role"] == role:
            wire[-1]["content"].extend(blocks)
        else:
            wire.append({"role": role, "content": blocks})
    return wire


def usage_from_wire(usage: Any) -> Usage:
    """Anthropic counts uncached, cache-read and cache-write input separately; we sum them."""
    read = getattr(usage, "cache_read_input_tokens", None) or 0
    write = getattr(usage, "cache_creation_input_tokens", None) or 0
    return Usage(
        input_tokens=(usage.input_tokens or 0) + read + write,
        output_tokens=usage.output_tokens or 0,
        cached_tokens=read,
        cache_write_tokens=write,
        calls=1,
    )


def reply_from_wire(message: Any, default_model: str) -> Reply:
    text = "".join(b.text for b in message.content if b.type == "text")
    calls = [
        ToolCall(id=b.id, name=b.name, arguments=dict(b.input) if isinstance(b.input, dict) else {})
        for b in message.content
        if b.type == "tool_use"
    ]
    return Reply(
        text=text,
        tool_calls=calls,
        usage=usage_from_wire(message.usage),
        stop_reason=message.stop_reason or "end_turn",
        model=message.model or default_model,
    )


class AnthropicModel(ProviderModel[anthropic.Anthropic]):
    """A ChatModel over `client.messages`, streaming when asked or when the answer may be long."""

    def _request(self, messages: list[Message], tools: list[ToolSpec], max_tokens: int) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "max_tokens": max_tokens,
            "messages": to_wire_messages(messages),
        }
        system = system_blocks(messages)
        if system:
            params["system"] = system
        if tools:
            params["tools"] = to_wire_tools(tools)
        return params

    def _attempt(self, params: dict[str, Any]) -> Reply:
        try:
            if self._stream or params["max_tokens"] > STREAM_ABOVE_MAX_TOKENS:
                with self._client.messages.stream(**params) as events:
                    message = events.get_final_message()
            else:
                message = self._client.messages.create(**params)
        except anthropic.APIStatusError as exc:
            detail = exc.api_message or exc.message
            status = exc.status_code if exc.status_code >= 400 else STATUS_OF_ERROR_TYPE.get(str(exc.type), 400)
            raise self._status_failure(status, exc.response.headers, detail) from exc
        except anthropic.APIConnectionError as exc:
            raise self._unreachable(exc.message) from exc
        except httpx2.TransportError as exc:
            raise self._cut_off(exc) from exc
        if message.stop_reason is None:  # a stream that ended before message_delta
            raise Transient(f"{self.spec}: the stream ended before a stop_reason")
        return reply_from_wire(message, self.model)
