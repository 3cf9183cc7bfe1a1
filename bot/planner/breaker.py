"""The spend breaker: per-goal and per-day caps on tokens and dollars, enforced where work is dispatched.

The caps are `budgets.goal` and `budgets.day` (`.github/orchestra.yml`), laid under `--goal-usd`
and the other flags of `orchestra run` and the `ORCHESTRA_BUDGET_*` variables (flags win, then the
environment, then the file). What a goal spent is kept on the forge, in each goal's planner record
(`GoalSpend`: the total its status last counted — the planner and every task's PR — and what was
added on each UTC date), so the accounts survive the loss of Redis. A goal's spend is its own plus
its sub-goals'; a day's is every open goal's spend on that UTC date.

When a cap is reached the dispatcher starts no new work of that goal (no implement job, no
sub-goal plan); work already running finishes. The goal says so (the `spend-breaker` comment, its
status line) and is labelled `paused`. `/orchestra resume` by someone the `Gate` allows lifts it:
the goal's cap then counts from what it had spent (another cap's worth), and the day's cap is
waived for that goal for the rest of the UTC day. A raised cap lifts it too, at the next dispatch.
The breaker's state is a data marker in its comment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from bot.forge.client import Forge
from bot.forge.types import Comment
from bot.ledger import comments, labels, markers
from bot.ledger.goaltree import find_tasks
from bot.ledger.labels import State, label_name
from bot.ledger.record import DaySpend, GoalSpend, load_record, now_iso, utc_day
from bot.repoconfig import RepoConfig

TAG = "spend-breaker"


class BreakerState(BaseModel):
    """The breaker of one goal: tripped (why), or lifted by a person (from what spend, on which day)."""

    tripped: bool = False
    reason: str = ""
    at: str = ""
    resumed_by: str = ""
    #: The goal's spend when a person resumed it: its cap counts from here.
    allowance_tokens: int = 0
    allowance_usd: float = 0.0
    #: The UTC date on which a person waived the day's cap for this goal.
    waived_day: str = ""


def read_state(forge: Forge, listing: list[Comment]) -> BreakerState:
    for comment in listing:
        if comments.is_bot(forge, comment) and markers.has_tag(comment.body, TAG):
            try:
                return BreakerState.model_validate(markers.read_data(comment.body, TAG) or {})
            except ValueError:
                return BreakerState()
    return BreakerState()


def _write(forge: Forge, number: int, state: BreakerState, text: str) -> None:
    comments.upsert(forge, number, TAG, f"{text}\n\n{markers.data_marker(TAG, state.model_dump(mode='json'))}")


@dataclass
class Accounts:
    """The spend of the repository's open goals, read once per dispatch pass (only when a cap is set)."""

    forge: Forge
    config: RepoConfig
    today: str = field(default_factory=utc_day)
    spend: dict[int, GoalSpend] = field(default_factory=dict)  # top goal → its and its sub-goals' spend
    states: dict[int, BreakerState] = field(default_factory=dict)

    def add(self, top: int, number: int) -> None:
        """Count goal `number` (a top-level goal or a sub-goal under `top`)."""
        listing = self.forge.list_comments(number)
        own = load_record(self.forge, number, listing).spend
        total = self.spend.get(top, GoalSpend())
        days = dict(total.days)
        for day, used in own.days.items():
            days[day] = DaySpend(
                tokens=days.get(day, DaySpend()).tokens + used.tokens, usd=days.get(day, DaySpend()).usd + used.usd
            )
        self.spend[top] = GoalSpend(tokens=total.tokens + own.tokens, usd=total.usd + own.usd, days=days)
        if number == top:
            self.states[top] = read_state(self.forge, listing)

    def day_total(self) -> DaySpend:
        used = [s.on(self.today) for s in self.spend.values()]
        return DaySpend(tokens=sum(u.tokens for u in used), usd=sum(u.usd for u in used))

    def reached(self, top: int) -> str | None:
        """Why goal `top` may start no new work, or None."""
        caps, spend = self.config.budgets, self.spend.get(top, GoalSpend())
        state = self.states.get(top, BreakerState())
        tokens, usd = spend.tokens - state.allowance_tokens, spend.usd - state.allowance_usd
        if caps.goal.tokens is not None and tokens >= caps.goal.tokens:
            return f"this goal used {tokens:,} tokens of its cap of {caps.goal.tokens:,} (`budgets.goal.tokens`)"
        if caps.goal.usd is not None and usd >= caps.goal.usd:
            return f"this goal spent ${usd:.2f} of its cap of ${caps.goal.usd:.2f} (`budgets.goal.usd`)"
        if state.waived_day == self.today:
            return None
        day = self.day_total()
        if caps.day.tokens is not None and day.tokens >= caps.day.tokens:
            return (
                f"the repository used {day.tokens:,} tokens on {self.today} (UTC) of its daily cap of "
                f"{caps.day.tokens:,} (`budgets.day.tokens`)"
            )
        if caps.day.usd is not None and day.usd >= caps.day.usd:
            return (
                f"the repository spent ${day.usd:.2f} on {self.today} (UTC) of its daily cap of "
                f"${caps.day.usd:.2f} (`budgets.day.usd`)"
            )
        return None


