"""How the model stand-in writes a `Turn` on the wire: Chat Completions, Responses, Messages.

Plain JSON and streamed server-sent events, in the shapes and orders the real SDKs parse.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.llm.types import Message, ToolCall


@dataclass
class Turn:
    """One reply, written once for both providers: text and/or tool calls, and its usage."""

    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: Input tokens in total (uncached + cache reads + cache writes), as our `Usage` counts them.
    input_tokens: int = 100
    output_tokens: int = 20
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    #: Responses API only: emit a reasoning item with this encrypted content before the answer.
    reasoning: str | None = None


class Answerer(Protocol):
    """What a wire writer needs from the request handler."""

    chunked: bool

    def _json(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None, cut: bool = False
    ) -> None: ...

    def _sse(
        self, events: Iterator[tuple[str | None, Any]], cut_after: int | None = None, chunked: bool = True
    ) -> None: ...

    def next_id(self, prefix: str) -> str: ...


def chunks(text: str, size: int = 7) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


# -- OpenAI Chat Completions ---------------------------------------------------------------------
def answer_openai(handler: Answerer, body: dict[str, Any], turn: Turn, cut_after: int | None = None) -> None:
    ident, model, created = handler.next_id("chatcmpl"), body.get("model", "?"), int(time.time())
    calls = [(handler.next_id("call"), name, json.dumps(args)) for name, args in turn.tool_calls]
    finish = "tool_calls" if calls else "stop"
    usage = {
        "prompt_tokens": turn.input_tokens,
        "completion_tokens": turn.output_tokens,
        "total_tokens": turn.input_tokens + turn.output_tokens,
        "prompt_tokens_details": {"cached_tokens": turn.cached_tokens},
    }
    if not body.get("stream"):
        message: dict[str, Any] = {"role": "assistant", "content": turn.text or None}
        if calls:
            message["tool_calls"] = [
                {"id": i, "type": "function", "function": {"name": n, "arguments": a}} for i, n, a in calls
            ]
        handler._json(
            200,
            {
                "id": ident,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": usage,
            },
            cut=cut_after is not None,
        )
        return

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> tuple[None, Any]:
        return None, {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }

    def events() -> Iterator[tuple[str | None, Any]]:
        yield chunk({"role": "assistant", "content": ""})
        for piece in chunks(turn.text) if turn.text else []:
            yield chunk({"content": piece})
        for index, (call_id, name, arguments) in enumerate(calls):
            yield chunk(
                {
                    "tool_calls": [
                        {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
                    ]
                }
            )
            for piece in chunks(arguments):
                yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
        yield chunk({}, finish)
        if (body.get("stream_options") or {}).get("include_usage"):
            yield (
                None,
                {
                    "id": ident,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [],
                    "usage": usage,
                },
            )
        yield None, "[DONE]"

    handler._sse(events(), cut_after, handler.chunked)


# -- OpenAI Responses API ------------------------------------------------------------------------
def answer_responses(handler: Answerer, body: dict[str, Any], turn: Turn, cut_after: int | None = None) -> None:
    ident, model, created = handler.next_id("resp"), body.get("model", "?"), int(time.time())
    items: list[dict[str, Any]] = []
    if turn.reasoning is not None:
        items.append(
            {"type": "reasoning", "id": handler.next_id("rs"), "summary": [], "encrypted_content": turn.reasoning}
        )
    if turn.text:
        items.append(
            {
                "type": "message",
                "id": handler.next_id("msg"),
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": turn.text, "annotations": []}],
            }
        )
    items += [
        {
            "type": "function_call",
            "id": handler.next_id("fc"),
            "call_id": handler.next_id("call"),
            "name": name,
            "arguments": json.dumps(args),
            "status": "completed",
        }
        for name, args in turn.tool_calls
    ]
    usage = {
        "input_tokens": turn.input_tokens,
        "output_tokens": turn.output_tokens,
        "total_tokens": turn.input_tokens + turn.output_tokens,
        "input_tokens_details": {"cached_tokens": turn.cached_tokens, "cache_write_tokens": 0},
        "output_tokens_details": {"reasoning_tokens": 0},
    }
    response = {
        "id": ident,
        "object": "response",
        "created_at": created,
        "status": "completed",
        "model": model,
        "output": items,
        "usage": usage,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": body.get("tools", []),
        "error": None,
        "incomplete_details": None,
    }
    if not body.get("stream"):
        handler._json(200, response, cut=cut_after is not None)
        return
    handler._sse(_named(_response_events(response, items)), cut_after, handler.chunked)


def _response_events(response: dict[str, Any], items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The Responses stream in the order the SDK demands: created first, items added and done
    in order, completed last."""
    pending = {**response, "status": "in_progress", "output": [], "usage": None}
    yield {"type": "response.created", "response": pending}
    yield {"type": "response.in_progress", "response": pending}
    for index, item in enumerate(items):
        at = {"output_index": index, "item_id": item["id"]}
        if item["type"] == "message":
            text = item["content"][0]["text"]
            yield {
                "type": "response.output_item.added",
                "output_index": index,
                "item": {**item, "status": "in_progress", "content": []},
            }
            part = {"type": "output_text", "text": "", "annotations": []}
            yield {"type": "response.content_part.added", **at, "content_index": 0, "part": part}
            for piece in chunks(text):
                yield {"type": "response.output_text.delta", **at, "content_index": 0, "delta": piece, "logprobs": []}
            yield {"type": "response.output_text.done", **at, "content_index": 0, "text": text, "logprobs": []}
            yield {"type": "response.content_part.done", **at, "content_index": 0, "part": item["content"][0]}
        elif item["type"] == "function_call":
            yield {
                "type": "response.output_item.added",
                "output_index": index,
                "item": {**item, "status": "in_progress", "arguments": ""},
            }
            for piece in chunks(item["arguments"]):
                yield {"type": "response.function_call_arguments.delta", **at, "delta": piece}
            yield {
                "type": "response.function_call_arguments.done",
                **at,
                "arguments": item["arguments"],
                "name": item["name"],
            }
        else:
            yield {"type": "response.output_item.added", "output_index": index, "item": item}
        yield {"type": "response.output_item.done", "output_index": index, "item": item}
    yield {"type": "response.completed", "response": response}


