"""Task and goal states: the labels that make the life cycle visible on the forge.

The state machine (drawn in docs/architecture.md):

    waiting --deps closed--> ready --claimed--> working --PR opened--> review --merged--> (closed)
       any open state --budget spent / attempts exhausted--> needs-human
       any open state --/orchestra pause--> paused --/orchestra resume--> (previous)
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """What an orchestra issue is."""

    GOAL = "goal"
    TASK = "task"


class State(StrEnum):
    """The state label of a task; exactly one is on an open task at a time."""

    WAITING = "waiting"
    READY = "ready"
    WORKING = "working"
    REVIEW = "review"
    NEEDS_HUMAN = "needs-human"
    PAUSED = "paused"


#: Transitions the bot makes by itself; anything else is a person's decision.
TRANSITIONS: dict[State, frozenset[State]] = {
    State.WAITING: frozenset({State.READY, State.PAUSED, State.NEEDS_HUMAN}),
    State.READY: frozenset({State.WORKING, State.WAITING, State.PAUSED, State.NEEDS_HUMAN}),
    State.WORKING: frozenset({State.REVIEW, State.READY, State.PAUSED, State.NEEDS_HUMAN}),
    State.REVIEW: frozenset({State.WORKING, State.PAUSED, State.NEEDS_HUMAN}),
    State.NEEDS_HUMAN: frozenset({State.READY, State.WORKING, State.REVIEW}),
    State.PAUSED: frozenset({State.WAITING, State.READY, State.WORKING, State.REVIEW}),
}


def label_name(prefix: str, value: State | Kind) -> str:
    """``orchestra:ready`` for prefix ``orchestra``."""
    return f"{prefix}:{value.value}"


def state_from_labels(prefix: str, labels: list[str]) -> State | None:
    """The state a list of label names says, or None when it carries none."""
    for state in State:
        if label_name(prefix, state) in labels:
            return state
    return None
