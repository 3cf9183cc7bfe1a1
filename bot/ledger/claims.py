"""The claim: the visible mirror, on the task issue, of the one live job that works on it.

Exclusivity comes from the queue (one live job per deterministic job id); the claim only makes
it visible — the bot assigned, `orchestra:working`, and one `claim` comment naming the worker and
the attempt — and is idempotent (re-claiming edits the one comment). A worker that dies stops
heartbeating; RQ's maintenance then finds the job abandoned and retries it (`Retry` on the job
kind), and the retry's claim replaces the dead worker's.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.forge.client import Forge
from bot.ledger import comments, labels
from bot.ledger.labels import State
from bot.repoconfig import RepoConfig

MARKER = "claim"


@dataclass(frozen=True)
class Claimant:
    """Who is working: the RQ worker's name (or host:pid in-process) and the attempt number."""

    worker: str
    attempt: int
    job_id: str = ""


def claim(forge: Forge, config: RepoConfig, number: int, claimant: Claimant) -> None:
    """Assign the bot, set `working`, and upsert the claim comment (idempotent)."""
    labels.ensure(forge, config)
    issue = forge.get_issue(number)
    # GitHub Apps cannot be assignees; a token user (local mode, localhub) can.
    if forge.bot_login not in issue.assignees and not forge.bot_login.endswith("[bot]"):
        forge.assign(number, forge.bot_login)
    labels.set_state(forge, number, State.WORKING, config)
    comments.upsert(
        forge,
        number,
        MARKER,
        f"Claimed by worker `{claimant.worker}` (attempt {claimant.attempt}). "
        "I will open a pull request and post a handoff here when I am done.",
    )
