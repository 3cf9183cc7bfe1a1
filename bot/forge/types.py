"""Plain snapshots of forge objects: what the bot reads, detached from PyGithub."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Snapshot(BaseModel):
    model_config = ConfigDict(frozen=True)


class IssueRef(_Snapshot):
    """Enough to address an issue: its global id (for sub-issue links) and its number."""

    id: int
    number: int


class Issue(IssueRef):
    """An issue (or the issue side of a pull request) as the bot sees it."""

    title: str
    body: str = ""
    state: Literal["open", "closed"] = "open"
    state_reason: str | None = None
    labels: list[str] = []
    assignees: list[str] = []
    author: str = ""
    is_pull: bool = False
    html_url: str = ""


class Comment(_Snapshot):
    """An issue or pull-request conversation comment (`created_at` as the forge writes it, `...Z`)."""

    id: int
    body: str = ""
    author: str = ""
    #: The issue or PR the comment is on (from its `issue_url`), and when it was written (ISO 8601).
    issue_number: int | None = None
    created_at: str = ""


class IssueEvent(_Snapshot):
    """One entry of an issue's events: who did what, when (`label` for labeled/unlabeled)."""

    id: int
    event: str
    actor: str = ""
    label: str = ""
    created_at: str = ""


class PullRequest(_Snapshot):
    """A pull request; `mergeable` is None while the forge is still computing it."""

    number: int
    title: str
    body: str = ""
    state: Literal["open", "closed"] = "open"
    merged: bool = False
    mergeable: bool | None = None
    mergeable_state: str | None = None
    head_ref: str
    head_sha: str
    base_ref: str
    html_url: str = ""
    labels: list[str] = []
    #: The GraphQL id (GitHub's merge queue takes PRs by it).
    node_id: str = ""


class PullSummary(_Snapshot):
    """A pull request as a list answer carries it (no mergeability)."""

    number: int
    title: str = ""
    body: str = ""
    state: Literal["open", "closed"] = "open"
    merged: bool = False
    head_ref: str
    head_sha: str = ""
    base_ref: str
    labels: list[str] = []


class ReviewNote(_Snapshot):
    """One thing a reviewer said: the review's body or one of its line comments."""

    author: str
    body: str
    path: str = ""
    line: int | None = None


class CheckFailure(_Snapshot):
    """One failing check run or commit status, with what it said."""

    name: str
    conclusion: str
    title: str = ""
    summary: str = ""
    text: str = ""
    annotations: list[str] = []
    log_tail: str = ""


class CheckState(_Snapshot):
    """The checks that gate a commit, summarised: still running, all green, or something failed.

    When branch protection or a ruleset names required checks, only those gate (a missing one is
    pending); the other failing checks are `advisory`, reported but not waited on. `seen` names
    every check run and status context on the commit.
    """

    state: Literal["pending", "success", "failure"]
    failures: list[CheckFailure] = []
    advisory: list[CheckFailure] = []
    seen: list[str] = []


class BranchRules(_Snapshot):
    """The rules in force on a branch that decide how the bot lands a PR on it.

    `required` are the check names (check runs or status contexts) that branch protection or a
    ruleset requires; `merge_queue` is true when a ruleset requires GitHub's merge queue.
    """

    required: list[str] = []
    merge_queue: bool = False
    merge_method: str = "MERGE"


class Permission(StrEnum):
    """A person's permission on a repository, strongest first."""

    ADMIN = "admin"
    MAINTAIN = "maintain"
    WRITE = "write"
    TRIAGE = "triage"
    READ = "read"
    NONE = "none"

    @property
    def rank(self) -> int:
        """0 for none up to 5 for admin."""
        return list(reversed(Permission)).index(self)

    def at_least(self, other: Permission | str) -> bool:
        """True when this permission includes `other` (admin includes maintain includes write ...)."""
        return self.rank >= Permission(other).rank

    @property
    def can_write(self) -> bool:
        """True for write, maintain and admin."""
        return self.at_least(Permission.WRITE)