def trip(forge: Forge, config: RepoConfig, goal: int, reason: str, state: BreakerState) -> None:
    """Stop goal `goal`: say why on it, label it paused, keep the state."""
    tripped = state.model_copy(update={"tripped": True, "reason": reason, "at": now_iso()})
    _write(
        forge,
        goal,
        tripped,
        f"**Spend cap reached**: {reason}. No new work starts on this goal; work already "
        "running finishes. Someone with write access can comment `/orchestra resume` to continue (the goal "
        "then gets another cap's worth, and today's cap is waived for it), or raise the cap.",
    )
    labels.ensure(forge, config)
    forge.add_labels(goal, label_name(config.label_prefix, State.PAUSED))


def lift(forge: Forge, config: RepoConfig, goal: int, state: BreakerState, why: str) -> None:
    """A raised cap: the goal continues (label removed, the comment says so)."""
    _write(
        forge,
        goal,
        state.model_copy(update={"tripped": False}),
        f"The spend cap that stopped this goal is no longer reached ({why}); work continues.",
    )
    forge.remove_label(goal, label_name(config.label_prefix, State.PAUSED))


def goal_spend(forge: Forge, config: RepoConfig, goal: int) -> GoalSpend:
    """What goal `goal` and its sub-goals (at any depth) have spent."""
    accounts = Accounts(forge, config)
    pending, seen = [goal], set()
    while pending:
        number = pending.pop()
        if number in seen:
            continue
        seen.add(number)
        accounts.add(goal, number)
        pending += [t.number for t in find_tasks(forge, config, number) if t.subgoal]
    return accounts.spend.get(goal, GoalSpend())


def resumed(forge: Forge, config: RepoConfig, goal: int, sender: str) -> bool:
    """`/orchestra resume` by someone who may steer: a tripped breaker counts from the spend so far and
    waives today's cap for this goal. False when the breaker had not stopped the goal."""
    state = read_state(forge, forge.list_comments(goal))
    if not state.tripped:
        return False
    spend = goal_spend(forge, config, goal)
    _write(
        forge,
        goal,
        state.model_copy(
            update={
                "tripped": False,
                "resumed_by": sender,
                "allowance_tokens": spend.tokens,
                "allowance_usd": spend.usd,
                "waived_day": utc_day(),
            }
        ),
        f"@{sender} resumed this goal after its spend cap stopped it ({state.reason}); its cap now counts from "
        f"{spend.tokens:,} tokens and ${spend.usd:.2f}, and today's cap is waived for it.",
    )
    return True
