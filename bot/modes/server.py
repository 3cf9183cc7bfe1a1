"""The GitHub App server: its RQ workers' runtime, composed from the environment in one place.

`orchestra serve` runs the webhook app (`webhooks/app.py`, built from `Settings`); `orchestra
worker` runs a pool of `ServerWorker`s, each of which composes its runtime once at start — the
settings from the environment, the RQ executor on their Redis, the job functions of
`bot/jobs.py`, the demo's scripted model (the default model spec) — and installs it for the
jobs RQ runs in that process. `orchestra reconcile` uses the same runtime.
"""

from __future__ import annotations

from typing import Any

from bot import jobs, runtime
from bot.modes import demo
from bot.queue.executors import RQExecutor
from bot.queue.rqworker import OrchestraWorker
from bot.runtime import Runtime
from bot.settings import Settings


def worker_runtime(settings: Settings) -> Runtime:
    """The runtime of a server worker process: RQ on the settings' Redis, App (or token) credentials."""
    return Runtime(settings, RQExecutor.from_url(settings.redis_url), jobs=jobs.FUNCTIONS, scripts=demo.SCRIPTS)


class ServerWorker(OrchestraWorker):
    """An RQ worker of the App server: composes and installs its process's runtime when it starts."""

    log_format = "json"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        runtime.install(worker_runtime(Settings.from_env()))
