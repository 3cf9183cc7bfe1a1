"""The worker's job entry points: plain functions of plain values (see bot/queue/jobs.py).

Each builds its collaborators from the process runtime (`build_context`) and calls a core
function. Failures end in a comment (bot/failures.py): an error that needs a person leaves
`needs-human` and the job ends normally (retrying would only spend money again); a transient
one (forge or model unavailable, rate limit) is reported and re-raised so RQ retries the job.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from typing import TypeVar

from rq import get_current_job

from bot import repofiles, runtime
from bot.errors import OrchestraError, PushRejected, UnexpectedFailure
from bot.forge.types import PullRequest
from bot.git import Identity, Mirror
from bot.ledger.claims import Claimant
from bot.ledger.failures import report_failure
from bot.ledger.taskbody import task_number_from_branch
from bot.llm.types import ChatModel
from bot.queue.jobs import JobRequest
from bot.settings import Role
from bot.worker import ci, conflicts, implement, merge, review
from bot.worker.session import WorkerContext

log = logging.getLogger(__name__)
T = TypeVar("T")


def build_context(repo: str, installation_id: int | None) -> WorkerContext:
    """The collaborators of one job: forge, the repo's config, prompts, notes, the repository's mirror, models."""
    rt = runtime.current()
    forge = rt.forge(repo, installation_id)
    config = rt.repo_config(forge)
    settings = rt.settings
    mirror = Mirror.of(forge, rt.state_dir, Identity(settings.git_author_name, settings.git_author_email))

    def model_for(role: Role) -> ChatModel:
        return rt.model(role, config)

    return WorkerContext(
        repo=repo, forge=forge, config=config, settings=settings, executor=rt.executor, mirror=mirror,
        model_for=model_for,
        installation_id=installation_id, overrides=repofiles.read_prompt_overrides(forge),
        notes=forge.read_file(config.notes_file) or "",
    )


def current_claimant() -> Claimant:
    """The claimant of the running job: RQ's worker name and attempt, else this process."""
    job = get_current_job()
    worker = os.environ.get("RQ_WORKER_ID") or f"{socket.gethostname()}:{os.getpid()}"
    if job is None:
        return Claimant(worker=worker, attempt=1)
    # Each start (first run, RQ retry, retry after a lapsed heartbeat) counts in the job's meta.
    attempt = 1 + int(job.meta.get("attempts_started", 0))
    job.meta["attempts_started"] = attempt
    job.save_meta()
    return Claimant(worker=job.worker_name or worker, attempt=attempt, job_id=job.id)


def _reported(ctx: WorkerContext, step: str, number: int | None, pr: int | None, core: Callable[[], T],
              again: JobRequest | None = None) -> T | None:
    """Run `core`; on an OrchestraError comment it (and re-raise it when it is transient).

    `again` is given for the jobs that maintain an open PR (CI fix, conflict, review): when their
    push is rejected because another job on the same PR moved the branch first, their work is
    stale rather than failed, so the job is submitted again (it runs once more, on the moved
    branch, after this run: bot/queue/runs.py) instead of asking a person.
    """
    target = number if number is not None else pr
    try:
        result = core()
    except PushRejected as exc:
        if again is None:
            _failed(ctx, step, number, pr, exc)
            return None
        log.info("%s on %s: the branch moved under it (%s); running it again", step, ctx.repo, exc)
        ctx.executor.submit(again)
        return None
    except OrchestraError as exc:
        _failed(ctx, step, number, pr, exc)
        return None
    except Exception as exc:  # the job boundary: say so on the forge, then fail loudly for RQ's registry
        if target is not None:
            unexpected = UnexpectedFailure(f"{type(exc).__name__} in `{step}` (details in the worker log)")
            report_failure(ctx.forge, ctx.config, target, unexpected, step=step, task=number, also_on=pr)
        raise
    log.info("%s on %s: %s", step, ctx.repo, f"PR #{result.number}" if isinstance(result, PullRequest) else result)
    return result


def _failed(ctx: WorkerContext, step: str, number: int | None, pr: int | None, exc: OrchestraError) -> None:
    """Comment a typed failure (and re-raise it when it is transient: the queue retries it)."""
    log.warning("%s on %s: %s: %s", step, ctx.repo, type(exc).__name__, exc)
    target = number if number is not None else pr
    if target is not None:
        report_failure(ctx.forge, ctx.config, target, exc, step=step, task=number, also_on=pr)
    if exc.label is None:
        raise exc


def _pr_and_task(ctx: WorkerContext, pr: int | None, branch: str | None) -> tuple[int | None, int | None]:
    found = ci.find_pr(ctx, pr, branch)
    if found is None:
        return pr, task_number_from_branch(branch or "")
    return found.number, task_number_from_branch(found.head_ref)


def implement_task(repo: str, number: int, installation_id: int | None) -> str:
    ctx = build_context(repo, installation_id)
    pr = _reported(ctx, "implement", number, None, lambda: implement.run_task(ctx, number, current_claimant()))
    return f"PR #{pr.number}" if pr is not None else "nothing done"


def fix_ci(repo: str, pr: int | None, branch: str | None, head_sha: str, installation_id: int | None) -> str | None:
    ctx = build_context(repo, installation_id)
    pr_number, task = _pr_and_task(ctx, pr, branch)
    again = JobRequest.make("fix_ci", repo=repo, pr=pr, branch=branch, head_sha=head_sha, installation_id=installation_id)
    return _reported(ctx, "fix_ci", task, pr_number, lambda: ci.fix_ci(ctx, pr_number, branch, head_sha), again)


def maybe_merge(repo: str, pr: int | None, branch: str | None, head_sha: str, installation_id: int | None) -> str | None:
    ctx = build_context(repo, installation_id)
    pr_number, task = _pr_and_task(ctx, pr, branch)
    return _reported(ctx, "merge", task, pr_number, lambda: merge.maybe_merge(ctx, pr_number, branch, head_sha))


def scan_conflicts(repo: str, base_sha: str, installation_id: int | None) -> list[int] | None:
    ctx = build_context(repo, installation_id)
    return _reported(ctx, "scan_conflicts", None, None, lambda: conflicts.scan_conflicts(ctx, base_sha))


def resolve_conflict(repo: str, pr: int, base_sha: str, installation_id: int | None) -> str | None:
    ctx = build_context(repo, installation_id)
    _, task = _pr_and_task(ctx, pr, None)
    again = JobRequest.make("resolve_conflict", repo=repo, pr=pr, base_sha=base_sha, installation_id=installation_id)
    return _reported(ctx, "resolve_conflict", task, pr, lambda: conflicts.resolve_conflict(ctx, pr, base_sha), again)


def address_review(repo: str, pr: int, review_id: int | str, installation_id: int | None) -> str | None:
    ctx = build_context(repo, installation_id)
    _, task = _pr_and_task(ctx, pr, None)
    again = JobRequest.make("address_review", repo=repo, pr=pr, review_id=review_id, installation_id=installation_id)
    return _reported(ctx, "address_review", task, pr, lambda: review.address_review(ctx, pr, review_id), again)

