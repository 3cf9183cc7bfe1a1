"""Every job kind's entry point, and the table that maps a kind to it.

A job is a plain function of the runtime and plain values (`bot/queue/kinds.py` lists each
kind's parameters): it builds the collaborators its core needs from the runtime, calls the
core, and reports failures at one boundary (`failures_reported`: an error that needs a person
leaves its label and the job ends; a transient one is reported and re-raised for the queue's
retries; anything else is reported as unexpected and re-raised). Executors find the function of
a kind in `FUNCTIONS` through the runtime (`Runtime.perform`); only processes that run jobs
import this module, never the web process.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from rq import get_current_job

from bot import repofiles
from bot.errors import ConfigError, PushRejected
from bot.forge.auth import visible_repositories
from bot.forge.types import PullRequest
from bot.git import Identity, Mirror
from bot.ledger import comments
from bot.ledger.claims import Claimant
from bot.ledger.failures import failures_reported
from bot.ledger.taskbody import task_number_from_branch
from bot.llm.types import ChatModel
from bot.planner import approval, goal_jobs
from bot.planner import verbs as planner_verbs
from bot.planner.context import Planner
from bot.planner.dispatch import dispatch_repository
from bot.queue.kinds import JobRequest
from bot.reconcile import ReconcileReport, lookback, reconcile, schedule_sweeps
from bot.runtime import JobFunction, Runtime
from bot.settings import Budget, Role
from bot.steering import CommandContext, execute, verb_table
from bot.worker import ci, conflicts, implement, landing, merge, review
from bot.worker import verbs as worker_verbs
from bot.worker.session import WorkerContext

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Every `/orchestra` verb's handler: the planner's and the worker's.
VERB_HANDLERS = verb_table(planner_verbs.HANDLERS, worker_verbs.HANDLERS)


# -- collaborators ---------------------------------------------------------------------------
def planner_for(rt: Runtime, repo: str, installation_id: int | None) -> Planner:
    """The planner's collaborators for one job on `repo`."""
    forge = rt.forge(repo, installation_id)
    config = rt.repo_config(forge)
    budget = rt.settings.task_budget
    steps = Budget(
        max_steps=config.agent.max_steps,
        max_tokens=budget.max_tokens,
        max_usd=budget.max_usd,
        max_wall_s=budget.max_wall_s,
    )
    return Planner(
        forge=forge,
        config=config,
        executor=rt.executor,
        model=lambda: rt.model(Role.PLANNER, config),
        state_dir=rt.state_dir,
        budget=steps,
        installation_id=installation_id,
    )


def worker_context(rt: Runtime, repo: str, installation_id: int | None, agents: bool = True) -> WorkerContext:
    """A worker job's collaborators: forge, the repo's config, prompts, notes, the repository's mirror, models.

    `agents=False` (a job that runs no agent, such as `land`) skips reading prompt overrides and notes.
    """
    forge = rt.forge(repo, installation_id)
    config = rt.repo_config(forge)
    settings = rt.settings
    mirror = Mirror.of(
        forge,
        rt.state_dir,
        Identity(settings.git_author_name, settings.git_author_email),
        union_paths=config.merge.union_paths,
    )

    def model_for(role: Role) -> ChatModel:
        return rt.model(role, config)

    return WorkerContext(
        repo=repo,
        forge=forge,
        config=config,
        settings=settings,
        executor=rt.executor,
        mirror=mirror,
        model_for=model_for,
        installation_id=installation_id,
        overrides=repofiles.read_prompt_overrides(forge) if agents else None,
        notes=repofiles.read_notes(forge, config) if agents else "",
    )


def current_claimant() -> Claimant:
    """The claimant of the running job: RQ's worker name and attempt, else this process."""
    job = get_current_job()
    worker = os.environ.get("RQ_WORKER_ID") or _this_thread()
    if job is None:
        return Claimant(worker=worker, attempt=1)
    # Each start (first run, RQ retry, retry after a lapsed heartbeat) counts in the job's meta.
    attempt = 1 + int(job.meta.get("attempts_started", 0))
    job.meta["attempts_started"] = attempt
    job.save_meta()
    return Claimant(worker=job.worker_name or worker, attempt=attempt, job_id=job.id)


def _this_thread() -> str:
    """host:pid, and the thread's name for a job on an in-process executor's thread (local mode, the Action)."""
    thread = threading.current_thread()
    here = f"{socket.gethostname()}:{os.getpid()}"
    return here if thread is threading.main_thread() else f"{here}/{thread.name}"


