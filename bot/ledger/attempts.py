"""Attempt counters and usage of one PR, kept on the forge in a data marker of the PR body.

``<!-- orchestra:attempts {"ci_fix": 1, "ci_fix_shas": ["ab12…"], "conflict": 0, "review": 0,
"usage": {"worker": {...}, "ci_fix": {...}}} -->`` survives the loss of Redis, so the bounds on
CI-fix and conflict attempts hold whatever the queue forgets. The planner's status comment reads
`usage` (mirrored, summed, in a second `usage` marker) to report tokens and cost per task and role.

Budgets count failures, not races. `ci_fix` and `conflict` count the runs made (what the status
shows); the bounds count the runs that *failed*: an attempt is spent when it starts (a crash spends
it) and given back when it turns out to have worked — a conflict resolution that was pushed
(`conflict_ok`), a CI fix whose pushed head passed its own checks or whose queue batch failed only
because the default branch had moved on (`ci_fix_ok`). `/orchestra retry` clears `ci_fix_shas` and
`conflict_bases`, which resets what is spent. The total work on a PR (tokens, money, agent time
in `usage`) has its own ceiling (`budgets.pr`), which stops any loop.
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
    seconds: float = 0.0
    #: Calls of a model the price table does not know (counted at $0), and their tokens.
    unpriced_calls: int = 0
    unpriced_tokens: int = 0


class OpenFix(BaseModel):
    """The latest CI fix whose outcome is not known yet: what failed, what it pushed, on which base."""

    model_config = ConfigDict(extra="ignore")

    #: The failing commit the fix was made for: the PR head, or the queue batch / merge group head.
    tried: str
    #: The PR head the fix pushed.
    pushed: str
    #: For a fix of a red queue batch: the default branch tip the batch was built on ("" otherwise).
    base: str = ""


class Attempts(BaseModel):
    """What was tried on one PR."""

    model_config = ConfigDict(extra="ignore")

    ci_fix: int = 0
    ci_fix_shas: list[str] = Field(default_factory=list)
    ci_fix_ok: list[str] = Field(default_factory=list)
    ci_fix_open: OpenFix | None = None
    conflict: int = 0
    conflict_bases: list[str] = Field(default_factory=list)
    conflict_ok: list[str] = Field(default_factory=list)
    review: int = 0
    usage: dict[str, RoleUsage] = Field(default_factory=dict)

    def add_usage(self, role: str, usage: Usage, seconds: float = 0.0) -> Attempts:
        """A copy with `usage` (and `seconds` of agent time) added to `role`'s sum."""
        old = self.usage.get(role, RoleUsage())
        new = RoleUsage(
            input_tokens=old.input_tokens + usage.input_tokens,
            output_tokens=old.output_tokens + usage.output_tokens,
            cost_usd=round(old.cost_usd + usage.cost_usd, 6),
            calls=old.calls + usage.calls,
            runs=old.runs + 1,
            seconds=round(old.seconds + seconds, 1),
            unpriced_calls=old.unpriced_calls + usage.unpriced_calls,
            unpriced_tokens=old.unpriced_tokens + usage.unpriced_tokens,
        )
        return self.model_copy(update={"usage": {**self.usage, role: new}})

    @property
    def ci_fix_spent(self) -> int:
        """CI-fix attempts that count against `max_ci_fix_attempts` (made, not given back)."""
        return sum(1 for sha in self.ci_fix_shas if sha not in self.ci_fix_ok)

    @property
    def conflict_spent(self) -> int:
        """Conflict attempts that count against `max_conflict_attempts` (made, not given back)."""
        return sum(1 for base in self.conflict_bases if base not in self.conflict_ok)

    def start_ci_fix(self, tried: str) -> Attempts:
        """A copy with one more CI-fix attempt on the failing commit `tried` (spent until it is given back)."""
        return self.model_copy(
            update={"ci_fix": self.ci_fix + 1, "ci_fix_shas": [*self.ci_fix_shas, tried], "ci_fix_open": None}
        )

    def ci_fix_pushed(self, tried: str, pushed: str, base: str = "") -> Attempts:
        """A copy that remembers the fix of `tried` pushed `pushed` (its outcome is known later)."""
        return self.model_copy(update={"ci_fix_open": OpenFix(tried=tried, pushed=pushed, base=base)})

    def give_back_ci_fix(self) -> Attempts:
        """A copy in which the open fix worked or was overtaken: its attempt is no longer spent."""
        if self.ci_fix_open is None:
            return self
        ok = (
            [*self.ci_fix_ok, self.ci_fix_open.tried]
            if self.ci_fix_open.tried not in self.ci_fix_ok
            else self.ci_fix_ok
        )
        return self.model_copy(update={"ci_fix_ok": ok, "ci_fix_open": None})

    def start_conflict(self, base: str) -> Attempts:
        """A copy with one more conflict attempt for `base` (spent until the resolution is pushed)."""
        return self.model_copy(update={"conflict": self.conflict + 1, "conflict_bases": [*self.conflict_bases, base]})

    def conflict_resolved(self, base: str) -> Attempts:
        """A copy in which the resolution for `base` was pushed: its attempt is no longer spent."""
        return self.model_copy(update={"conflict_ok": [*self.conflict_ok, base]})

    @property
    def agent_seconds(self) -> float:
        return sum(u.seconds for u in self.usage.values())

    @property
    def total_tokens(self) -> int:
        return sum(u.input_tokens + u.output_tokens for u in self.usage.values())

    @property
    def total_usd(self) -> float:
        return round(sum(u.cost_usd for u in self.usage.values()), 6)

    @property
    def total(self) -> Usage:
        """Every role's usage summed, as one `Usage`."""
        return Usage(
            input_tokens=sum(u.input_tokens for u in self.usage.values()),
            output_tokens=sum(u.output_tokens for u in self.usage.values()),
            cost_usd=self.total_usd,
            calls=sum(u.calls for u in self.usage.values()),
            unpriced_calls=sum(u.unpriced_calls for u in self.usage.values()),
            unpriced_tokens=sum(u.unpriced_tokens for u in self.usage.values()),
        )


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
    total = attempts.total.model_dump(
        include={"input_tokens", "output_tokens", "cost_usd", "calls", "unpriced_calls", "unpriced_tokens"}
    )
    roles = {role: u.model_dump(mode="json") for role, u in attempts.usage.items()}
    return markers.write_data(body, USAGE_MARKER, {"total": total, "roles": roles})


