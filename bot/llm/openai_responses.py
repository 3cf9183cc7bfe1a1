"""OpenAI Responses API behind the `ChatModel` interface, stateless, keeping reasoning across turns.

Where it helps: reasoning models (gpt-5.x, o-series) lose their reasoning between tool calls
under Chat Completions. Here each reply's encrypted reasoning items ride in
`Reply.provider_state` and are sent back with the assistant turn (``store: false``: nothing is
kept on OpenAI's side, the conversation stays ours).
"""

from __future__ import annotations

import json
from typing import Any

from bot.llm.openai_provider import OpenAIModel, parse_arguments
from bot.llm.retry import Transient
from bot.llm.types import Message, Reply, ToolCall, ToolSpec, Usage

STATE_KEY = "openai-responses"


def to_wire_input(messages: list[Message]) -> tuple[str, list[dict[str, Any]]]:
    """(instructions, input items): system text, then messages, reasoning, calls and outputs."""
    instructions = "\n\n".join(m.content for m in messages if m.role == "system" and m.content)
    items: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "system":
            continue
        if m.role == "tool":
            items.append({"type": "function_call_output", "call_id": m.tool_call_id or "", "output": m.content})
            continue
        if m.role == "assistant":
            items.extend(m.provider_state.get(STATE_KEY, {}).get("reasoning", []))
        if m.content or m.role == "user":
            items.append({"role": m.role, "content": m.content})
        items.extend(
            {"type": "function_call", "call_id": c.id, "name": c.name, "arguments": json.dumps(c.arguments)}
            for c in m.tool_calls
        )
    return instructions, items


def to_wire_tools(tools: list[ToolSpec]) -> list[dict[str, Any]]:
    return [
        {"type": "function", "name": t.name, "description": t.description, "parameters": t.parameters, "strict": False}
        for t in tools
    ]


def usage_from_wire(usage: Any) -> Usage:
    if usage is None:
        return Usage(calls=1)
    details = getattr(usage, "input_tokens_details", None)
    return Usage(
        input_tokens=usage.input_tokens or 0,
        output_tokens=usage.output_tokens or 0,
        cached_tokens=getattr(details, "cached_tokens", None) or 0,
        calls=1,
    )


def reply_from_wire(response: Any, default_model: str) -> Reply:
    """Text from message items, calls from function_call items, reasoning kept for the next turn."""
    text: list[str] = []
    calls: list[ToolCall] = []
    reasoning: list[dict[str, Any]] = []
    for item in response.output or []:
        if item.type == "message":
            text.extend(part.text for part in item.content if part.type == "output_text")
        elif item.type == "function_call":
            calls.append(ToolCall(id=item.call_id, name=item.name, arguments=parse_arguments(item.arguments)))
        elif item.type == "reasoning":
            reasoning.append(item.model_dump(exclude_none=True, exclude={"status"}))
    incomplete = getattr(getattr(response, "incomplete_details", None), "reason", None)
    stop = "tool_use" if calls else ("max_tokens" if incomplete == "max_output_tokens" else "end_turn")
    return Reply(
        text="".join(text),
        tool_calls=calls,
        usage=usage_from_wire(response.usage),
        stop_reason=stop,
        model=response.model or default_model,
        provider_state={STATE_KEY: {"reasoning": reasoning}} if reasoning else {},
    )


class OpenAIResponsesModel(OpenAIModel):
    """A ChatModel over `client.responses` with ``store: false``."""

    def _request(self, messages: list[Message], tools: list[ToolSpec], max_tokens: int) -> dict[str, Any]:
        instructions, items = to_wire_input(messages)
        params: dict[str, Any] = {
            "model": self.model,
            "input": items,
            "max_output_tokens": max_tokens,
            "store": False,
            "include": ["reasoning.encrypted_content"],
        }
        if instructions:
            params["instructions"] = instructions
        if tools:
            params["tools"] = to_wire_tools(tools)
        return params

    def _attempt(self, params: dict[str, Any]) -> Reply:
        with self._failures():
            response = self._streamed(params) if self._stream else self._client.responses.create(**params)
        return reply_from_wire(response, self.model)

    def _streamed(self, params: dict[str, Any]) -> Any:
        """The final response of a stream (``response.completed``); a failed or cut stream is transient."""
        with self._client.responses.create(**params, stream=True) as events:
            for event in events:
                if event.type in {"response.completed", "response.incomplete"}:
                    return event.response
                if event.type in {"response.failed", "error"}:
                    error = getattr(getattr(event, "response", None), "error", None) or event
                    raise Transient(f"{self.spec}: the response failed: {getattr(error, 'message', error)}")
        raise Transient(f"{self.spec}: the stream ended before response.completed")
