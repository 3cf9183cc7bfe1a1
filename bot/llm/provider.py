"""The part every SDK-backed `ChatModel` shares: one call with bounded retries, then priced usage."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from bot.llm.pricing import PriceTable
from bot.llm.retry import RetryPolicy, Transient, call_with_retries, scrub, status_failure
from bot.llm.types import Message, Reply, ToolSpec

ClientT = TypeVar("ClientT")


class ProviderModel(ABC, Generic[ClientT]):
    """A ChatModel over one SDK client; retries are ours (the client has max_retries=0).

    A provider says only its wire format: `_request` builds the call's parameters once,
    `_attempt` makes one call with them and parses the answer into a `Reply`.
    """

    def __init__(
        self,
        spec: str,
        model: str,
        client: ClientT,
        *,
        prices: PriceTable,
        policy: RetryPolicy,
        context_window: int,
        stream: bool = False,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self.spec = spec
        self.model = model
        self.context_window = context_window
        self._client = client
        self._prices = prices
        self._policy = policy
        self._stream = stream
        self._secrets = secrets

    def complete(self, messages: list[Message], tools: list[ToolSpec], *, max_tokens: int = 4096) -> Reply:
        params = self._request(messages, tools, max_tokens)
        reply = call_with_retries(lambda: self._attempt(params), self._policy, what=self.spec)
        return reply.model_copy(update={"usage": self._prices.cost(self.model, reply.usage)})

    @abstractmethod
    def _request(self, messages: list[Message], tools: list[ToolSpec], max_tokens: int) -> dict[str, Any]:
        """The SDK call's keyword arguments for this conversation."""

    @abstractmethod
    def _attempt(self, params: dict[str, Any]) -> Reply:
        """One call; raises `Transient` for what another attempt may fix."""

    def _status_failure(self, status: int, headers: Mapping[str, str], message: str) -> Exception:
        return status_failure(self.spec, status, headers, message, self._secrets)

    def _unreachable(self, message: str) -> Transient:
        return Transient(f"{self.spec}: {scrub(message, self._secrets)}")

    def _cut_off(self, exc: Exception) -> Transient:
        """A streamed body cut mid-way (the SDKs do not wrap it)."""
        return Transient(f"{self.spec}: connection lost mid-answer: {type(exc).__name__}")