def save(forge: Forge, pr_number: int, attempts: Attempts) -> None:
    """Write `attempts` into the PR's current body (re-read, so concurrent text edits survive)."""
    current = forge.get_pr(pr_number).body
    updated = write(current, attempts)
    if updated != current:
        forge.update_pr(pr_number, body=updated)


def over_ceiling(attempts: Attempts, tokens: int, usd: float, agent_hours: float) -> str | None:
    """Why the PR's total work has reached its ceiling (`budgets.pr`), or None while it has not."""
    if attempts.total_tokens >= tokens:
        return f"{attempts.total_tokens:,} tokens used of a ceiling of {tokens:,}"
    if attempts.total_usd >= usd:
        return f"${attempts.total_usd:.2f} spent of a ceiling of ${usd:.2f}"
    if attempts.agent_seconds >= agent_hours * 3600:
        return f"{attempts.agent_seconds / 3600:.1f} h of agent time used of a ceiling of {agent_hours:g} h"
    return None


def usage_line(attempts: Attempts) -> str:
    """One Markdown line: tokens and cost by role."""
    if not attempts.usage:
        return "no model usage recorded"
    parts = [
        f"{role}: {u.input_tokens + u.output_tokens:,} tokens, ${u.cost_usd:.4f}"
        for role, u in sorted(attempts.usage.items())
    ]
    return f"{attempts.total_tokens:,} tokens, ${attempts.total_usd:.4f} ({'; '.join(parts)})"
