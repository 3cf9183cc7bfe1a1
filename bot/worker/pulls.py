"""PR facts the worker needs beyond the Forge verbs: open orchestra PRs, settled mergeability, approvals, review text.

These read through the Forge's PyGithub handle and its retry policy (`forge._call`); they belong
in `bot/forge/pulls.py` as verbs and can move there unchanged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.forge.client import Forge
from bot.forge.types import PullRequest
from bot.tasks import task_number_from_branch

log = logging.getLogger(__name__)

#: Waits between GETs while the forge computes `mergeable` (bounded: about 30 s in all).
MERGEABLE_BACKOFF = (0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 8.0, 10.0)


@dataclass(frozen=True)
class OpenPull:
    """An open orchestra PR as listed (no mergeability: the list does not carry it)."""

    number: int
    head_ref: str
    base_ref: str

    @property
    def task(self) -> int | None:
        return task_number_from_branch(self.head_ref)


def open_orchestra_prs(forge: Forge) -> list[OpenPull]:
    """Open PRs whose head is an `orchestra/<n>-…` branch of this repository."""

    def fetch() -> list[OpenPull]:
        found = []
        for raw in forge.repo.get_pulls(state="open"):
            pull = OpenPull(number=raw.number, head_ref=raw.head.ref, base_ref=raw.base.ref)
            if pull.task is not None:
                found.append(pull)
        return found

    return forge._call("list open prs", fetch)


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


def approvals(forge: Forge, number: int) -> int:
    """People whose latest review of the PR approves it."""

    def fetch() -> int:
        latest: dict[str, str] = {}
        for review in forge.repo.get_pull(number).get_reviews():
            if review.user is not None and review.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
                latest[review.user.login] = review.state
        return sum(1 for state in latest.values() if state == "APPROVED")

    return forge._call("list reviews", fetch)


@dataclass(frozen=True)
class ReviewNote:
    """One thing a reviewer said: the review's body or one of its line comments."""

    author: str
    body: str
    path: str = ""
    line: int | None = None


def review_notes(forge: Forge, number: int, review_id: int) -> list[ReviewNote]:
    """The review's body and its line comments (or, for a standalone review comment id, that comment)."""

    def fetch() -> list[ReviewNote]:
        pull = forge.repo.get_pull(number)
        notes: list[ReviewNote] = []
        for review in pull.get_reviews():
            if review.id == review_id and (review.body or "").strip():
                notes.append(ReviewNote(author=review.user.login if review.user else "", body=review.body))
        for comment in pull.get_review_comments():
            if review_id in (comment.pull_request_review_id, comment.id):
                notes.append(ReviewNote(author=comment.user.login if comment.user else "", body=comment.body,
                                        path=comment.path or "", line=comment.line or comment.original_line))
        return notes

    return forge._call("read review", fetch)


def branch_sha(forge: Forge, name: str) -> str:
    """The tip of branch `name` on the forge."""
    return forge._call("get branch", lambda: str(forge.repo.get_branch(name).commit.sha))
