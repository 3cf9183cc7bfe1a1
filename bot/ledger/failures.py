"""One way every job reports a failure on the forge: a comment saying what happened and how to retry.

The comment is the error's `comment()` (headline, detail, recovery; see `bot/errors.py`),
upserted under one marker per (step, issue) so a retried job edits it instead of piling up
copies; the error's `label` (usually `needs-human`) becomes the task's state label.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator

from github.GithubException import GithubException

from bot.errors import NEEDS_HUMAN, ForgeError, OrchestraError, UnexpectedFailure
from bot.forge.client import Forge
from bot.ledger import comments, labels
from bot.ledger.labels import State
from bot.metrics.jobs import note_failure
from bot.repoconfig import RepoConfig

log = logging.getLogger(__name__)
#: What a write while reporting may raise: the forge unavailable, or a 4xx refusal (e.g. a 422).
REFUSALS = (ForgeError, GithubException)


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
    while reporting is logged, not raised, and each write (comment, label) is tried on its own. A
    comment over GitHub's limit is cut (`comments.upsert`), the whole text going to the log.
    """
    note_failure(error.label == NEEDS_HUMAN)  # the job's outcome in the worker's metrics
    body = f"{error.comment()}\n\n<sub>step: `{step}` · {type(error).__name__}</sub>"
    target_task = number if task is None else task
    for where in dict.fromkeys(n for n in (number, also_on) if n is not None):
        try:  # each write on its own: a comment that cannot be written never keeps the label off
            comments.upsert(forge, where, failure_marker(step), body)
        except REFUSALS as exc:
            log.error("could not comment %s on #%s: %s", type(error).__name__, where, exc)
    if error.label != NEEDS_HUMAN:
        return
    try:
        labels.set_state(forge, target_task, State.NEEDS_HUMAN, config)
    except REFUSALS as exc:
        log.error("could not label #%s needs-human after %s: %s", target_task, type(error).__name__, exc)
    for pr in {n for n in (number, also_on) if n is not None and n != target_task}:
        try:
            forge.add_labels(pr, config.label(State.NEEDS_HUMAN.value))
        except REFUSALS as exc:
            log.error("could not label #%s needs-human after %s: %s", pr, type(error).__name__, exc)


def clear_failure(forge: Forge, number: int, step: str) -> None:
    """Replace a step's failure comment by a short 'resolved' note (only when one exists)."""
    marker = failure_marker(step)
    if comments.find(forge, number, marker) is not None:
        comments.upsert(forge, number, marker, f"~~An earlier failure of `{step}`~~ — {RESOLVED}.")


RESOLVED = "resolved by a later attempt"
_FAILURE_TAG = re.compile(r"<!-- orchestra:failure-([A-Za-z0-9._-]+) -->")


def unresolved_failures(forge: Forge, number: int) -> list[str]:
    """The steps whose failure comment on issue/PR `number` was not resolved by a later attempt."""
    steps = []
    for comment in comments.bot_comments(forge, number):
        found = _FAILURE_TAG.match(comment.body.lstrip())
        if found and RESOLVED not in comment.body:
            steps.append(found.group(1))
    return steps


@contextlib.contextmanager
def failures_reported(
    forge: Forge,
    number: int,
    config: RepoConfig | None,
    *,
    step: str | None = None,
    task: int | None = None,
    also_on: int | None = None,
) -> Iterator[None]:
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
        report_failure(
            forge, config or RepoConfig(), number, error, step=step or type(error).__name__, task=task, also_on=also_on
        )
        if error.label is None:
            raise
    except Exception as exc:
        where = step or "job"
        unexpected = UnexpectedFailure(f"{type(exc).__name__} in `{where}` (details in the worker log)")
        report_failure(forge, config or RepoConfig(), number, unexpected, step=where, task=task, also_on=also_on)
        raise
