"""The claim: the visible mirror, on the task issue, of the one live job that works on it.

Exclusivity comes from the queue (one live job per deterministic job id); the claim only makes
it visible — the bot assigned, `orchestra:working`, and one `claim` comment naming the worker and
the attempt — and is idempotent (re-claiming edits the one comment). A worker that dies stops
heartbeating; RQ's maintenance then finds the job abandoned and retries it (`Retry` on the job
kind), and the retry's claim replaces the dead worker's.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from bot.forge.client import Forge
from bot.repoconfig import RepoConfig
from bot.states import State

MARKER = "claim"


@dataclass(frozen=True)
class Claimant:
    """Who is working: the RQ worker's name (or host:pid in-process) and the attempt number."""

    worker: str
    attempt: int
    job_id: str = ""


def current_claimant() -> Claimant:
    """The claimant of the running job: RQ's worker name and attempt, else this process."""
    from rq import get_current_job

    job = get_current_job()
    worker = os.environ.get("RQ_WORKER_ID") or f"{socket.gethostname()}:{os.getpid()}"
    if job is None:
        return Claimant(worker=worker, attempt=1)
    # Each start (first run, RQ retry, retry after a lapsed heartbeat) counts in the job's meta.
    attempt = 1 + int(job.meta.get("attempts_started", 0))
    job.meta["attempts_started"] = attempt
    job.save_meta()
    return Claimant(worker=job.worker_name or worker, attempt=attempt, job_id=job.id)


def claim(forge: Forge, config: RepoConfig, number: int, claimant: Claimant) -> None:
    """Assign the bot, set `working`, and upsert the claim comment (idempotent)."""
    forge.ensure_labels(config)
    issue = forge.get_issue(number)
    # GitHub Apps cannot be assignees; a token user (local mode, localhub) can.
    if forge.bot_login not in issue.assignees and not forge.bot_login.endswith("[bot]"):
        forge.assign(number, forge.bot_login)
    forge.set_state(number, State.WORKING, config)
    forge.upsert_comment(
        number, MARKER,
        f"Claimed by worker `{claimant.worker}` (attempt {claimant.attempt}). "
        "I will open a pull request and post a handoff here when I am done.",
    )
