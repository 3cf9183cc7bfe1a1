"""The report as one self-contained HTML file: inline CSS and SVG, no script, nothing fetched.

The template (`report.html.j2`) escapes every value; the two pictures come escaped from
`drawing.py`. A Content-Security-Policy meta tag forbids scripts and every fetch besides the
file's own inline styles and `data:` images, so even a mistake in escaping could not run code or
reach the network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from bot.ledger.attempts import RoleUsage
from bot.ledger.palette import LOOKS, shown_state
from bot.modes.local.report.drawing import MARKS, clock, graph_svg, timeline_svg
from bot.modes.local.report.history import RunHistory

#: The order roles are shown in.
ROLES = ("planner", "worker", "ci_fix", "conflict", "review")
#: How an event is said in the table of what happened.
SAID = {
    "claimed": "claimed",
    "pr_opened": "PR opened",
    "ci_failed": "CI failed",
    "ci_fixed": "CI fixed",
    "conflict_resolved": "conflict resolved",
    "review_addressed": "review addressed",
    "failure": "failure reported",
    "merged": "merged",
    "closed": "closed",
}


@dataclass
class UsageRow:
    """Tokens and cost of one task (or a goal's planner), by role."""

    what: str
    roles: dict[str, tuple[int, float]] = field(default_factory=dict)

    @property
    def tokens(self) -> int:
        return sum(tokens for tokens, _cost in self.roles.values())

    @property
    def cost(self) -> float:
        return sum(cost for _tokens, cost in self.roles.values())


def usage_rows(history: RunHistory) -> list[UsageRow]:
    """The planner of each goal, then each task with a PR; a last row with the totals."""
    rows = [
        UsageRow(f"planner of #{g.number}", {"planner": (g.planner.total_tokens, g.planner.cost_usd)})
        for g in history.goals
        if g.planner.total_tokens or g.parent is None
    ]
    for task in history.tasks:
        if task.usage:
            rows.append(
                UsageRow(f"#{task.number} {task.title}", {role: _tokens_cost(u) for role, u in task.usage.items()})
            )
    total = UsageRow("all")
    for row in rows:
        for role, (tokens, cost) in row.roles.items():
            old = total.roles.get(role, (0, 0.0))
            total.roles[role] = (old[0] + tokens, old[1] + cost)
    return [*rows, total]


def _tokens_cost(usage: RoleUsage) -> tuple[int, float]:
    return usage.input_tokens + usage.output_tokens, usage.cost_usd


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["clock"] = clock
    return env


def render_report(history: RunHistory, summary: dict[str, Any], generated: datetime) -> str:
    """The whole HTML document for `history`; `summary` is the run's summary (`RunSummary.as_json()`)."""
    template = resources.files("bot.modes.local.report").joinpath("report.html.j2").read_text(encoding="utf-8")
    rows = usage_rows(history)
    roles = [role for role in ROLES if any(role in row.roles for row in rows)]
    roles += sorted({role for row in rows for role in row.roles} - set(roles))
    largest = max((row.tokens for row in rows[:-1]), default=0) or 1
    start = history.start
    by_task = {task.number: task for task in history.tasks}
    return (
        _environment()
        .from_string(template)
        .render(
            history=history,
            summary=summary,
            generated=generated.replace(microsecond=0).isoformat(),
            # The pictures are escaped as drawn (drawing.py).
            graph=Markup(graph_svg(history)),
            timeline=Markup(timeline_svg(history)),
            usage=rows,
            roles=roles,
            largest=largest,
            looks=LOOKS,
            shown_state=shown_state,
            marks=MARKS,
            said=SAID,
            offset=lambda at: (at - start).total_seconds() if at is not None else None,
            tasks=by_task,
            workers=sorted({t.worker for t in history.tasks if t.worker}),
        )
    )
