"""One way every job reports a failure on the forge: a comment saying what happened and how to retry.

The comment is the error's `comment()` (headline, detail, recovery; see `bot/errors.py`),
upserted under one marker per (step, issue) so a retried job edits it instead of piling up
copies; the error's `label` (usually `needs-human`) becomes the task's state label.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from bot.errors import NEEDS_HUMAN, ForgeError, OrchestraError, UnexpectedFailure
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
def failures_reported(forge: Forge, number: int, config: RepoConfig | None, *, step: str | None = None,
                      task: int | None = None, also_on: int | None = None) -> Iterator[None]:
    """The job boundary: report any error raised inside on issue `number`, as the error table says.

    An OrchestraError that leaves a label (a person must act) is swallowed once reported: retrying
    the job cannot help. A transient one (no label) is re-raised after the comment so the queue's
    retries apply. Anything else is a bug or an outside failure: it is reported as
    `UnexpectedFailure` and re-raised, so the queue keeps it (RQ's failed registry) with its traceback.
    Without `step`, the comment is per error kind (one comment per kind, edited when it recurs).
    """
    try:
        yield
    except OrchestraError as error:
        report_failure(forge, config or RepoConfig(), number, error, step=step or type(error).__name__,
                       task=task, also_on=also_on)
        if error.label is None:
            raise
    except Exception as exc:
        where = step or "job"
        unexpected = UnexpectedFailure(f"{type(exc).__name__} in `{where}` (details in the worker log)")
        report_failure(forge, config or RepoConfig(), number, unexpected, step=where, task=task, also_on=also_on)
        raise
