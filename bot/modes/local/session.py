"""The embedded stack of local mode: localhub with the user's repo, the webhook app, the executor, the runtime.

Nothing is short-circuited: the person files the goal through localhub's REST API, localhub
sends signed webhooks to the webhook app served on a free port, the app routes them into jobs,
and the executor runs the jobs (a thread pool here, or RQ workers with `--redis`), which talk to
localhub through the forge client and git over HTTP exactly as they would to GitHub.
"""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from github import Auth
from github.GithubException import GithubException
from pydantic import SecretStr

from bot import jobs
from bot.errors import ConfigError
from bot.forge.client import Forge
from bot.forge.retry import RetryPolicy
from bot.modes import bench, demo
from bot.modes.local import userrepo
from bot.queue.executors import InlineExecutor, RQExecutor
from bot.queue.kinds import Executor, JobRequest
from bot.repoconfig import RepoConfig
from bot.runtime import ConfigOverlay, Runtime
from bot.settings import SPEND_CAP_ENV, Role, RoleModels, Settings
from localhub.server import HubConfig, LocalHub
from localhub.serving import ServedApp
from webhooks.app import create_app

log = logging.getLogger(__name__)

#: The person who owns the imported repository and files the goal.
PERSON = "you"
#: The bot's user on localhub (local mode authenticates with a token, not as an App).
BOT = "orchestra-bot"
#: Forge calls in-process need no pause between writes (localhub has no secondary limits to respect).
LOCAL_POLICY = RetryPolicy(write_spacing_s=None)
#: A failed in-process job runs again after these pauses (up to its kind's retries), as RQ retries.
LOCAL_RETRY_DELAYS = (1.0, 5.0)


@dataclass(frozen=True)
class LocalOptions:
    """What `orchestra run` was asked to do (besides the goal)."""

    repo: Path
    workers: int = 4
    model: str | None = None
    planner_model: str | None = None
    merge: str | None = "auto"
    redis_url: str | None = None
    state_dir: Path | None = None
    ci_command: str | None = None
    repo_name: str | None = None
    #: localhub's injected faults (`--fault-rate` of `orchestra localhub serve`): a share of API calls
    #: answer 502 or a secondary rate limit; `fault_after_share` of them hit writes after they applied.
    fault_rate: float = 0.0
    fault_seed: int = 0
    fault_after_share: float = 0.0
    #: `--plan-only` / `--approve`: plans wait for approval in this run (`planning.approval: required`).
    plan_approval: bool = False


