"""The planner's collaborators for one job: the forge, the repository's config, where jobs go, the model.

`Planner` is built by the job entry points (`bot/jobs.py`) from the runtime, and by tests from
localhub, the model stand-in and a private Redis.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bot.forge.client import Forge
from bot.git import Mirror
from bot.llm.types import ChatModel
from bot.queue.kinds import Executor, JobRequest
from bot.repoconfig import RepoConfig
from bot.settings import Budget


@dataclass
class Planner:
    """Everything the planner's core needs, injected."""

    forge: Forge
    config: RepoConfig
    executor: Executor
    model: Callable[[], ChatModel]
    state_dir: Path
    budget: Budget = field(default_factory=lambda: Budget(max_steps=40))
    installation_id: int | None = None
    checkout: Callable[[], contextlib.AbstractContextManager[Path]] | None = None

    @property
    def repo(self) -> str:
        return self.forge.repo_full_name

    @contextlib.contextmanager
    def worktree(self) -> Iterator[Path]:
        """A fresh read-only checkout of the default branch (the repository's one mirror)."""
        if self.checkout is not None:
            with self.checkout() as path:
                yield path
        else:
            with Mirror.of(self.forge, self.state_dir).checkout(self.forge.default_branch()) as path:
                yield path

    def submit(self, kind: str, number: int) -> None:
        self.executor.submit(JobRequest.make(kind, repo=self.repo, number=number, installation_id=self.installation_id))

    def submit_repo(self, kind: str) -> None:
        """Submit a repository-wide job (`dispatch_repo`, `sweep`)."""
        self.executor.submit(JobRequest.make(kind, repo=self.repo, installation_id=self.installation_id))
