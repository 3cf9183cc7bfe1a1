"""Turn a typed error into the comment (and label) the error table says, on the issue it concerns."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from bot.errors import OrchestraError
from bot.forge.client import Forge
from bot.repoconfig import RepoConfig
from bot.states import State

log = logging.getLogger(__name__)


def report_failure(forge: Forge, number: int, error: OrchestraError, config: RepoConfig | None) -> None:
    """One comment per error kind on the issue (edited in place when it recurs), and the error's label."""
    forge.upsert_comment(number, f"failure-{type(error).__name__}", error.comment())
    if error.label is not None:
        forge.set_state(number, State(error.label), config or RepoConfig())


@contextlib.contextmanager
def failures_reported(forge: Forge, number: int, config: RepoConfig | None) -> Iterator[None]:
    """Report any OrchestraError raised inside on issue `number`.

    Errors that leave a label (a person must act) are swallowed once reported: retrying the job
    cannot help. Transient ones (no label: forge or model unavailable, rate limits) are
    re-raised after the comment so the queue's retries apply.
    """
    try:
        yield
    except OrchestraError as error:
        try:
            report_failure(forge, number, error, config)
        except OrchestraError as nested:
            log.warning("could not report %s on #%s: %s", type(error).__name__, number, nested)
            raise error from nested
        if error.label is None:
            raise