# -- the planner's jobs ----------------------------------------------------------------------
def _planner_job(
    rt: Runtime, repo: str, number: int, installation_id: int | None, core: Callable[[Planner, int], object]
) -> None:
    try:
        planner = planner_for(rt, repo, installation_id)
    except ConfigError as error:  # a bad config is said where the goal is, once
        with failures_reported(rt.forge(repo, installation_id), number, None):
            raise error
        return
    with failures_reported(planner.forge, number, planner.config):
        core(planner, number)


def plan_goal(rt: Runtime, repo: str, number: int, installation_id: int | None = None) -> None:
    """Plan goal `number` (once), apply pending re-plan requests, dispatch ready tasks — once its text is
    approved by someone who may steer (`bot/planner/approval.py`; otherwise nothing changes)."""
    _planner_job(rt, repo, number, installation_id, _approved_goal_plan)


def _approved_goal_plan(planner: Planner, number: int) -> object:
    goal = planner.forge.get_issue(number)
    if (
        not goal.is_pull
        and goal.state == "open"
        and planner.config.label("goal") in goal.labels
        and approval.ensure_approved(planner, number) is None
    ):
        return None
    return goal_jobs.plan_goal(planner, number)


def goal_edited(
    rt: Runtime,
    repo: str,
    number: int,
    sender: str,
    text_sha256: str,
    edited_at: str,
    installation_id: int | None = None,
) -> None:
    """Someone edited goal `number`: a writer's edit approves its text; anyone else's is recorded, not used."""
    _planner_job(
        rt,
        repo,
        number,
        installation_id,
        lambda planner, n: approval.goal_edited(planner, n, sender, text_sha256, edited_at),
    )


def dispatch_ready(rt: Runtime, repo: str, number: int, installation_id: int | None = None) -> None:
    """Enqueue goal `number`'s ready tasks and rewrite its status."""
    _planner_job(rt, repo, number, installation_id, goal_jobs.dispatch_only)


def on_task_closed(rt: Runtime, repo: str, number: int, installation_id: int | None = None) -> None:
    """Task `number` closed (or its PR merged): wake its goal's `handoff` job."""
    _planner_job(rt, repo, number, installation_id, goal_jobs.task_closed)


def handoff(rt: Runtime, repo: str, number: int, installation_id: int | None = None) -> None:
    """Fold every unprocessed handoff of goal `number` into the plan; dispatch; complete the goal."""
    _planner_job(rt, repo, number, installation_id, goal_jobs.handle_handoffs)


# -- the repository's jobs -------------------------------------------------------------------
def dispatch_repo(rt: Runtime, repo: str, installation_id: int | None = None) -> str:
    """Start ready work of every open goal of `repo` within its cap (bot/planner/dispatch.py)."""
    forge = rt.forge(repo, installation_id)
    try:
        config = rt.repo_config(forge)
    except ConfigError as error:  # said on the goals by their own jobs; nothing to dispatch by
        log.warning("dispatch of %s: %s", repo, error)
        return "invalid config"
    result = dispatch_repository(forge, config, rt.executor, installation_id)
    return f"{len(result.enqueued)} started, {len(result.ready)} ready"


def sweep(rt: Runtime, repo: str, installation_id: int | None = None) -> ReconcileReport | None:
    """Submit what the forge's state of `repo` calls for and no live job does (bot/reconcile.py)."""
    forge = rt.forge(repo, installation_id)
    try:
        config = rt.repo_config(forge)
    except ConfigError as error:
        log.warning("sweep of %s: %s", repo, error)
        return None
    return reconcile(forge, config, rt.executor, installation_id, since=lookback(rt.settings.sweep_interval_s))


def sweep_all(rt: Runtime, tick: int, installation_id: int | None = None) -> list[str]:
    """One tick of the deployment's sweep: a `sweep` per visible repository, then the next tick scheduled."""
    swept: list[str] = []
    try:
        for found in visible_repositories(rt.settings):
            rt.executor.submit(JobRequest.make("sweep", repo=found.full_name, installation_id=found.installation_id))
            swept.append(found.full_name)
    finally:  # the chain goes on even when this tick could not list the repositories
        schedule_sweeps(rt.executor, rt.settings.sweep_interval_s)
    log.info("sweep tick %d: %d repositories", tick, len(swept))
    return swept


