"""Summing usage per job, task and goal: a meter that records each call by role and model."""

from __future__ import annotations

import threading
from typing import Any

from bot.llm.types import ChatModel, Message, Reply, ToolSpec, Usage


class UsageMeter:
    """Thread-safe running totals of `Usage`, keyed by (role, model); serialisable as plain dicts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[tuple[str, str], Usage] = {}

    def record(self, role: str, model: str, usage: Usage) -> None:
        with self._lock:
            key = (role, model)
            self._rows[key] = self._rows.get(key, Usage()) + usage

    def merge(self, other: UsageMeter) -> None:
        """Add every row of `other` (e.g. a task's meter into its goal's)."""
        for (role, model), usage in other.rows().items():
            self.record(role, model, usage)

    def rows(self) -> dict[tuple[str, str], Usage]:
        with self._lock:
            return dict(self._rows)

    def total(self) -> Usage:
        return sum(self.rows().values(), Usage())

    def by_role(self) -> dict[str, Usage]:
        out: dict[str, Usage] = {}
        for (role, _), usage in self.rows().items():
            out[role] = out.get(role, Usage()) + usage
        return out

    def by_model(self) -> dict[str, Usage]:
        out: dict[str, Usage] = {}
        for (_, model), usage in self.rows().items():
            out[model] = out.get(model, Usage()) + usage
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain values: ``{"total": {...}, "rows": [{"role", "model", ...usage}]}``."""
        rows = [
            {"role": role, "model": model, **usage.model_dump()} for (role, model), usage in sorted(self.rows().items())
        ]
        return {"total": self.total().model_dump(), "rows": rows}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UsageMeter:
        meter = cls()
        for row in data.get("rows", []):
            values = {k: v for k, v in row.items() if k not in {"role", "model"}}
            meter.record(row["role"], row["model"], Usage.model_validate(values))
        return meter


class MeteredModel:
    """A ChatModel that records every reply's usage into a meter under one role."""

    def __init__(self, model: ChatModel, meter: UsageMeter, role: str) -> None:
        self.model = model
        self.meter = meter
        self.role = role
        self.spec = model.spec
        self.context_window = model.context_window

    def complete(self, messages: list[Message], tools: list[ToolSpec], *, max_tokens: int = 4096) -> Reply:
        reply = self.model.complete(messages, tools, max_tokens=max_tokens)
        self.meter.record(self.role, self.spec, reply.usage)
        return reply
