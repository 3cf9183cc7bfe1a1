"""The one model interface: messages and tool schemas in, a reply (text, tool calls, usage) out.

Provider-neutral and serialisable: every provider (OpenAI, Anthropic, OpenAI-compatible,
scripted) converts to and from these types, and transcripts are written from them.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field


class ToolSpec(BaseModel):
    """A tool the model may call: a name, what it does, and a JSON Schema for its arguments."""

    name: str
    description: str
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class ToolCall(BaseModel):
    """One call the model asked for."""

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class Message(BaseModel):
    """One conversation turn. `tool` messages answer the call named by `tool_call_id`."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None
    #: The system prompt, tool list and any message marked stable may be cached by providers
    #: that support prompt caching (Anthropic): mark the last message of the stable prefix.
    cache_breakpoint: bool = False
    #: Opaque provider data an assistant turn must carry back (e.g. the Responses API's encrypted
    #: reasoning items). Copy it from `Reply.provider_state`; `Reply.as_message()` does.
    provider_state: dict[str, Any] = Field(default_factory=dict)


class Usage(BaseModel):
    """Tokens and cost of one call, or a sum of calls."""

    input_tokens: int = 0
    output_tokens: int = 0
    #: Input tokens read from the provider's prompt cache (part of `input_tokens`).
    cached_tokens: int = 0
    #: Input tokens written to the provider's prompt cache (part of `input_tokens`; Anthropic).
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    #: Calls whose model had no price in the table (their cost counts as 0), and their tokens.
    unpriced_calls: int = 0
    unpriced_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
            calls=self.calls + other.calls,
            unpriced_calls=self.unpriced_calls + other.unpriced_calls,
            unpriced_tokens=self.unpriced_tokens + other.unpriced_tokens,
        )


class Reply(BaseModel):
    """What the model answered."""

    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    stop_reason: str = "end_turn"
    model: str = ""
    #: Opaque provider data to send back with this turn (see `Message.provider_state`).
    provider_state: dict[str, Any] = Field(default_factory=dict)

    def as_message(self) -> Message:
        """This reply as the assistant turn to append to the conversation."""
        return Message(
            role="assistant",
            content=self.text,
            tool_calls=list(self.tool_calls),
            provider_state=dict(self.provider_state),
        )


class ChatModel(Protocol):
    """A model bound to one spec (e.g. ``anthropic:claude-sonnet-4-5``)."""

    spec: str
    #: Context window in tokens, used to decide when to drop or summarise old tool output.
    context_window: int

    def complete(self, messages: list[Message], tools: list[ToolSpec], *, max_tokens: int = 4096) -> Reply:
        """One round trip; raises bot.errors.ModelError / ModelUnavailable after bounded retries."""
        ...