# -- the worker's jobs -----------------------------------------------------------------------
def _worker_job(
    ctx: WorkerContext,
    step: str,
    task: int | None,
    pr: int | None,
    core: Callable[[], T],
    again: JobRequest | None = None,
) -> T | None:
    """Run `core` inside the failure boundary, reported on the task (and the PR).

    `again` is given for the jobs that maintain an open PR (CI fix, conflict, review): when their
    push is rejected because another job on the same PR moved the branch first, their work is
    stale rather than failed, so the job is submitted again (it runs once more, on the moved
    branch, after this run: bot/queue/runs.py) instead of asking a person.
    """

    def attempt() -> T | None:
        try:
            return core()
        except PushRejected as exc:
            if again is None:
                raise
            log.info("%s on %s: the branch moved under it (%s); running it again", step, ctx.repo, exc)
            ctx.executor.submit(again)
            return None

    target = task if task is not None else pr
    result: T | None = None
    if target is None:
        result = attempt()
    else:
        with failures_reported(ctx.forge, target, ctx.config, step=step, task=task, also_on=pr):
            result = attempt()
    log.info("%s on %s: %s", step, ctx.repo, f"PR #{result.number}" if isinstance(result, PullRequest) else result)
    return result


def _pr_and_task(ctx: WorkerContext, pr: int | None, branch: str | None) -> tuple[int | None, int | None]:
    found = ci.find_pr(ctx, pr, branch)
    if found is None:
        return pr, task_number_from_branch(branch or "")
    return found.number, task_number_from_branch(found.head_ref)


def implement_task(rt: Runtime, repo: str, number: int, installation_id: int | None) -> str:
    ctx = worker_context(rt, repo, installation_id)
    try:
        pr = _worker_job(ctx, "implement", number, None, lambda: implement.run_task(ctx, number, current_claimant()))
    finally:  # in review, needs-human or failed: the task's slot is free for the repository's ready work
        ctx.executor.submit(JobRequest.make("dispatch_repo", repo=repo, installation_id=installation_id))
    return f"PR #{pr.number}" if pr is not None else "nothing done"


def fix_ci(
    rt: Runtime, repo: str, pr: int | None, branch: str | None, head_sha: str, installation_id: int | None
) -> str | None:
    ctx = worker_context(rt, repo, installation_id)
    pr_number, task = _pr_and_task(ctx, pr, branch)
    again = JobRequest.make(
        "fix_ci", repo=repo, pr=pr, branch=branch, head_sha=head_sha, installation_id=installation_id
    )
    return _worker_job(ctx, "fix_ci", task, pr_number, lambda: ci.fix_ci(ctx, pr_number, branch, head_sha), again)


def maybe_merge(
    rt: Runtime, repo: str, pr: int | None, branch: str | None, head_sha: str, installation_id: int | None
) -> str | None:
    ctx = worker_context(rt, repo, installation_id)
    pr_number, task = _pr_and_task(ctx, pr, branch)
    return _worker_job(ctx, "merge", task, pr_number, lambda: merge.maybe_merge(ctx, pr_number, branch, head_sha))


def fix_batch(
    rt: Runtime, repo: str, pr: int, head_sha: str, batch_sha: str, base_sha: str, installation_id: int | None
) -> str | None:
    ctx = worker_context(rt, repo, installation_id)
    _, task = _pr_and_task(ctx, pr, None)
    if task is None:  # a person's PR in the forge's merge queue: not the orchestra's to fix
        return "not an orchestra PR"
    again = JobRequest.make(
        "fix_batch",
        repo=repo,
        pr=pr,
        head_sha=head_sha,
        batch_sha=batch_sha,
        base_sha=base_sha,
        installation_id=installation_id,
    )
    return _worker_job(ctx, "fix_batch", task, pr, lambda: ci.fix_batch(ctx, pr, head_sha, batch_sha, base_sha), again)


def land(rt: Runtime, repo: str, installation_id: int | None) -> str | None:
    """Advance the repository's merge queue (bot/worker/landing.py)."""
    ctx = worker_context(rt, repo, installation_id, agents=False)
    return _worker_job(ctx, "land", None, None, lambda: landing.land(ctx))


def scan_conflicts(rt: Runtime, repo: str, base_sha: str, installation_id: int | None) -> list[int] | None:
    ctx = worker_context(rt, repo, installation_id)
    return _worker_job(ctx, "scan_conflicts", None, None, lambda: conflicts.scan_conflicts(ctx, base_sha))


