"""One way every job reports a failure on the forge: a comment saying what happened and how to retry.

The comment is the error's `comment()` (headline, detail, recovery; see `bot/errors.py`),
upserted under one marker per (step, issue) so a retried job edits it instead of piling up
copies; the error's `label` (usually `needs-human`) becomes the task's state label.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from bot.errors import NEEDS_HUMAN, ForgeError, OrchestraError
from bot.forge.client import Forge
from bot.ledger import comments, labels
from bot.ledger.labels import State
from bot.repoconfig import RepoConfig

log = logging.getLogger(__name__)


def failure_marker(step: str) -> str:
    """The marker of the failure comment of one step (e.g. ``failure-implement``)."""
    return f"failure-{step}"


def report_failure(
    forge: Forge,
    config: RepoConfig,
    number: int,
    error: OrchestraError,
    *,
    step: str,
    task: int | None = None,
    also_on: int | None = None,
) -> None:
    """Comment `error` on `number` (and on `also_on`, e.g. the PR) and leave its label on `task`.

    `task` defaults to `number`. Reporting must not hide the original error: a forge failure
    while reporting is logged, not raised.
    """
    body = f"{error.comment()}\n\n<sub>step: `{step}` · {type(error).__name__}</sub>"
    target_task = number if task is None else task
    try:
        comments.upsert(forge, number, failure_marker(step), body)
        if also_on is not None and also_on != number:
            comments.upsert(forge, also_on, failure_marker(step), body)
        if error.label == NEEDS_HUMAN:
            labels.set_state(forge, target_task, State.NEEDS_HUMAN, config)
            for pr in {n for n in (number, also_on) if n is not None and n != target_task}:
                forge.add_labels(pr, config.label(State.NEEDS_HUMAN.value))
    except ForgeError as exc:
        log.error("could not report %s on #%s: %s", type(error).__name__, number, exc)


def clear_failure(forge: Forge, number: int, step: str) -> None:
    """Replace a step's failure comment by a short 'resolved' note (only when one exists)."""
    marker = failure_marker(step)
    if comments.find(forge, number, marker) is not None:
        comments.upsert(forge, number, marker, f"~~An earlier failure of `{step}`~~ — resolved by a later attempt.")


@contextlib.contextmanager
def failures_reported(forge: Forge, number: int, config: RepoConfig | None) -> Iterator[None]:
    """Report any OrchestraError raised inside on issue `number` (the planner's jobs).

    Errors that leave a label (a person must act) are swallowed once reported: retrying the job
    cannot help. Transient ones (no label) are re-raised after the comment so the queue's retries apply.
    """
    try:
        yield
    except OrchestraError as error:
        # One comment per error kind (edited in place when it recurs), as the planner's tests expect.
        report_failure(forge, config or RepoConfig(), number, error, step=type(error).__name__)
        if error.label is None:
            raise
