"""The runtime of a process: settings, the executor, the job functions, how to build forges and models.

Each way of running the orchestra (`bot/modes/`) composes one `Runtime` in one visible place —
the server's RQ workers from the environment, the Action from the runner's event, local mode
and the demo around an embedded localhub — and hands it to the jobs: an in-process executor
calls `runtime.perform(job)`; an RQ worker process `install()`s its runtime once at start and
RQ's entry (`bot/queue/runs.py:run_job`) performs each job with `current()`. Job functions take
the runtime as their first argument; nothing is built behind their back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.forge.client import Forge
from bot.llm.scripted import PolicyFactory
from bot.llm.types import ChatModel
from bot.queue.kinds import Executor, JobRequest
from bot.repoconfig import RepoConfig
from bot.settings import Role, Settings

ForgeFactory = Callable[[str, "int | None"], Forge]
ModelFactory = Callable[[str], ChatModel]
#: What a way of running lays over a repository's committed config (local mode's `--merge`, the Action's inputs).
ConfigOverlay = Callable[[RepoConfig], RepoConfig]
#: A job kind's entry point: the runtime, then the kind's plain arguments (see bot/jobs.py).
JobFunction = Callable[..., Any]


@dataclass
class Runtime:
    """What every job needs besides its arguments."""

    settings: Settings
    executor: Executor
    #: A kind's name → its entry point (`bot.jobs.FUNCTIONS`, or a test's own).
    jobs: Mapping[str, JobFunction] = field(default_factory=dict)
    forge_factory: ForgeFactory | None = None
    model_factory: ModelFactory | None = None
    #: Scripted models this process can build (`scripted:<name>` → its policy factory).
    scripts: Mapping[str, PolicyFactory] = field(default_factory=dict)
    #: Environment the model SDKs read keys and base URLs from (None: the process environment).
    model_env: Mapping[str, str] | None = None
    #: Laid over every repository's committed config for this process's jobs.
    config_overlay: ConfigOverlay | None = None
    #: Extra context for one-off callers (e.g. the local-mode progress display); never required.
    extras: dict[str, object] = field(default_factory=dict)

    def perform(self, job: JobRequest) -> Any:
        """Run `job` to its end in this process, with this runtime."""
        function = self.jobs.get(job.kind)
        if function is None:
            raise RuntimeError(
                f"this process's runtime has no function for job kind {job.kind!r} "
                "(its composition root passes `jobs=bot.jobs.FUNCTIONS`)"
            )
        from bot.logs import job_context
        from bot.metrics.jobs import job_meter

        # Every line the job logs names it (bot/logs.py); what it did is measured (bot/metrics/jobs.py).
        with job_context(job), job_meter(job.kind):
            return function(self, **job.args)

    def forge(self, repo: str, installation_id: int | None = None) -> Forge:
        """A Forge for `repo` with this process's credentials (its calls count in the running job's measure)."""
        from bot.metrics.jobs import note_forge

        if self.forge_factory is not None:
            forge = self.forge_factory(repo, installation_id)
        else:
            from bot.forge.auth import forge_for

            forge = forge_for(self.settings, repo, installation_id)
        note_forge(forge, installation_id)
        return forge

    def repo_config(self, forge: Forge) -> RepoConfig:
        """The repository's committed config with this process's overlay laid over it."""
        from bot.repofiles import read_config

        config = read_config(forge).with_caps(self.settings.spend_caps)  # flags and environment over the file
        return self.config_overlay(config) if self.config_overlay is not None else config

    def model_spec(self, role: Role | str, config: RepoConfig | None = None) -> str:
        from bot.llm.factory import spec_for_role

        return spec_for_role(role, self.settings, config)

    def model(self, role: Role | str, config: RepoConfig | None = None) -> ChatModel:
        """The model for `role`: a flag or the environment, else the repo's `models:`, else the default.

        Its usage counts in the running job's measure under `role` (bot/metrics/jobs.py).
        """
        from bot.llm.factory import make_resolved, resolve_spec
        from bot.metrics.jobs import metered

        resolved = resolve_spec(role, self.settings, config)
        if self.model_factory is not None:
            return metered(self.model_factory(resolved.spec), role)
        return metered(make_resolved(resolved, env=self.model_env, scripts=self.scripts), role)

    @property
    def state_dir(self) -> Path:
        """Where mirrors, worktrees and transcripts live."""
        return self.settings.state_dir


_lock = threading.Lock()
_current: Runtime | None = None


def install(runtime: Runtime) -> Runtime:
    """Make `runtime` the one this process's RQ jobs use (called once by the process's composition root)."""
    global _current
    with _lock:
        _current = runtime
    return runtime


def reset() -> None:
    """Forget the installed runtime (tests, and a local run that ends)."""
    global _current
    with _lock:
        _current = None


def current() -> Runtime:
    """The runtime this process's composition root installed; RuntimeError when none was."""
    with _lock:
        if _current is None:
            raise RuntimeError(
                "no runtime is installed in this process: an RQ worker must be started by "
                "`orchestra worker` (or a mode's worker), which composes and installs one"
            )
        return _current
