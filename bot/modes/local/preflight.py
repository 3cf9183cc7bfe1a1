"""Local mode's pre-flight: what `orchestra run` (and the demo) checks before localhub starts or a goal is filed.

git first (everything else here needs it), then the repository and its committed config, then
— at once, bounded — Redis (`--redis` only) and every role's model endpoint, with the specs the
run will use: `--model`/`--planner-model`, else ORCHESTRA_MODEL_<ROLE>/ORCHESTRA_MODEL, else the
committed `.github/orchestra.yml`, else the default. A failure is one line (PreflightFailed or
ConfigError, exit 2) and nothing has started. Last, the one warning about the agent's sandbox.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from bot.agent import sandbox_mode
from bot.doctor import Check, Result, git_check, model_checks, preflight, prices_check, redis_check
from bot.errors import Source
from bot.modes import demo
from bot.modes.local import userrepo
from bot.modes.local.session import LocalOptions
from bot.settings import Settings


def run_settings(options: LocalOptions, settings: Settings) -> Settings:
    """`settings` with the run's `--model` / `--planner-model` laid over the environment's specs."""
    return settings.model_copy(update={"models": settings.models.with_flags(options.model, options.planner_model)})


def local_preflight(options: LocalOptions, settings: Settings, env: Mapping[str, str] | None = None) -> list[Result]:
    """Check what the run needs; PreflightFailed or ConfigError on the first problem."""
    preflight([git_check()])
    repo = userrepo.check_repo(options.repo)
    config = userrepo.read_config(repo)
    checks: list[Check] = []
    if options.redis_url:
        checks.append(redis_check(options.redis_url, Source("flag", "--redis")))
    environ = os.environ if env is None else env
    checks += model_checks(run_settings(options, settings), config, environ, demo.SCRIPTS)
    checks.append(prices_check(run_settings(options, settings), config, environ))
    results = preflight(checks)
    sandbox_mode.warn_if_unconfined()
    return results
