"""The merge queue's state on the forge: the batch under test is a commit on `orchestra/queue/<default>`.

A batch is one merge commit whose first parent is the tip of the default branch it was built on
and whose other parents are the heads of the PRs it holds, with the tree of all of them merged.
Landed fast-forward, it makes each first-parent commit of the default branch a tree CI tested as
such, and puts each PR's head on the base (which marks the PR merged). Its message says what it
holds, for people and for the landing job:

    Merge queue: #12, #15 into main

    #12 Add the login page
    <the PR's summary, shortened>
    #15 …

    Orchestra-Queue-Base: <tip sha>
    Orchestra-Queue-PR: 12 <head sha>
    Orchestra-Queue-PR: 15 <head sha>
    Orchestra-Queue-Checks: ci
    Orchestra-Queue-Split: 17 20
    Orchestra-Queue-Retry: 1

`Checks` are the checks the batch waits for (the required ones, else those its PRs reported);
`Split` marks the first half of a red batch under bisection (the PRs of the other half); `Retry`
counts the times the batch was rebuilt because its CI never reported in time. The
batch's CI result is the check runs and statuses on that commit. GitHub's own merge queue names
its groups `gh-readonly-queue/<base>/pr-<n>-<head sha>`; `group_pr` reads one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

QUEUE_PREFIX = "orchestra/queue/"
_TRAILER = re.compile(r"^Orchestra-Queue-(Base|PR|Checks|Split|Retry):[ \t]*(.*)$", re.MULTILINE)
_SHA = re.compile(r"^[0-9a-f]{40}$")
#: GitHub closes an issue a commit on the default branch names with a closing keyword: quoted words
#: of PRs must not (`Fixes #7` in a summary becomes `Fixes (#7)`).
_CLOSING = re.compile(r"\b(close[sd]?|fix(?:e[sd])?|resolve[sd]?)(:?\s+)#(\d+)", re.IGNORECASE)
_GROUP = re.compile(r"(?:^|/)gh-readonly-queue/.+/pr-(\d+)-([0-9a-f]{40})$")
#: Characters of one PR's summary kept in the batch message.
SUMMARY_CHARS = 400


def queue_branch(default_branch: str) -> str:
    """The branch that holds the batch under test for `default_branch`."""
    return f"{QUEUE_PREFIX}{default_branch}"


def is_queue_branch(branch: str | None) -> bool:
    """True for an `orchestra/queue/…` branch (with or without `refs/heads/`)."""
    return (branch or "").removeprefix("refs/heads/").startswith(QUEUE_PREFIX)


def group_pr(head_ref: str | None) -> tuple[int, str] | None:
    """(PR number, PR head sha) of a GitHub merge group branch, else None."""
    match = _GROUP.search(head_ref or "")
    return (int(match.group(1)), match.group(2)) if match else None


@dataclass(frozen=True)
class Member:
    """One PR of a batch: its number, its head when the batch was built, its title and summary."""

    number: int
    head: str
    title: str = ""
    summary: str = ""


@dataclass(frozen=True)
class Batch:
    """A batch as its commit describes it (`sha` is the commit, `base` the tip it was built on)."""

    sha: str
    base: str
    members: tuple[Member, ...]
    checks: tuple[str, ...] = ()
    split_rest: tuple[int, ...] = field(default=())
    #: How many times this batch was rebuilt because its CI did not report in time.
    retries: int = 0

    @property
    def numbers(self) -> list[int]:
        return [member.number for member in self.members]


def message(
    default_branch: str,
    base: str,
    members: list[Member],
    checks: list[str],
    split_rest: list[int] | None = None,
    retries: int = 0,
) -> str:
    """The batch commit's message (see the module docstring)."""
    numbers = ", ".join(f"#{m.number}" for m in members)
    lines = [f"Merge queue: {numbers} into {default_branch}", ""]
    for member in members:
        lines.append(_CLOSING.sub(r"\1\2(#\3)", f"#{member.number} {member.title}".rstrip()))
        summary = _CLOSING.sub(r"\1\2(#\3)", " ".join(member.summary.split()))
        if summary:
            lines.append(summary if len(summary) <= SUMMARY_CHARS else summary[: SUMMARY_CHARS - 1] + "…")
    lines += ["", f"Orchestra-Queue-Base: {base}"]
    lines += [f"Orchestra-Queue-PR: {m.number} {m.head}" for m in members]
    if checks:
        lines.append(f"Orchestra-Queue-Checks: {' '.join(checks)}")
    if split_rest:
        lines.append(f"Orchestra-Queue-Split: {' '.join(str(n) for n in split_rest)}")
    if retries:
        lines.append(f"Orchestra-Queue-Retry: {retries}")
    return "\n".join(lines) + "\n"


def parse(sha: str, parents: list[str], text: str) -> Batch | None:
    """The batch a commit describes, or None when it is not a batch commit this module wrote.

    The trailers must agree with the parents: the base is the first parent and each PR head is
    another parent, so a hand-made commit on the queue branch is never taken for a batch.
    """
    base, heads, checks, rest, retries = "", [], [], [], 0
    for key, value in _TRAILER.findall(text):
        if key == "Base":
            base = value.strip()
        elif key == "PR":
            number, _, head = value.strip().partition(" ")
            if number.isdigit() and _SHA.match(head.strip()):
                heads.append((int(number), head.strip()))
        elif key == "Checks":
            checks = value.split()
        elif key == "Split":
            rest = [int(n) for n in value.split() if n.isdigit()]
        elif key == "Retry" and value.strip().isdigit():
            retries = int(value.strip())
    if not base or not heads or not parents or parents[0] != base or [h for _, h in heads] != parents[1:]:
        return None
    titles = dict(_titles(text))
    members = tuple(Member(number, head, titles.get(number, "")) for number, head in heads)
    return Batch(sha=sha, base=base, members=members, checks=tuple(checks), split_rest=tuple(rest), retries=retries)


def without_trailers(text: str) -> str:
    """A commit message as a person reads it: the queue's trailers left out."""
    return _TRAILER.sub("", text).strip()


def _titles(text: str) -> list[tuple[int, str]]:
    return [(int(n), title.strip()) for n, title in re.findall(r"^#(\d+) (.*)$", text, re.MULTILINE)]
