"""Attempt counters and usage of one PR, kept on the forge in a data marker of the PR body.

``<!-- orchestra:attempts {"ci_fix": 1, "ci_fix_shas": ["ab12…"], "conflict": 0, "review": 0,
"usage": {"worker": {...}, "ci_fix": {...}}} -->`` survives the loss of Redis, so the bounds on
CI-fix and conflict attempts hold whatever the queue forgets. The planner's status comment reads
`usage` (mirrored, summed, in a second `usage` marker) to report tokens and cost per task and role.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.forge.client import Forge
from bot.ledger import markers
from bot.llm.types import Usage

MARKER = "attempts"
USAGE_MARKER = "usage"


class RoleUsage(BaseModel):
    """Tokens and money one role spent on this PR, summed over its runs."""

    model_config = ConfigDict(extra="ignore")

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    runs: int = 0


class Attempts(BaseModel):
    """What was tried on one PR."""

    model_config = ConfigDict(extra="ignore")

    ci_fix: int = 0
    ci_fix_shas: list[str] = Field(default_factory=list)
    conflict: int = 0
    conflict_bases: list[str] = Field(default_factory=list)
    review: int = 0
    usage: dict[str, RoleUsage] = Field(default_factory=dict)

    def add_usage(self, role: str, usage: Usage) -> Attempts:
        """A copy with `usage` added to `role`'s sum."""
        old = self.usage.get(role, RoleUsage())
        new = RoleUsage(input_tokens=old.input_tokens + usage.input_tokens,
                        output_tokens=old.output_tokens + usage.output_tokens,
                        cost_usd=round(old.cost_usd + usage.cost_usd, 6), calls=old.calls + usage.calls,
                        runs=old.runs + 1)
        return self.model_copy(update={"usage": {**self.usage, role: new}})

    @property
    def total_tokens(self) -> int:
        return sum(u.input_tokens + u.output_tokens for u in self.usage.values())

    @property
    def total_usd(self) -> float:
        return round(sum(u.cost_usd for u in self.usage.values()), 6)


def read(body: str | None) -> Attempts:
    """The attempts in a PR body (zeros when there is no marker or it is unreadable)."""
    data = markers.read_data(body, MARKER)
    if not isinstance(data, dict):
        return Attempts()
    try:
        return Attempts.model_validate(data)
    except ValidationError:
        return Attempts()


def write(body: str | None, attempts: Attempts) -> str:
    """`body` with the attempts marker (plus `count`, all extra attempts) and the usage marker set.

    The planner's status comment reads `count` from the attempts marker and `total` from the
    usage marker (``<!-- orchestra:usage {"total": {...}, "roles": {...}} -->``).
    """
    data = {**attempts.model_dump(mode="json"), "count": attempts.ci_fix + attempts.conflict + attempts.review}
    body = markers.write_data(body, MARKER, data)
    total = {"input_tokens": sum(u.input_tokens for u in attempts.usage.values()),
             "output_tokens": sum(u.output_tokens for u in attempts.usage.values()),
             "cost_usd": attempts.total_usd, "calls": sum(u.calls for u in attempts.usage.values())}
    roles = {role: u.model_dump(mode="json") for role, u in attempts.usage.items()}
    return markers.write_data(body, USAGE_MARKER, {"total": total, "roles": roles})


def save(forge: Forge, pr_number: int, attempts: Attempts) -> None:
    """Write `attempts` into the PR's current body (re-read, so concurrent text edits survive)."""
    current = forge.get_pr(pr_number).body
    updated = write(current, attempts)
    if updated != current:
        forge.update_pr(pr_number, body=updated)


def usage_line(attempts: Attempts) -> str:
    """One Markdown line: tokens and cost by role."""
    if not attempts.usage:
        return "no model usage recorded"
    parts = [f"{role}: {u.input_tokens + u.output_tokens:,} tokens, ${u.cost_usd:.4f}" for role, u in sorted(attempts.usage.items())]
    return f"{attempts.total_tokens:,} tokens, ${attempts.total_usd:.4f} ({'; '.join(parts)})"
