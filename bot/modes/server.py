"""The GitHub App server: its RQ workers' runtime, composed from the environment in one place.

`orchestra serve` runs the webhook app (`webhooks/app.py`, built from `Settings`); `orchestra
worker` runs a pool of `ServerWorker`s, each of which composes its runtime once at start — the
settings from the environment, the RQ executor on their Redis, the job functions of
`bot/jobs.py`, the demo's scripted model (the default model spec) — and installs it for the
jobs RQ runs in that process. `orchestra reconcile` uses the same runtime.

The sweep (bot/reconcile.py) runs inside the deployment: every `sweep_interval_s` a `sweep_all`
job (scheduled with RQ's scheduler, which `orchestra worker` runs) submits a `sweep` per
repository the App's installations (or the token) can see, and schedules the next tick. Each
worker schedules the next tick when it starts and at each of its maintenance passes (at least
once an interval); one job per tick runs, whoever scheduled it, and a Redis wiped of the chain
gets it back at the next maintenance pass.
"""

from __future__ import annotations

import logging
from typing import Any

from bot import jobs, runtime
from bot.errors import QueueUnavailable
from bot.modes import demo
from bot.queue.executors import RQExecutor
from bot.queue.rqworker import OrchestraWorker
from bot.reconcile import schedule_sweeps
from bot.runtime import Runtime
from bot.settings import Settings

log = logging.getLogger(__name__)


def worker_runtime(settings: Settings) -> Runtime:
    """The runtime of a server worker process: RQ on the settings' Redis, App (or token) credentials."""
    return Runtime(settings, RQExecutor.from_url(settings.redis_url), jobs=jobs.FUNCTIONS, scripts=demo.SCRIPTS)


class ServerWorker(OrchestraWorker):
    """An RQ worker of the App server: composes and installs its process's runtime when it starts, and
    keeps the sweep scheduled."""

    log_format = "json"
    preload_modules = jobs.PRELOAD

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        settings = Settings.from_env()
        # the SDKs of the providers the settings name are imported before the first fork
        self.preload_modules = jobs.preload_for(settings.models.specs())
        super().__init__(*args, **kwargs)
        self.orchestra = runtime.install(worker_runtime(settings))
        self.maintenance_interval = min(int(self.maintenance_interval), max(5, int(settings.sweep_interval_s)))

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        try:
            schedule_sweeps(self.orchestra.executor, self.orchestra.settings.sweep_interval_s)
        except QueueUnavailable as exc:  # Redis is away: the next pass schedules it
            log.warning("could not schedule the sweep: %s", exc)
