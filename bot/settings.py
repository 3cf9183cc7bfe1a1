"""Process-wide settings, built once from the environment by each entry point."""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from bot.errors import ConfigError, Source


class Role(StrEnum):
    """The roles a model can play; each may use a different model."""

    PLANNER = "planner"
    WORKER = "worker"
    CONFLICT = "conflict"
    CI_FIX = "ci_fix"
    REVIEW = "review"


DEFAULT_MODEL = "scripted:demo"
#: A model for every role that the repository's `.github/orchestra.yml` may override (an App server's default).
DEFAULT_MODEL_ENV = "ORCHESTRA_DEFAULT_MODEL"
#: Python's level names; ORCHESTRA_LOG_LEVEL takes them in any case.
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def model_env(role: Role | str) -> str:
    """The environment variable of one role's model spec, e.g. ``ORCHESTRA_MODEL_CI_FIX``."""
    return f"ORCHESTRA_MODEL_{Role(role).value.upper()}"


def parse_log_level(value: str, name: str = "ORCHESTRA_LOG_LEVEL") -> str:
    """`info`, `INFO`, `Debug` → the level's name; ConfigError (one line) for anything else."""
    level = value.strip().upper()
    if level == "WARN":
        level = "WARNING"
    if level not in LOG_LEVELS:
        raise ConfigError(
            f"{name}: {value!r} is not a log level; use one of {', '.join(n.lower() for n in LOG_LEVELS)} (any case)",
            source=Source("env", name),
        )
    return level


class Budget(BaseModel):
    """Bounds on one agent run or one goal; `None` means unbounded for that measure."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_steps: int | None = Field(default=None, ge=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_usd: float | None = Field(default=None, ge=0)
    max_wall_s: float | None = Field(default=None, gt=0)


class SpendCaps(BaseModel):
    """The spend breaker's caps given to this process (flags, then the environment); None: the
    repository's `budgets.goal` / `budgets.day` decide (docs/configuration.md, Precedence)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    goal_tokens: int | None = Field(default=None, ge=1)
    goal_usd: float | None = Field(default=None, ge=0)
    day_tokens: int | None = Field(default=None, ge=1)
    day_usd: float | None = Field(default=None, ge=0)

    def laid_over(self, other: SpendCaps) -> SpendCaps:
        """These caps where set, else `other`'s (a flag over the environment)."""
        return SpendCaps(**{k: v if v is not None else getattr(other, k) for k, v in self.model_dump().items()})


#: Each cap's environment variable.
SPEND_CAP_ENV = {
    "goal_tokens": "ORCHESTRA_BUDGET_GOAL_TOKENS",
    "goal_usd": "ORCHESTRA_BUDGET_GOAL_USD",
    "day_tokens": "ORCHESTRA_BUDGET_DAY_TOKENS",
    "day_usd": "ORCHESTRA_BUDGET_DAY_USD",
}


