"""The composition root of a process: settings, the executor, and how to build forges and models.

Job functions are plain functions of plain values; they ask `current()` for their collaborators.
An RQ worker process builds its runtime lazily from the environment (RQ executor on the
settings' Redis); local mode, the demo and the Action `install()` one with the in-process
executor. Tests install a runtime pointing at localhub and the model stand-in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.forge.client import Forge
from bot.llm.types import ChatModel
from bot.queue.executors import Executor
from bot.repoconfig import RepoConfig
from bot.settings import Role, Settings

ForgeFactory = Callable[[str, "int | None"], Forge]
ModelFactory = Callable[[str], ChatModel]
#: What a way of running lays over a repository's committed config (local mode's `--merge`, the Action's inputs).
ConfigOverlay = Callable[[RepoConfig], RepoConfig]


@dataclass
class Runtime:
    """What every job needs besides its arguments."""

    settings: Settings
    executor: Executor
    forge_factory: ForgeFactory | None = None
    model_factory: ModelFactory | None = None
    #: Environment the model SDKs read keys and base URLs from (None: the process environment).
    model_env: Mapping[str, str] | None = None
    #: Laid over every repository's committed config for this process's jobs.
    config_overlay: ConfigOverlay | None = None
    #: Extra context for one-off callers (e.g. the local-mode progress display); never required.
    extras: dict[str, object] = field(default_factory=dict)

    def forge(self, repo: str, installation_id: int | None = None) -> Forge:
        """A Forge for `repo` with this process's credentials."""
        if self.forge_factory is not None:
            return self.forge_factory(repo, installation_id)
        from bot.forge.auth import forge_for

        return forge_for(self.settings, repo, installation_id)

    def repo_config(self, forge: Forge) -> RepoConfig:
        """The repository's committed config with this process's overlay laid over it."""
        from bot.repofiles import read_config

        config = read_config(forge)
        return self.config_overlay(config) if self.config_overlay is not None else config

    def model_spec(self, role: Role | str, config: RepoConfig | None = None) -> str:
        from bot.llm.factory import spec_for_role

        return spec_for_role(role, self.settings, config)

    def model(self, role: Role | str, config: RepoConfig | None = None) -> ChatModel:
        """The model for `role`: the repo's override, else the settings' spec."""
        spec = self.model_spec(role, config)
        if self.model_factory is not None:
            return self.model_factory(spec)
        from bot.llm.factory import make_model

        return make_model(spec, env=self.model_env)

    @property
    def state_dir(self) -> Path:
        """Where mirrors, worktrees and transcripts live."""
        return self.settings.state_dir


_lock = threading.Lock()
_current: Runtime | None = None


def install(runtime: Runtime) -> Runtime:
    """Make `runtime` the one this process's jobs use."""
    global _current
    with _lock:
        _current = runtime
    return runtime


def reset() -> None:
    """Forget the installed runtime (tests)."""
    global _current
    with _lock:
        _current = None


def current() -> Runtime:
    """The installed runtime, or one built from the environment (an RQ worker process)."""
    global _current
    with _lock:
        if _current is None:
            from bot.queue.executors import RQExecutor

            settings = Settings.from_env()
            _current = Runtime(settings=settings, executor=RQExecutor.from_url(settings.redis_url))
        return _current
