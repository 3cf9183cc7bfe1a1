"""Local mode's plan gate: `orchestra run --plan-only` prints the plan and stops; `--approve` asks once.

Both lay `planning.approval: required` over the repository's config for the run, so the planner
posts its plan as a comment and files nothing. The run waits for that comment, prints the plan,
and then either stops (`--plan-only`: nothing was filed or started, exit 0) or asks the person once
(`Approve this plan? [y/N]`); a yes is the person's own `/orchestra approve` comment on the goal
(the person owns the repository, so the gate allows it), and the run follows the goal as usual.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Protocol

from bot.ledger import markers
from bot.ledger.labels import State, label_name
from bot.ledger.record import PLAN_MARKER
from bot.modes.local.session import LocalSession


class Clock(Protocol):
    """The run's sense of time (`bot.modes.local.run.RunClock`)."""

    def now(self) -> float: ...

    def wait(self, seconds: float, wake: Callable[[], bool], check_every_s: float = 0.2) -> None: ...


#: Seconds between two looks for the plan (the planner's first plan takes one job).
LOOK_S = 1.0


def plan_text(body: str) -> str:
    """A plan comment as a person reads it in a terminal: no hidden markers."""
    return re.sub(r"<!-- orchestra:.*?-->", "", body, flags=re.DOTALL).strip()


def wait_for_plan(session: LocalSession, goal: int, deadline: float, clock: Clock) -> tuple[str, str]:
    """(the plan's text, "") once the planner posted it; ("", why) when the goal needs a person or time ran out."""
    forge = session.person_forge()
    stuck = label_name(session.config_in_effect.label_prefix, State.NEEDS_HUMAN)
    while True:
        for comment in forge.list_comments(goal):
            if comment.author.lower() == session.settings.bot_login.lower() and markers.has_tag(
                comment.body, PLAN_MARKER
            ):
                return plan_text(comment.body), ""
        if stuck in forge.get_issue(goal).labels:
            return "", "the planner could not make a plan (the goal needs a person; see its comments)"
        if clock.now() > deadline:
            return "", "the deadline passed before the plan was posted"
        clock.wait(LOOK_S, lambda: False)


def ask_once(question: str) -> bool:
    """Ask on the terminal once; only y or yes approves (no terminal: no)."""
    print(question, end=" ", flush=True, file=sys.stderr)
    try:
        answer = input()
    except EOFError:
        return False
    return answer.strip().lower() in {"y", "yes"}


def approve_as_person(session: LocalSession, goal: int) -> None:
    """The person's `/orchestra approve` on the goal (its webhook starts the command job)."""
    session.person_forge().comment(goal, "/orchestra approve")