def _named(events: Iterator[dict[str, Any]]) -> Iterator[tuple[str | None, Any]]:
    for number, event in enumerate(events):
        yield event["type"], {**event, "sequence_number": number}


# -- Anthropic Messages --------------------------------------------------------------------------
def answer_anthropic(handler: Answerer, body: dict[str, Any], turn: Turn, cut_after: int | None = None) -> None:
    model = body.get("model", "?")
    blocks: list[dict[str, Any]] = [{"type": "text", "text": turn.text}] if turn.text else []
    blocks += [{"type": "tool_use", "id": handler.next_id("toolu"), "name": n, "input": a} for n, a in turn.tool_calls]
    stop = "tool_use" if turn.tool_calls else "end_turn"
    usage = {
        "input_tokens": turn.input_tokens - turn.cached_tokens - turn.cache_write_tokens,
        "output_tokens": turn.output_tokens,
        "cache_read_input_tokens": turn.cached_tokens,
        "cache_creation_input_tokens": turn.cache_write_tokens,
    }
    message = {
        "id": handler.next_id("msg"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": blocks,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": usage,
    }
    if not body.get("stream"):
        handler._json(200, message, cut=cut_after is not None)
        return

    def events() -> Iterator[tuple[str | None, Any]]:
        start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
        yield "message_start", {"type": "message_start", "message": start}
        for index, block in enumerate(blocks):
            opening: dict[str, Any]
            if block["type"] == "text":
                opening = {"type": "text", "text": ""}
                deltas = [{"type": "text_delta", "text": piece} for piece in chunks(block["text"])]
            else:
                opening = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
                deltas = [
                    {"type": "input_json_delta", "partial_json": piece} for piece in chunks(json.dumps(block["input"]))
                ]
            yield "content_block_start", {"type": "content_block_start", "index": index, "content_block": opening}
            for delta in deltas:
                yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
            yield "content_block_stop", {"type": "content_block_stop", "index": index}
        yield (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": turn.output_tokens},
            },
        )
        yield "message_stop", {"type": "message_stop"}

    handler._sse(events(), cut_after, handler.chunked)


# -- Reading a request back into provider-neutral messages ----------------------------------------
def request_messages(body: dict[str, Any], provider: str) -> list[Message]:
    """The conversation a request carries, as `bot.llm.types.Message`s (for policies and asserts)."""
    if provider == "openai":
        return [_from_chat(m) for m in body.get("messages", [])]
    if provider == "openai-responses":
        return _from_responses(body)
    system = body.get("system") or []
    text = system if isinstance(system, str) else "".join(b.get("text", "") for b in system)
    out = [Message(role="system", content=text)] if text else []
    for turn in body.get("messages", []):
        out += _from_anthropic(turn)
    return out


def _from_chat(m: dict[str, Any]) -> Message:
    calls = [
        ToolCall(id=c["id"], name=c["function"]["name"], arguments=json.loads(c["function"]["arguments"]))
        for c in m.get("tool_calls") or []
    ]
    return Message(role=m["role"], content=m.get("content") or "", tool_calls=calls, tool_call_id=m.get("tool_call_id"))


def _from_responses(body: dict[str, Any]) -> list[Message]:
    out = [Message(role="system", content=body["instructions"])] if body.get("instructions") else []
    for item in body.get("input", []):
        kind = item.get("type", "message")
        if kind == "function_call_output":
            out.append(Message(role="tool", tool_call_id=item["call_id"], content=item["output"]))
        elif kind == "function_call":
            call = ToolCall(id=item["call_id"], name=item["name"], arguments=json.loads(item["arguments"]))
            if not (out and out[-1].role == "assistant"):
                out.append(Message(role="assistant"))
            out[-1].tool_calls.append(call)
        elif kind == "message":
            out.append(Message(role=item["role"], content=item["content"]))
    return out


def _from_anthropic(turn: dict[str, Any]) -> list[Message]:
    content = turn["content"]
    if isinstance(content, str):
        return [Message(role=turn["role"], content=content)]
    results = [
        Message(role="tool", tool_call_id=b["tool_use_id"], content=b["content"])
        for b in content
        if b["type"] == "tool_result"
    ]
    text = "".join(b["text"] for b in content if b["type"] == "text")
    calls = [ToolCall(id=b["id"], name=b["name"], arguments=b["input"]) for b in content if b["type"] == "tool_use"]
    rest = [Message(role=turn["role"], content=text, tool_calls=calls)] if text or calls else []
    return results + rest
