"""How a task's state is drawn: the states a goal's pictures show, their colours and legend marks.

The open states are the state labels (`bot/ledger/labels.py`); a closed task shows as done
(closed as completed) or not planned. The status comment's Mermaid graph and local mode's HTML
report draw from this one table, so both say the same thing with the same colours.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Look:
    """One state's picture: a CSS-safe name, fill and stroke colours, a legend mark."""

    name: str
    fill: str
    stroke: str
    mark: str
    dashed: bool = False


#: Every state a picture shows, in the order of the life cycle.
LOOKS: dict[str, Look] = {
    "waiting": Look("waiting", "#f1f3f5", "#868e96", "⬜"),
    "ready": Look("ready", "#d0ebff", "#1c7ed6", "🟦"),
    "working": Look("working", "#fff3bf", "#f08c00", "🟨"),
    "review": Look("review", "#e5dbff", "#7048e8", "🟪"),
    "needs-human": Look("needsHuman", "#ffe3e3", "#e03131", "🟥"),
    "paused": Look("paused", "#ffe8cc", "#d9480f", "🟧"),
    "done": Look("done", "#d3f9d8", "#2f9e44", "🟩"),
    "not planned": Look("notPlanned", "#e9ecef", "#495057", "⬛", dashed=True),
}
#: Names a task's state goes by that are not entries of their own.
ALIASES = {"open": "waiting", "closed": "not planned"}


def shown_state(state: str) -> str:
    """The key in `LOOKS` for a state as the status or a snapshot names it (unknown: waiting)."""
    state = ALIASES.get(state, state)
    return state if state in LOOKS else "waiting"
