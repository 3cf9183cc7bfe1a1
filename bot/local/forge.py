"""`LocalForge`: the forge client of local mode, which applies `--merge auto|review` to the repo config."""

from __future__ import annotations

from typing import Any

from github import Auth

from bot.forge.client import Forge
from bot.repoconfig import RepoConfig


class LocalForge(Forge):
    """A Forge whose `repo_config()` carries the run's merge policy instead of the committed one.

    The override lives in the process, never in the repository: the result branch holds only
    the work, not a config edit made for the run.
    """

    def __init__(self, repo_full_name: str, auth: Auth.Auth, *, merge_policy: str | None = None, **kwargs: Any) -> None:
        super().__init__(repo_full_name, auth, **kwargs)
        self.merge_policy = merge_policy

    def repo_config(self) -> RepoConfig:
        config = super().repo_config()
        if not self.merge_policy or config.merge.policy == self.merge_policy:
            return config
        merge = config.merge.model_copy(update={"policy": self.merge_policy})
        return config.model_copy(update={"merge": merge})