def resolve_conflict(rt: Runtime, repo: str, pr: int, base_sha: str, installation_id: int | None) -> str | None:
    ctx = worker_context(rt, repo, installation_id)
    _, task = _pr_and_task(ctx, pr, None)
    again = JobRequest.make("resolve_conflict", repo=repo, pr=pr, base_sha=base_sha, installation_id=installation_id)
    return _worker_job(ctx, "resolve_conflict", task, pr, lambda: conflicts.resolve_conflict(ctx, pr, base_sha), again)


def address_review(rt: Runtime, repo: str, pr: int, review_id: int | str, installation_id: int | None) -> str | None:
    ctx = worker_context(rt, repo, installation_id)
    _, task = _pr_and_task(ctx, pr, None)
    again = JobRequest.make("address_review", repo=repo, pr=pr, review_id=review_id, installation_id=installation_id)
    return _worker_job(ctx, "address_review", task, pr, lambda: review.address_review(ctx, pr, review_id), again)


# -- commands --------------------------------------------------------------------------------
def command(
    rt: Runtime, repo: str, number: int, comment_id: int, verb: str, text: str, sender: str, installation_id: int | None
) -> str | None:
    """The `command` job: check the sender, reply once, run the verb."""
    forge = rt.forge(repo, installation_id)
    try:
        config = rt.repo_config(forge)
    except ConfigError as exc:  # say so where the command was given, once
        comments.upsert(forge, number, f"reply-{comment_id}", exc.comment())
        return exc.comment()
    ctx = CommandContext(
        forge=forge,
        config=config,
        settings=rt.settings,
        executor=rt.executor,
        number=number,
        comment_id=comment_id,
        sender=sender,
        text=text,
        installation_id=installation_id,
    )
    return execute(ctx, verb, VERB_HANDLERS)


#: A kind's name → its entry point (every kind of `bot/queue/kinds.py`).
FUNCTIONS: dict[str, JobFunction] = {
    "plan": plan_goal,
    "goal_edited": goal_edited,
    "dispatch": dispatch_ready,
    "dispatch_repo": dispatch_repo,
    "sweep": sweep,
    "sweep_all": sweep_all,
    "on_task_closed": on_task_closed,
    "handoff": handoff,
    "implement": implement_task,
    "fix_ci": fix_ci,
    "maybe_merge": maybe_merge,
    "land": land,
    "fix_batch": fix_batch,
    "scan_conflicts": scan_conflicts,
    "resolve_conflict": resolve_conflict,
    "address_review": address_review,
    "command": command,
}


def perform(rt: Runtime, job: JobRequest) -> Any:
    """Run one job to its end in this process."""
    return FUNCTIONS[job.kind](rt, **job.args)


#: The modules that bring in each model SDK (seconds of CPU to import; bot/llm/factory.py imports them
#: when a model of theirs is built).
PROVIDER_MODULES: dict[str, tuple[str, ...]] = {
    "anthropic": ("bot.llm.anthropic_provider",),
    "openai": ("bot.llm.openai_provider", "bot.llm.openai_responses"),
}


#: What a job imports lazily (the runtime's collaborators, the model SDKs through the model factory,
#: git and the HTTP stack): a forking RQ worker imports them before its first fork (bot/queue/rqworker.py).
PRELOAD = (
    "bot.llm.factory",
    *PROVIDER_MODULES["anthropic"],
    *PROVIDER_MODULES["openai"],
    "bot.metrics.jobs",
    "bot.forge.auth",
    "bot.forge.client",
    "bot.logs",
    "bot.repofiles",
    "bot.prompting",
    "bot.agent",
    "bot.agent.sandbox",
    "github",
    "jinja2",
    "yaml",
    "requests",
    "httpx",
)


def preload_for(specs: Iterable[str]) -> tuple[str, ...]:
    """`PRELOAD` without the SDKs no spec in `specs` uses (a local run of scripted models imports neither;
    a repository file naming another provider has its work horses import that SDK after the fork)."""
    providers = {spec.split(":", 1)[0] for spec in specs}
    unused = {
        module
        for provider, modules in PROVIDER_MODULES.items()
        if not any(p == provider or p.startswith(provider + "-") for p in providers)
        for module in modules
    }
    return tuple(module for module in PRELOAD if module not in unused)
