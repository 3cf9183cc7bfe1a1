"""The orchestra's labels: kinds and states of the life cycle, their names under a prefix, colours.

The state machine (drawn in docs/architecture.md):

    waiting --deps closed--> ready --claimed--> working --PR opened--> review --merged--> (closed)
       any open state --budget spent / attempts exhausted--> needs-human
       any open state --/orchestra pause--> paused --/orchestra resume--> (previous)
       a goal --spend cap reached (bot/planner/breaker.py)--> paused --/orchestra resume or a raised cap--> (previous)

A PR waiting in the merge queue (the orchestra's or GitHub's) carries `<prefix>:queued`; its task
stays `review` (`QUEUED` is a mark on the PR, not a task state).

The prefix is the repository's `label_prefix` (`RepoConfig`, default `orchestra`). The web
process cannot read a repository's config, so it recognises labels by their shape
(`kind_of_label`) and the job checks the repository's own prefix.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.forge.client import Forge
    from bot.repoconfig import RepoConfig


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


#: The mark of a PR in the merge queue (on the PR; the task stays `review`).
QUEUED = "queued"

#: Transitions the bot makes by itself; anything else is a person's decision.
TRANSITIONS: dict[State, frozenset[State]] = {
    State.WAITING: frozenset({State.READY, State.PAUSED, State.NEEDS_HUMAN}),
    State.READY: frozenset({State.WORKING, State.WAITING, State.PAUSED, State.NEEDS_HUMAN}),
    State.WORKING: frozenset({State.REVIEW, State.READY, State.PAUSED, State.NEEDS_HUMAN}),
    State.REVIEW: frozenset({State.WORKING, State.PAUSED, State.NEEDS_HUMAN}),
    State.NEEDS_HUMAN: frozenset({State.READY, State.WORKING, State.REVIEW}),
    State.PAUSED: frozenset({State.WAITING, State.READY, State.WORKING, State.REVIEW}),
}

_COLOURS: dict[Kind | State, tuple[str, str]] = {
    Kind.GOAL: ("5319e7", "A goal the orchestra plans into tasks"),
    Kind.TASK: ("1d76db", "A task the orchestra works on"),
    State.WAITING: ("c5def5", "Waiting for its dependencies"),
    State.READY: ("0e8a16", "Ready for a worker"),
    State.WORKING: ("fbca04", "A worker is on it"),
    State.REVIEW: ("0052cc", "Pull request open"),
    State.NEEDS_HUMAN: ("d93f0b", "The orchestra needs a person"),
    State.PAUSED: ("bfdadc", "Paused by /orchestra pause or the spend breaker"),
}

#: A label as the orchestra names them: `<prefix>:<kind or state>` (the prefix as RepoConfig allows it).
_LABEL = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]{0,30}):([a-z-]+)$")


def label_name(prefix: str, value: State | Kind) -> str:
    """``orchestra:ready`` for prefix ``orchestra``."""
    return f"{prefix}:{value.value}"


def state_from_labels(prefix: str, labels: list[str]) -> State | None:
    """The state a list of label names says, or None when it carries none."""
    for state in State:
        if label_name(prefix, state) in labels:
            return state
    return None


def kind_of_label(name: str) -> Kind | None:
    """The kind a label names under any valid prefix (``acme-bot:goal`` → GOAL), else None."""
    match = _LABEL.match(name or "")
    if match is None:
        return None
    return Kind(match.group(2)) if match.group(2) in Kind._value2member_map_ else None


def state_of_label(name: str) -> State | None:
    """The state a label names under any valid prefix (``acme-bot:paused`` → PAUSED), else None."""
    match = _LABEL.match(name or "")
    if match is None:
        return None
    return State(match.group(2)) if match.group(2) in State._value2member_map_ else None


def has_kind(labels: list[str], kind: Kind) -> bool:
    """True when one of `labels` names `kind` under some prefix."""
    return any(kind_of_label(name) == kind for name in labels)


def orchestra_labels(prefix: str) -> dict[str, tuple[str, str]]:
    """Label name → (colour, description) for every kind and state label, and the queue's mark, under `prefix`."""
    found = {label_name(prefix, value): spec for value, spec in _COLOURS.items()}
    found[f"{prefix}:{QUEUED}"] = ("006b75", "In the merge queue: tested with what lands before it")
    return found


def ensure(forge: Forge, config: RepoConfig) -> None:
    """Create every orchestra label of the repository's prefix that is missing."""
    forge.ensure_labels(orchestra_labels(config.label_prefix))


def set_state(forge: Forge, number: int, state: State, config: RepoConfig) -> None:
    """Leave exactly one state label, `state`, on the issue; no write when it is already so."""
    states = [label_name(config.label_prefix, s) for s in State]
    forge.replace_labels(number, drop=states, add=[label_name(config.label_prefix, state)])


def clear_state(forge: Forge, number: int, config: RepoConfig) -> None:
    """Remove every state label (a closed task keeps its kind label only)."""
    forge.replace_labels(number, drop=[label_name(config.label_prefix, s) for s in State], add=[])
