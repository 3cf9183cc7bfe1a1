"""Rebuild the worker's queue from the forge (after Redis was wiped, or any time: it is idempotent).

Open tasks labelled `ready` or `working` without an open PR → implement. Open orchestra PRs:
failing checks → fix_ci; conflicting → resolve_conflict; green → maybe_merge. Nothing is done
twice: the executor keeps one live job per id, and each job re-checks the forge (PR exists,
attempts marker, head sha) before acting.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.forge.client import Forge
from bot.ledger import attempts as attempts_mod
from bot.ledger.labels import Kind, State, label_name, state_from_labels
from bot.ledger.taskbody import branch_name
from bot.queue.kinds import Executor, JobRequest
from bot.repoconfig import RepoConfig
from bot.worker.pulls import conflicting, open_orchestra_prs, settled


@dataclass
class ReconcileReport:
    """What reconcile submitted (`new`) and what was already live in the queue (`live`)."""

    new: list[str] = field(default_factory=list)
    live: list[str] = field(default_factory=list)

    def add(self, job_id: str, new: bool) -> None:
        (self.new if new else self.live).append(job_id)


def reconcile(forge: Forge, config: RepoConfig, executor: Executor, installation_id: int | None = None) -> ReconcileReport:
    """Submit the jobs the forge's state calls for; returns what was submitted."""
    report = ReconcileReport()
    repo = forge.repo_full_name
    prs = open_orchestra_prs(forge)
    with_pr = {p.head_ref for p in prs}
    for issue in forge.list_issues(labels=[label_name(config.label_prefix, Kind.TASK)]):
        state = state_from_labels(config.label_prefix, issue.labels)
        if state in (State.READY, State.WORKING) and branch_name(issue.number, issue.title) not in with_pr:
            job = JobRequest.make("implement", repo=repo, number=issue.number, installation_id=installation_id)
            report.add(job.job_id, executor.submit(job).new)
    for pull in prs:
        pr = settled(forge, pull.number)
        if pr.state != "open" or config.label(State.NEEDS_HUMAN.value) in pr.labels:
            continue
        checks = forge.check_state(pr.head_sha)
        common = {"repo": repo, "pr": pr.number, "installation_id": installation_id}
        if conflicting(pr):
            job = JobRequest.make("resolve_conflict", base_sha=forge.branch_sha(pr.base_ref), **common)
        elif checks.state == "failure":
            if pr.head_sha in attempts_mod.read(pr.body).ci_fix_shas:
                continue
            job = JobRequest.make("fix_ci", branch=pr.head_ref, head_sha=pr.head_sha, **common)
        elif checks.state == "success":
            job = JobRequest.make("maybe_merge", branch=pr.head_ref, head_sha=pr.head_sha, **common)
        else:
            continue  # checks still running: their completion event brings the next job
        report.add(job.job_id, executor.submit(job).new)
    return report
