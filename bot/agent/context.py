"""Keeping a conversation inside the model's window: old tool output gives way first."""

from __future__ import annotations

import json

from bot.llm.types import Message

#: Start dropping old tool output when the conversation passes this share of the window.
HIGH_WATER = 0.7
#: The most recent messages are never compacted.
KEEP_RECENT = 6
#: Tool-call arguments longer than this (e.g. a written file) are elided in old turns.
LONG_ARGUMENT = 800


def estimate_tokens(messages: list[Message]) -> int:
    """A provider-neutral estimate: about four characters a token, plus a little per message."""
    chars = 0
    for m in messages:
        chars += len(m.content) + 16
        for call in m.tool_calls:
            chars += len(call.name) + len(json.dumps(call.arguments, ensure_ascii=False))
    return chars // 4


def _dropped_note(size: int) -> str:
    return f"[old tool output dropped to save context: {size:,} characters; call the tool again if you need it]"


def compact(messages: list[Message], context_window: int, reserve: int, last_prompt_tokens: int = 0) -> int:
    """Shrink old tool output (then long old arguments) in place until under the high-water mark.

    The system prompt, the task (the first two messages) and the last `KEEP_RECENT` messages
    are kept as they are. Returns how many messages were compacted.
    """
    limit = int(context_window * HIGH_WATER) - reserve

    def size() -> int:
        return max(estimate_tokens(messages), last_prompt_tokens if not changed else 0)

    changed = 0
    old = range(2, max(2, len(messages) - KEEP_RECENT))
    for index in old:
        if size() <= limit:
            return changed
        message = messages[index]
        if message.role == "tool" and not message.content.startswith("[old tool output dropped"):
            messages[index] = message.model_copy(update={"content": _dropped_note(len(message.content))})
            changed += 1
    for index in old:
        if size() <= limit:
            return changed
        message = messages[index]
        if message.role == "assistant" and message.tool_calls:
            calls = []
            for call in message.tool_calls:
                args = {
                    k: (f"[{len(v):,} characters elided]" if isinstance(v, str) and len(v) > LONG_ARGUMENT else v)
                    for k, v in call.arguments.items()
                }
                calls.append(call.model_copy(update={"arguments": args}))
            if calls != message.tool_calls:
                messages[index] = message.model_copy(update={"tool_calls": calls})
                changed += 1
    return changed
