"""The GitHub Action mode: one event from the runner, routed as the web app routes it, its jobs run here.

`run_action(env)` reads `GITHUB_EVENT_NAME` / `GITHUB_EVENT_PATH`, builds `Settings` once, drops
the bot's own events, asks the same routers as the web app (plus two events only workflows see:
`workflow_dispatch` and `workflow_run`), and runs the jobs on an in-process executor wrapped in
a `DispatchExecutor`: every ready task becomes its own workflow run by `workflow_dispatch`, and
the run started with input `task` executes that task's implement job here. No signature check:
the event came from the runner, not from the network. Commands still pass the permission gate
(in the command job), like every other mode.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot import jobs as job_functions
from bot.errors import ConfigError
from bot.forge.client import Forge
from bot.forge.retry import RetryPolicy
from bot.modes import demo
from bot.modes.tokenforge import token_forges
from bot.queue.executors import InlineExecutor
from bot.queue.fanout import DispatchExecutor
from bot.queue.kinds import JobRequest, SubmitResult
from bot.repoconfig import RepoConfig
from bot.runtime import JobFunction, ModelFactory, Runtime
from bot.settings import Settings
from webhooks.app import is_own_event
from webhooks.event import Event
from webhooks.handlers import ACTION_ROUTER

log = logging.getLogger(__name__)

#: Events made with the Action's `GITHUB_TOKEN` come from this account.
ACTIONS_BOT = "github-actions[bot]"
#: GitHub stops a job after 6 hours; the in-process jobs get no longer.
DRAIN_TIMEOUT_S = 6 * 3600
#: Workflow-only events that count even when the bot caused them: its own fan-out starts the
#: task runs, and CI that ran on the bot's pushes is still CI (like `check_suite` for the App).
OWN_EVENTS_THAT_COUNT = frozenset({"workflow_dispatch", "workflow_run"})


@dataclass(frozen=True)
class ActionInputs:
    """What the Action's inputs change besides Settings: the workflow to dispatch and config overlays."""

    workflow: str | None = None
    merge_policy: str | None = None
    max_parallel_tasks: int | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ActionInputs:
        workflow = env.get("ORCHESTRA_WORKFLOW") or _workflow_file(env.get("GITHUB_WORKFLOW_REF", ""))
        parallel = env.get("ORCHESTRA_MAX_PARALLEL_TASKS", "").strip()
        if parallel and not parallel.isdigit():
            raise ConfigError(f"max-parallel-tasks: {parallel!r} is not a whole number")
        inputs = cls(
            workflow or None, env.get("ORCHESTRA_MERGE_POLICY", "").strip() or None, int(parallel) if parallel else None
        )
        inputs.overlay(RepoConfig())  # a bad value fails now, not in the middle of a job
        return inputs

    def overlay(self, config: RepoConfig) -> RepoConfig:
        """`config` with the inputs that were given laid over it."""
        data = config.model_dump()
        if self.merge_policy is not None:
            data["merge"]["policy"] = self.merge_policy
        if self.max_parallel_tasks is not None:
            data["max_parallel_tasks"] = self.max_parallel_tasks
        try:
            return RepoConfig.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"action inputs: {where}: {first['msg']}") from exc


def _workflow_file(workflow_ref: str) -> str | None:
    """`orchestra.yml` from `octo/repo/.github/workflows/orchestra.yml@refs/heads/main`."""
    path = workflow_ref.partition("@")[0]
    return path.rsplit("/", 1)[-1] if "/.github/workflows/" in path else None


def action_settings(env: Mapping[str, str]) -> Settings:
    """Settings from the runner's environment: the token is required; the bot is `github-actions[bot]`
    unless `ORCHESTRA_BOT_LOGIN` says otherwise (an App token acts as `<app-slug>[bot]`)."""
    values = dict(env)
    values.setdefault("ORCHESTRA_BOT_LOGIN", ACTIONS_BOT)
    if not values.get("ORCHESTRA_STATE_DIR") and values.get("RUNNER_TEMP"):
        values["ORCHESTRA_STATE_DIR"] = str(Path(values["RUNNER_TEMP"]) / "orchestra")
    settings = Settings.from_env(values)
    if settings.token is None:
        raise ConfigError(
            "the Action needs a token: pass `token:` (default `${{ github.token }}`) or set ORCHESTRA_TOKEN"
        )
    return settings


