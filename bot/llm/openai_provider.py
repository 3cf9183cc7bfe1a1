"""OpenAI Chat Completions (and any OpenAI-compatible endpoint) behind the `ChatModel` interface."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2
import openai

from bot.llm.provider import ProviderModel
from bot.llm.retry import Transient
from bot.llm.types import Message, Reply, ToolCall, ToolSpec, Usage

_STOP = {"stop": "end_turn", "tool_calls": "tool_use", "function_call": "tool_use", "length": "max_tokens"}


def to_wire_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """Our messages as Chat Completions messages (assistant tool calls, `tool` results)."""
    wire: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "tool":
            wire.append({"role": "tool", "tool_call_id": m.tool_call_id or "", "content": m.content})
        elif m.role == "assistant" and m.tool_calls:
            wire.append(
                {
                    "role": "assistant",
                    "content": m.content or None,
                    "tool_calls": [
                        {
                            "id": c.id,
                            "type": "function",
                            "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
                        }
                        for c in m.tool_calls
                    ],
                }
            )
        else:
            wire.append({"role": m.role, "content": m.content})
    return wire


def to_wire_tools(tools: list[ToolSpec]) -> list[dict[str, Any]]:
    return [
        {"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}
        for t in tools
    ]


def parse_arguments(raw: str | None) -> dict[str, Any]:
    """Decode a tool call's JSON arguments; undecodable text is kept under ``_unparsed_arguments``."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return {"_unparsed_arguments": raw}
    return value if isinstance(value, dict) else {"_unparsed_arguments": raw}


def usage_from_wire(usage: Any) -> Usage:
    if usage is None:
        return Usage(calls=1)
    details = getattr(usage, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", None) or 0
    return Usage(
        input_tokens=usage.prompt_tokens or 0,
        output_tokens=usage.completion_tokens or 0,
        cached_tokens=cached,
        calls=1,
    )


class OpenAIModel(ProviderModel[openai.OpenAI]):
    """What the OpenAI APIs share: how the SDK's failures become ours."""

    @contextmanager
    def _failures(self) -> Iterator[None]:
        try:
            yield
        except openai.APIStatusError as exc:
            raise self._status_failure(exc.status_code, exc.response.headers, exc.message) from exc
        except openai.APIConnectionError as exc:
            raise self._unreachable(exc.message) from exc
        except openai.APIError as exc:  # an error object inside a 200 stream, or a malformed answer
            raise self._unreachable(exc.message) from exc
        except httpx2.TransportError as exc:
            raise self._cut_off(exc) from exc


class OpenAIChatModel(OpenAIModel):
    """A ChatModel over `client.chat.completions`."""

    def __init__(
        self, spec: str, model: str, client: openai.OpenAI, *, compatible: bool = False, **options: Any
    ) -> None:
        super().__init__(spec, model, client, **options)
        # OpenAI's newer models take max_completion_tokens; local servers know max_tokens.
        self._max_tokens_key = "max_tokens" if compatible else "max_completion_tokens"

    def _request(self, messages: list[Message], tools: list[ToolSpec], max_tokens: int) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "messages": to_wire_messages(messages),
            self._max_tokens_key: max_tokens,
        }
        if tools:
            params["tools"] = to_wire_tools(tools)
        return params

    def _attempt(self, params: dict[str, Any]) -> Reply:
        with self._failures():
            if self._stream:
                return self._streamed(params)
            completion = self._client.chat.completions.create(**params)
        choice = completion.choices[0]
        calls = [
            ToolCall(id=c.id, name=c.function.name, arguments=parse_arguments(c.function.arguments))
            for c in (choice.message.tool_calls or [])
            if c.type == "function"
        ]
        return Reply(
            text=choice.message.content or "",
            tool_calls=calls,
            usage=usage_from_wire(completion.usage),
            stop_reason=_STOP.get(choice.finish_reason or "stop", choice.finish_reason or "end_turn"),
            model=completion.model or self.model,
        )

    def _streamed(self, params: dict[str, Any]) -> Reply:
        """Accumulate a streamed completion: text deltas, tool-call deltas by index, final usage chunk."""
        text: list[str] = []
        calls: dict[int, dict[str, str]] = {}
        finish, model, usage = "", self.model, None
        stream = self._client.chat.completions.create(**params, stream=True, stream_options={"include_usage": True})
        with stream:
            for chunk in stream:
                model = chunk.model or model
                usage = chunk.usage or usage
                for choice in chunk.choices:
                    delta = choice.delta
                    if delta.content:
                        text.append(delta.content)
                    for part in delta.tool_calls or []:
                        slot = calls.setdefault(part.index, {"id": "", "name": "", "arguments": ""})
                        slot["id"] = part.id or slot["id"]
                        if part.function is not None:
                            slot["name"] += part.function.name or ""
                            slot["arguments"] += part.function.arguments or ""
                    finish = choice.finish_reason or finish
        if not finish:  # a close-delimited stream that ended early looks like a clean end
            raise Transient(f"{self.spec}: the stream ended before a finish_reason")
        return Reply(
            text="".join(text),
            tool_calls=[
                ToolCall(id=s["id"], name=s["name"], arguments=parse_arguments(s["arguments"]))
                for _, s in sorted(calls.items())
            ],
            usage=usage_from_wire(usage),
            stop_reason=_STOP.get(finish, finish),
            model=model,
        )
