"""The orchestra's labels, their colours and descriptions."""

from __future__ import annotations

from bot.states import Kind, State, label_name

_COLOURS: dict[Kind | State, tuple[str, str]] = {
    Kind.GOAL: ("5319e7", "A goal the orchestra plans into tasks"),
    Kind.TASK: ("1d76db", "A task the orchestra works on"),
    State.WAITING: ("c5def5", "Waiting for its dependencies"),
    State.READY: ("0e8a16", "Ready for a worker"),
    State.WORKING: ("fbca04", "A worker is on it"),
    State.REVIEW: ("0052cc", "Pull request open"),
    State.NEEDS_HUMAN: ("d93f0b", "The orchestra needs a person"),
    State.PAUSED: ("bfdadc", "Paused by /orchestra pause"),
}


def orchestra_labels(prefix: str) -> dict[str, tuple[str, str]]:
    """Label name → (colour, description) for every kind and state label under `prefix`."""
    return {label_name(prefix, value): spec for value, spec in _COLOURS.items()}
