"""Process-wide settings, built once from the environment by each entry point."""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from bot.errors import ConfigError


class Role(StrEnum):
    """The roles a model can play; each may use a different model."""

    PLANNER = "planner"
    WORKER = "worker"
    CONFLICT = "conflict"
    CI_FIX = "ci_fix"
    REVIEW = "review"


DEFAULT_MODEL = "scripted:demo"


class Budget(BaseModel):
    """Bounds on one agent run or one goal; `None` means unbounded for that measure."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_steps: int | None = Field(default=None, ge=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_usd: float | None = Field(default=None, ge=0)
    max_wall_s: float | None = Field(default=None, gt=0)


class RoleModels(BaseModel):
    """A model spec per role, e.g. ``anthropic:claude-sonnet-4-5`` or ``openai:gpt-5.2``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    planner: str = DEFAULT_MODEL
    worker: str = DEFAULT_MODEL
    conflict: str = DEFAULT_MODEL
    ci_fix: str = DEFAULT_MODEL
    review: str = DEFAULT_MODEL

    def for_role(self, role: Role | str) -> str:
        return str(getattr(self, Role(role).value))


class Settings(BaseModel):
    """Everything a process needs to know about where it runs. Secrets never print."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    app_id: str | None = None
    private_key: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    token: SecretStr | None = None
    api_url: str = "https://api.github.com"
    server_url: str = "https://github.com"
    redis_url: str = "redis://127.0.0.1:6379/0"
    bot_login: str = "orchestra[bot]"
    git_author_name: str = "Agent Orchestra"
    git_author_email: str = "orchestra@users.noreply.github.com"
    state_dir: Path = Path(".orchestra-state")
    models: RoleModels = RoleModels()
    task_budget: Budget = Budget(max_steps=60, max_tokens=2_000_000, max_usd=5.0, max_wall_s=1800)
    goal_budget: Budget = Budget(max_tokens=50_000_000, max_usd=100.0)
    log_level: str = "INFO"
    #: Seconds between two sweeps (bot/reconcile.py): a lost or never-delivered webhook is
    #: recovered within about this long (the server's scheduled `sweep_all`; local mode's timer).
    sweep_interval_s: float = Field(default=300.0, ge=5)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``environ`` (default ``os.environ``); raise ConfigError on bad values."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}

        def take(key: str, *names: str) -> None:
            for name in names:
                if env.get(name):
                    values[key] = env[name]
                    return

        take("app_id", "ORCHESTRA_APP_ID", "GITHUB_APP_ID")
        take("webhook_secret", "ORCHESTRA_WEBHOOK_SECRET", "GITHUB_WEBHOOK_SECRET")
        take("token", "ORCHESTRA_TOKEN", "GITHUB_TOKEN")
        take("api_url", "ORCHESTRA_API_URL", "GITHUB_API_URL")
        take("server_url", "ORCHESTRA_SERVER_URL", "GITHUB_SERVER_URL")
        take("redis_url", "ORCHESTRA_REDIS_URL", "REDIS_URL")
        take("bot_login", "ORCHESTRA_BOT_LOGIN")
        take("git_author_name", "ORCHESTRA_GIT_AUTHOR_NAME")
        take("git_author_email", "ORCHESTRA_GIT_AUTHOR_EMAIL")
        take("state_dir", "ORCHESTRA_STATE_DIR")
        take("log_level", "ORCHESTRA_LOG_LEVEL")
        take("sweep_interval_s", "ORCHESTRA_SWEEP_INTERVAL_S")

        key = env.get("ORCHESTRA_PRIVATE_KEY")
        key_path = env.get("ORCHESTRA_PRIVATE_KEY_PATH")
        if key:
            values["private_key"] = key.replace("\\n", "\n")
        elif key_path:
            try:
                values["private_key"] = Path(key_path).read_text()
            except OSError as exc:
                raise ConfigError(f"ORCHESTRA_PRIVATE_KEY_PATH: cannot read {key_path}: {exc.strerror}") from exc

        default_model = env.get("ORCHESTRA_MODEL") or DEFAULT_MODEL
        values["models"] = {
            role.value: env.get(f"ORCHESTRA_MODEL_{role.value.upper()}") or default_model for role in Role
        }

        task_budget: dict[str, str] = {}
        for field, name in (
            ("max_steps", "ORCHESTRA_MAX_STEPS"),
            ("max_tokens", "ORCHESTRA_MAX_TOKENS_PER_TASK"),
            ("max_usd", "ORCHESTRA_MAX_USD_PER_TASK"),
            ("max_wall_s", "ORCHESTRA_MAX_WALL_S_PER_TASK"),
        ):
            if env.get(name):
                task_budget[field] = env[name]
        if task_budget:
            values["task_budget"] = {**cls.model_fields["task_budget"].default.model_dump(), **task_budget}

        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"settings: {where}: {first['msg']}") from exc

    @property
    def uses_app_auth(self) -> bool:
        """True when the bot authenticates as a GitHub App (id + private key)."""
        return bool(self.app_id and self.private_key)