class LocalExecutor(InlineExecutor):
    """The in-process executor, which can also walk away from jobs still running when the run gives up."""

    def abandon(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def merge_overlay(policy: str | None, plan_approval: bool = False) -> ConfigOverlay | None:
    """`--merge auto|review` (and `--plan-only`/`--approve`: plans wait for approval) laid over the
    committed config, in this process only: the result branch holds only the work, never a config edit
    made for the run."""
    if not policy and not plan_approval:
        return None

    def overlay(config: RepoConfig) -> RepoConfig:
        if policy and config.merge.policy != policy:
            config = config.model_copy(update={"merge": config.merge.model_copy(update={"policy": policy})})
        if plan_approval and config.planning.approval != "required":
            config = config.model_copy(update={"planning": config.planning.model_copy(update={"approval": "required"})})
        return config

    return overlay


def role_models(base: RoleModels, model: str | None, planner_model: str | None) -> RoleModels:
    """The base specs, with `model` for every role and `planner_model` for the planner (flags: they win
    over the repository's committed `models:`)."""
    return base.with_flags(model, planner_model)


@dataclass
class LocalSession:
    """Start with `start()` (or `with`); everything stops with `stop()`; state stays in `state_dir`."""

    options: LocalOptions
    base_settings: Settings
    repo_path: Path = field(init=False)
    state_dir: Path = field(init=False)
    repo_full_name: str = field(init=False)
    default_branch: str = field(init=False)
    config: RepoConfig = field(init=False)
    #: The committed config with this run's `--merge` laid over it (what the jobs see).
    config_in_effect: RepoConfig = field(init=False)
    ci_command: str | None = field(init=False, default=None)
    ci_source: str = field(init=False, default="")
    hub: LocalHub = field(init=False)
    settings: Settings = field(init=False)
    executor: Executor = field(init=False)
    runtime: Runtime = field(init=False)
    person_token: str = field(init=False, default_factory=lambda: f"lh_{PERSON}_{secrets.token_hex(12)}")
    bot_token: str = field(init=False, default_factory=lambda: f"lh_{BOT}_{secrets.token_hex(12)}")
    _web: ServedApp | None = field(init=False, default=None)
    _workers: list[subprocess.Popen[bytes]] = field(init=False, default_factory=list)
    _worker_names: list[str] = field(init=False, default_factory=list)
    _worker_env: dict[str, str] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.repo_path = userrepo.check_repo(self.options.repo)
        self.default_branch = userrepo.current_branch(self.repo_path)
        self.config = userrepo.read_config(self.repo_path)
        overlay = merge_overlay(self.options.merge, self.options.plan_approval)
        self.config_in_effect = overlay(self.config) if overlay is not None else self.config
        if self.options.ci_command:
            self.ci_command, self.ci_source = self.options.ci_command, "--ci"
        else:
            self.ci_command, self.ci_source = userrepo.detect_ci_command(self.repo_path, self.config)
        name = self.options.repo_name or _repo_slug(self.repo_path.name)
        self.repo_full_name = f"{PERSON}/{name}"
        stamp = time.strftime("%Y%m%d-%H%M%S")
        root = self.options.state_dir or userrepo.default_state_dir(self.repo_path)
        self.state_dir = Path(root).expanduser().resolve() / f"run-{stamp}-{secrets.token_hex(2)}"

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> LocalSession:
        """Start localhub with the imported repo, the webhook app, the executor and (with --redis) the workers."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        options = self.options
        self.hub = LocalHub(
            HubConfig(
                state_dir=self.state_dir / "localhub",
                users={PERSON: self.person_token, BOT: self.bot_token},
                fault_rate=options.fault_rate,
                fault_seed=options.fault_seed,
                fault_after_share=options.fault_after_share,
            )
        ).start()
        try:
            self._start_stack()
        except BaseException:
            self.stop(abandon=True)
            raise
        return self

    def _start_stack(self) -> None:
        self.hub.import_repo(self.repo_path, self.repo_full_name, self.ci_command)
        self._grant_bot_write()
        self._write_person_token()
        self.settings = self._settings()
        self.executor = self._executor()
        secret = self.settings.webhook_secret
        assert secret is not None
        self._web = ServedApp(create_app(self.settings, self.executor), ident="orchestra")
        self._web.start("orchestra-webhooks")
        self.hub.set_app_webhook(self._web.url + "/webhook", secret.get_secret_value())
        self.runtime = Runtime(
            self.settings,
            self.executor,
            jobs=jobs.FUNCTIONS,
            forge_factory=self.bot_forge,
            scripts={**demo.SCRIPTS, **bench.SCRIPTS},
            config_overlay=merge_overlay(self.options.merge, self.options.plan_approval),
        )
        if isinstance(self.executor, InlineExecutor):
            self.executor.bind(self.runtime.perform)
        if self.options.redis_url:
            self._start_rq_workers()

    def stop(self, *, abandon: bool = False) -> None:
        """Stop the workers, the webhook app and localhub. `abandon`: do not wait for running jobs."""
        self.hub.events.app_webhook = None  # no further deliveries, so nothing new is enqueued
        executor = getattr(self, "executor", None)
        if isinstance(executor, LocalExecutor):
            if abandon:
                executor.abandon()
            else:
                executor.shutdown()
        for proc in self._workers:
            proc.terminate()
        for proc in self._workers:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if self._web is not None:
            self._web.stop()
        self.hub.stop()

    def __enter__(self) -> LocalSession:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop(abandon=exc[0] is not None)

    # -- collaborators ----------------------------------------------------------------------
    @property
    def hub_url(self) -> str:
        return self.hub.url

    @property
    def repo_url(self) -> str:
        """The repository's web URL on localhub (`/issues/<n>`, `/pull/<n>` are its pages)."""
        return f"{self.hub.url}/{self.repo_full_name}"

    @property
    def pages_url(self) -> str:
        """localhub's issue list of the repository: goal, tasks, labels; PRs and checks are linked."""
        return f"{self.repo_url}/issues?state=all"

    @property
    def merge_policy(self) -> str:
        """`--merge`, else the repository's committed `merge.policy`."""
        return self.options.merge or self.config.merge.policy

    @property
    def person_token_file(self) -> Path:
        """The person's localhub token (mode 0600), for merging PRs or commenting commands through the API."""
        return self.state_dir / f"{PERSON}.token"

    def merge_hint(self) -> str:
        """How a person merges a PR of this run from a shell (the review policy)."""
        api = f"{self.hub.api_url}/repos/{self.repo_full_name}"
        return f'curl -X PUT -H "Authorization: token $(cat {self.person_token_file})" {api}/pulls/NUMBER/merge'

    def _write_person_token(self) -> None:
        descriptor = os.open(self.person_token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(self.person_token + "\n")

    def bot_forge(self, repo: str, installation_id: int | None = None) -> Forge:
        """The bot's forge in this process."""
        return Forge(
            repo,
            Auth.Token(self.bot_token),
            api_url=self.hub.api_url,
            server_url=self.hub.url,
            bot_login=BOT,
            policy=LOCAL_POLICY,
        )

    def person_forge(self) -> Forge:
        """The person's view of the repository (filing the goal, reading progress)."""
        return Forge(
            self.repo_full_name,
            Auth.Token(self.person_token),
            api_url=self.hub.api_url,
            server_url=self.hub.url,
            bot_login=BOT,
            policy=LOCAL_POLICY,
        )

    def _grant_bot_write(self) -> None:
        """Make the bot a collaborator (idempotent, so retried like any forge call)."""
        owner, _, name = self.repo_full_name.partition("/")

        def grant() -> None:
            response = requests.put(
                f"{self.hub.api_url}/repos/{owner}/{name}/collaborators/{BOT}",
                json={"permission": "admin"},
                timeout=10,
                headers={"Authorization": f"token {self.person_token}"},
            )
            if response.status_code >= 500 or response.status_code in (403, 429):
                raise GithubException(response.status_code, response.text, dict(response.headers))
            response.raise_for_status()

        LOCAL_POLICY.call("grant the bot write access", grant)

    def _settings(self) -> Settings:
        base = self.base_settings
        models = role_models(base.models, self.options.model, self.options.planner_model)
        return base.model_copy(
            update={
                "app_id": None,
                "private_key": None,
                "token": SecretStr(self.bot_token),
                "webhook_secret": SecretStr(secrets.token_hex(16)),
                "api_url": self.hub.api_url,
                "server_url": self.hub.url,
                "bot_login": BOT,
                "state_dir": self.state_dir / "work",
                "models": models,
                "redis_url": self.options.redis_url or base.redis_url,
            }
        )

    def _executor(self) -> Executor:
        if self.options.redis_url:
            return RQExecutor.from_url(self.options.redis_url)
        return LocalExecutor(workers=max(1, self.options.workers), retry_delays=LOCAL_RETRY_DELAYS)

    # -- RQ workers (`--redis`) ---------------------------------------------------------------
    def worker_env(self) -> dict[str, str]:
        """The environment of an `orchestra worker` process serving this session (secrets included)."""
        settings = self.settings
        env = dict(os.environ)
        env |= {
            "ORCHESTRA_TOKEN": self.bot_token,
            "ORCHESTRA_API_URL": settings.api_url,
            "ORCHESTRA_SERVER_URL": settings.server_url,
            "ORCHESTRA_BOT_LOGIN": BOT,
            "ORCHESTRA_STATE_DIR": str(settings.state_dir),
            "ORCHESTRA_REDIS_URL": settings.redis_url,
            "ORCHESTRA_LOCAL_MERGE_POLICY": self.options.merge or "",
            "ORCHESTRA_LOCAL_PLAN_APPROVAL": "required" if self.options.plan_approval else "",
        }
        for cap, name in SPEND_CAP_ENV.items():  # the run's caps (flags over the environment)
            value = getattr(settings.spend_caps, cap)
            if value is not None:
                env[name] = str(value)
        for role in Role:  # the run's flags; roles it did not name resolve in the workers as they do here
            if settings.models.is_given(role):
                env[f"ORCHESTRA_MODEL_{role.value.upper()}"] = settings.models.for_role(role)
        return env

    def _start_rq_workers(self) -> None:
        (self.state_dir / "workers").mkdir(parents=True, exist_ok=True)
        self._worker_env = self.worker_env()
        for index in range(max(1, self.options.workers)):
            self._worker_names.append(f"local-{os.getpid()}-{index + 1}")
            self._workers.append(self._start_rq_worker(index))

    def _start_rq_worker(self, index: int) -> subprocess.Popen[bytes]:
        with open(self.state_dir / "workers" / f"worker-{index + 1}.log", "ab") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "bot.modes.local.rqworker", self._worker_names[index]],
                env=self._worker_env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def worker_processes(self) -> list[subprocess.Popen[bytes]]:
        """The RQ worker processes serving this run (`--redis`), one per slot."""
        return list(self._workers)

    def worker_names(self) -> list[str]:
        """The RQ names of the workers serving now, one per slot."""
        return list(self._worker_names)

    def replace_dead_workers(self) -> int:
        """Start a new worker in the slot of each one that died (killed, out of memory), as a supervisor
        would; RQ retries the job it held once its heartbeat lapses. How many were replaced."""
        replaced = 0
        for index, proc in enumerate(self._workers):
            if proc.poll() is None:
                continue
            log.warning("worker %s exited with %s; starting another", self._worker_names[index], proc.returncode)
            # A new name: the dead one's entry stays in Redis until its TTL and RQ refuses a second of a name.
            self._worker_names[index] = f"local-{os.getpid()}-{index + 1}-{secrets.token_hex(2)}"
            self._workers[index] = self._start_rq_worker(index)
            replaced += 1
        return replaced

    # -- the goal ---------------------------------------------------------------------------
    def file_goal(self, title: str, body: str) -> int:
        """File the goal as the person, labelled `<prefix>:goal`; its number (retried; never filed twice)."""
        if not title.strip():
            raise ConfigError("the goal is empty: pass --goal TEXT or --goal-file FILE")
        issue = self.person_forge().create_issue(title.strip()[:250], body, [self.config.label("goal")])
        return issue.number

    # -- the sweep --------------------------------------------------------------------------
    def sweep_job(self) -> JobRequest:
        return JobRequest.make("sweep", repo=self.repo_full_name, installation_id=None)

    def sweep_now(self) -> bool:
        """Sweep in this thread (the run's timer, and whenever the run turns quiet); True when the sweep
        found nothing to submit or repair."""
        try:
            report = self.runtime.perform(self.sweep_job())
        except Exception:  # the forge failed past its retries: not quiet, the next look sweeps again
            log.exception("the sweep of %s failed", self.repo_full_name)
            return False
        return bool(report is not None and report.quiet)


def _repo_slug(name: str) -> str:
    slug = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name).strip("-.") or "repo"
    return slug[:90]
