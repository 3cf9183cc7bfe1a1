"""Scripted models: deterministic stand-ins chosen by spec (``scripted:<name>``).

A scripted model is a *demonstration and test device, not a model*: a policy function
decides each reply from the conversation so far. The offline demo's `scripted:demo` is offered
by each way of running it (`bot/modes/`: the runtime's `scripts`, passed to `make_model`);
tests register their own with `register_script`.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Mapping

from bot.errors import ConfigError
from bot.llm.types import Message, Reply, ToolCall, ToolSpec, Usage

Policy = Callable[[list[Message], list[ToolSpec]], Reply]
PolicyFactory = Callable[[], Policy]

_REGISTRY: dict[str, PolicyFactory] = {}
_LOCK = threading.Lock()


def register_script(name: str, factory: PolicyFactory) -> None:
    """Make ``scripted:<name>`` build a model whose replies come from ``factory()``."""
    with _LOCK:
        _REGISTRY[name] = factory


def unregister_script(name: str) -> None:
    with _LOCK:
        _REGISTRY.pop(name, None)


def script_names() -> list[str]:
    with _LOCK:
        return sorted(_REGISTRY)


def estimate_tokens(text: str) -> int:
    """A rough count (4 characters a token) so budgets and reports work offline."""
    return max(1, len(text) // 4)


class ScriptedModel:
    """A ChatModel whose every reply is decided by a policy function; usage is estimated."""

    context_window = 200_000

    def __init__(self, spec: str, policy: Policy) -> None:
        self.spec = spec
        self._policy = policy
        self._lock = threading.Lock()

    def complete(self, messages: list[Message], tools: list[ToolSpec], *, max_tokens: int = 4096) -> Reply:
        with self._lock:
            reply = self._policy(messages, tools)
        prompt = sum(estimate_tokens(m.content) + 4 for m in messages)
        output = estimate_tokens(reply.text) + sum(estimate_tokens(str(c.arguments)) for c in reply.tool_calls)
        usage = reply.usage if reply.usage.calls else Usage(input_tokens=prompt, output_tokens=output, calls=1)
        return reply.model_copy(update={"usage": usage, "model": reply.model or self.spec})


def scripted_model(spec: str, scripts: Mapping[str, PolicyFactory] | None = None) -> ScriptedModel:
    """Build the model for ``scripted:<name>`` from `scripts` (what the process's composition root
    offers, e.g. the demo's) or the registry; unknown names are a ConfigError listing the known ones."""
    name = spec.split(":", 1)[1] if ":" in spec else spec
    offered = dict(scripts or {})
    with _LOCK:
        factory = offered.get(name) or _REGISTRY.get(name)
    if factory is None:
        known = ", ".join(f"scripted:{n}" for n in sorted({*offered, *script_names()})) or "none registered"
        raise ConfigError(f"model {spec!r}: no such scripted model; known: {known}")
    return ScriptedModel(spec, factory())


_ids = itertools.count(1)


def call(name: str, **arguments: object) -> ToolCall:
    """A tool call with a fresh id, for writing policies."""
    return ToolCall(id=f"call_{next(_ids)}", name=name, arguments=dict(arguments))


def turns(replies: Iterable[Reply]) -> PolicyFactory:
    """A factory for a policy that plays `replies` in order, then repeats the last one."""
    fixed = list(replies)

    def factory() -> Policy:
        queue = list(fixed)

        def policy(messages: list[Message], tools: list[ToolSpec]) -> Reply:
            return queue.pop(0) if len(queue) > 1 else queue[0]

        return policy

    return factory