def read_event(env: Mapping[str, str]) -> Event:
    """The event this run was started for, from `GITHUB_EVENT_NAME` and the file at `GITHUB_EVENT_PATH`."""
    name, path = env.get("GITHUB_EVENT_NAME"), env.get("GITHUB_EVENT_PATH")
    if not name or not path:
        raise ConfigError(
            "GITHUB_EVENT_NAME and GITHUB_EVENT_PATH are not set: `orchestra action` runs inside a GitHub Actions job"
        )
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"GITHUB_EVENT_PATH: cannot read {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"GITHUB_EVENT_PATH: {path} is not JSON: {exc.msg}") from exc
    if not isinstance(payload, dict):
        raise ConfigError(f"GITHUB_EVENT_PATH: {path} does not hold an event object")
    if not payload.get("repository") and env.get("GITHUB_REPOSITORY"):
        payload["repository"] = {"full_name": env["GITHUB_REPOSITORY"]}  # e.g. a schedule event
    return Event(name, payload, env.get("GITHUB_RUN_ID", ""))


def jobs_for(event: Event, settings: Settings) -> list[JobRequest]:
    """The jobs the event asks for; none for the bot's own events, except those the web app keeps
    (`webhooks.app.OWN_EVENTS_THAT_COUNT`) and `OWN_EVENTS_THAT_COUNT` here."""
    if event.repo is None or (event.name not in OWN_EVENTS_THAT_COUNT and is_own_event(event, settings.bot_login)):
        return []
    return ACTION_ROUTER.dispatch(event)


def workflow_dispatcher(
    forge: Callable[[str, int | None], Forge], workflow: str | None
) -> Callable[[JobRequest], None]:
    """`dispatch(job)`: one `workflow_dispatch` of `workflow` on the default branch with input `task`."""

    def dispatch(job: JobRequest) -> None:
        if workflow is None:
            raise ConfigError(
                "cannot fan out tasks: the running workflow is unknown; set the action's "
                "`workflow:` input to the workflow file name (e.g. orchestra.yml)"
            )
        target = forge(job.args["repo"], job.args["installation_id"])
        target.dispatch_workflow(workflow, target.default_branch(), {"task": str(job.args["number"])})
        log.info("dispatched %s for task #%s of %s", workflow, job.args["number"], job.args["repo"])

    return dispatch


@dataclass
class ActionReport:
    """What one run did."""

    event: str
    action: str | None
    repo: str | None
    jobs: list[SubmitResult] = field(default_factory=list)
    dispatched: list[int] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "action": self.action,
            "repo": self.repo,
            "jobs": [{"id": r.job_id, "kind": r.kind, "new": r.new} for r in self.jobs],
            "dispatched_tasks": self.dispatched,
            "failures": self.failures,
        }


def run_action(
    env: Mapping[str, str],
    *,
    model_factory: ModelFactory | None = None,
    jobs: Mapping[str, JobFunction] | None = None,
    timeout_s: float = DRAIN_TIMEOUT_S,
    forge_policy: RetryPolicy | None = None,
) -> ActionReport:
    """Handle one Action event to the end: route it, run its jobs here, dispatch ready tasks.

    The run composes its `Runtime` here: its in-process executor performs the jobs. `model_factory`,
    `jobs` (a kind → its function; default `bot.jobs.FUNCTIONS`) and `forge_policy` are for tests.
    """
    settings = action_settings(env)
    inputs = ActionInputs.from_env(env)
    event = read_event(env)
    report = ActionReport(event.name, event.action, event.repo)
    requests = jobs_for(event, settings)
    if not requests:
        return report
    forge = token_forges(settings, forge_policy)

    inline = InlineExecutor()
    local = [(str(job.args["repo"]), int(job.args["number"])) for job in requests if job.kind == "implement"]
    executor = DispatchExecutor(inline, workflow_dispatcher(forge, inputs.workflow), local_tasks=local)
    rt = Runtime(
        settings,
        executor,
        jobs=job_functions.FUNCTIONS if jobs is None else jobs,
        forge_factory=forge,
        model_factory=model_factory,
        scripts=demo.SCRIPTS,
        model_env=env,
        config_overlay=inputs.overlay,
    )
    inline.bind(rt.perform)
    try:
        report.jobs = [executor.submit(job) for job in requests]
        inline.drain(timeout_s)
    finally:
        inline.shutdown()
    report.dispatched = [int(job.args["number"]) for job in executor.dispatched]
    report.failures = {jid: f"{type(exc).__name__}: {exc}" for jid, exc in inline.failures.items()}
    return report
