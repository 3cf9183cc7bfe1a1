"""PR facts the worker decides by: the open orchestra PRs, settled mergeability, conflicts."""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.forge.client import Forge
from bot.forge.types import PullRequest, PullSummary
from bot.ledger.taskbody import task_number_from_branch

#: Waits between GETs while the forge computes `mergeable` (bounded: about 30 s in all).
MERGEABLE_BACKOFF = (0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 8.0, 10.0)


def open_orchestra_prs(forge: Forge) -> list[PullSummary]:
    """Open PRs whose head is an `orchestra/<n>-…` branch of this repository."""
    return [pull for pull in forge.list_prs("open") if task_number_from_branch(pull.head_ref) is not None]


def settled(forge: Forge, number: int, sleep: Callable[[float], None] = time.sleep) -> PullRequest:
    """The PR once the forge has computed `mergeable` (GETs with backoff); may still be None past the bound."""
    pr = forge.get_pr(number)
    for delay in MERGEABLE_BACKOFF:
        if pr.mergeable is not None or pr.state != "open":
            return pr
        sleep(delay)
        pr = forge.get_pr(number)
    return pr


def conflicting(pr: PullRequest) -> bool:
    return pr.mergeable is False or pr.mergeable_state == "dirty"