class RoleModels(BaseModel):
    """A model spec per role, e.g. ``anthropic:claude-sonnet-5-5`` or ``openai-responses:gpt-6.1-sol``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    planner: str = DEFAULT_MODEL
    worker: str = DEFAULT_MODEL
    conflict: str = DEFAULT_MODEL
    ci_fix: str = DEFAULT_MODEL
    review: str = DEFAULT_MODEL
    #: Roles whose spec was given to this run (role → the flag or environment variable that gave it):
    #: these win over the repository's `.github/orchestra.yml`; the other roles yield to it.
    given: dict[str, str] = {}
    #: Where the specs of the other roles came from: "default", or ORCHESTRA_DEFAULT_MODEL.
    fallback: str = "default"

    def for_role(self, role: Role | str) -> str:
        return str(getattr(self, Role(role).value))

    def specs(self) -> list[str]:
        """Every role's spec."""
        return [self.for_role(role) for role in Role]

    def is_given(self, role: Role | str) -> bool:
        """True when this role's spec was given by a flag or the environment (it beats the repo's file)."""
        return Role(role).value in self.given

    def source(self, role: Role | str) -> Source:
        """Where this role's spec came from."""
        name = self.given.get(Role(role).value)
        if name is None:
            return Source("env", self.fallback) if self.fallback != "default" else Source("default", "default")
        return Source("flag" if name.startswith("--") else "env", name)

    def with_flags(self, model: str | None, planner_model: str | None) -> RoleModels:
        """These specs with `--model` for every role and `--planner-model` for the planner laid over them."""
        specs = {role.value: self.for_role(role) for role in Role}
        given = dict(self.given)
        if model:
            specs = {role: model for role in specs}
            given |= {role: "--model" for role in specs}
        if planner_model:
            specs[Role.PLANNER.value] = planner_model
            given[Role.PLANNER.value] = "--planner-model"
        return RoleModels(**specs, given=given, fallback=self.fallback)


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
    spend_caps: SpendCaps = SpendCaps()
    log_level: str = "INFO"
    #: Which environment variable set each field that did not keep its default (field → variable name).
    origins: dict[str, str] = {}

    @field_validator("log_level")
    @classmethod
    def _level_name(cls, value: str) -> str:
        try:
            return parse_log_level(value, "log_level")
        except ConfigError as exc:
            raise ValueError(str(exc)) from None

    #: Seconds between two sweeps (bot/reconcile.py): a lost or never-delivered webhook is
    #: recovered within about this long (the server's scheduled `sweep_all`; local mode's timer).
    sweep_interval_s: float = Field(default=300.0, ge=5)
    #: Seconds between two writes of one forge client (GitHub asks for at least 1 s between
    #: POST/PATCH/PUT/DELETE requests, against its secondary rate limits); 0 against localhub.
    write_spacing_s: float = Field(default=1.0, ge=0, le=60)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``environ`` (default ``os.environ``); raise ConfigError on bad values."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        origins: dict[str, str] = {}

        def take(key: str, *names: str) -> None:
            for name in names:
                if env.get(name):
                    values[key] = env[name]
                    origins[key] = name
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
        if "log_level" in values:
            values["log_level"] = parse_log_level(str(values["log_level"]))
        take("sweep_interval_s", "ORCHESTRA_SWEEP_INTERVAL_S")
        take("write_spacing_s", "ORCHESTRA_WRITE_SPACING_S")

        key = env.get("ORCHESTRA_PRIVATE_KEY")
        key_path = env.get("ORCHESTRA_PRIVATE_KEY_PATH")
        if key:
            values["private_key"] = key.replace("\\n", "\n")
            origins["private_key"] = "ORCHESTRA_PRIVATE_KEY"
        elif key_path:
            origins["private_key"] = "ORCHESTRA_PRIVATE_KEY_PATH"
            try:
                values["private_key"] = Path(key_path).read_text()
            except OSError as exc:
                raise ConfigError(f"ORCHESTRA_PRIVATE_KEY_PATH: cannot read {key_path}: {exc.strerror}") from exc

        values["models"] = _models_from_env(env)

        task_budget: dict[str, str] = {}
        for field, name in (
            ("max_steps", "ORCHESTRA_MAX_STEPS"),
            ("max_tokens", "ORCHESTRA_MAX_TOKENS_PER_TASK"),
            ("max_usd", "ORCHESTRA_MAX_USD_PER_TASK"),
            ("max_wall_s", "ORCHESTRA_MAX_WALL_S_PER_TASK"),
        ):
            if env.get(name):
                task_budget[field] = env[name]
                origins[f"task_budget.{field}"] = name
        if task_budget:
            values["task_budget"] = {**cls.model_fields["task_budget"].default.model_dump(), **task_budget}

        caps = {}
        for field, name in SPEND_CAP_ENV.items():
            if env.get(name):
                caps[field] = env[name]
                origins[f"spend_caps.{field}"] = name
        if caps:
            values["spend_caps"] = caps

        values["origins"] = origins
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            variable = origins.get(where) or origins.get(str(first["loc"][0])) or ""
            source = Source("env", variable) if variable else None
            named = f" ({variable})" if variable else ""
            raise ConfigError(f"settings: {where}{named}: {first['msg']}", source=source) from exc

    @property
    def uses_app_auth(self) -> bool:
        """True when the bot authenticates as a GitHub App (id + private key)."""
        return bool(self.app_id and self.private_key)


def _models_from_env(env: Mapping[str, str]) -> dict[str, object]:
    """Each role's spec: ORCHESTRA_MODEL_<ROLE>, else ORCHESTRA_MODEL (both given to the run: they win over
    the repository's file), else ORCHESTRA_DEFAULT_MODEL or the built-in default (the file wins over these)."""
    fallback_name = DEFAULT_MODEL_ENV if env.get(DEFAULT_MODEL_ENV) else "default"
    fallback = env.get(DEFAULT_MODEL_ENV) or DEFAULT_MODEL
    models: dict[str, object] = {}
    given: dict[str, str] = {}
    for role in Role:
        for name in (model_env(role), "ORCHESTRA_MODEL"):
            if env.get(name):
                models[role.value], given[role.value] = env[name], name
                break
        else:
            models[role.value] = fallback
    return {**models, "given": given, "fallback": fallback_name}
