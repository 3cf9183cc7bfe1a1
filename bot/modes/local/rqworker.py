"""`python -m bot.modes.local.rqworker NAME`: an RQ worker serving one local run (`orchestra run --redis`).

It is an ordinary RQ worker on the job queues; the only local-mode touch is the runtime it
composes and installs at start: the run's `--merge` policy (`ORCHESTRA_LOCAL_MERGE_POLICY`) is
laid over the repository's config, and no pause is made between writes, as the in-process
executor's does. Everything else comes from the ORCHESTRA_* environment the session hands it.

A local run is short and its workers may die (killed, out of memory; the session starts another in
the slot): a started job beats every `MONITORING_S` and any worker looks for lapsed ones every
`MAINTENANCE_S`, so the job of a dead worker runs again within about `DEAD_JOB_DETECTED_S`, not
RQ's default of several minutes (30 s beats, 60 s of grace, maintenance every 10 minutes).
"""

from __future__ import annotations

import os
import sys

from bot import jobs, runtime
from bot.modes import bench, demo
from bot.modes.local.session import LOCAL_POLICY, merge_overlay
from bot.modes.tokenforge import token_forges
from bot.queue.executors import RQExecutor
from bot.queue.kinds import QUEUES
from bot.queue.rqworker import MIN_GRACE_S, OrchestraWorker
from bot.runtime import Runtime
from bot.settings import Settings

MONITORING_S = 2
MAINTENANCE_S = 3
#: The longest a dead worker's started job waits before it is marked abandoned and retried.
DEAD_JOB_DETECTED_S = MONITORING_S + max(MIN_GRACE_S, 2 * MONITORING_S) + MAINTENANCE_S


def local_worker(executor: RQExecutor, name: str | None) -> OrchestraWorker:
    """The RQ worker of a local run (see the module docstring for its intervals)."""
    return OrchestraWorker(
        [executor.queues[queue] for queue in QUEUES],
        connection=executor.connection,
        name=name,
        job_monitoring_interval=MONITORING_S,
        maintenance_interval=MAINTENANCE_S,
    )


def main(argv: list[str]) -> int:
    settings = Settings.from_env()
    if settings.token is None:
        print("bot.modes.local.rqworker: ORCHESTRA_TOKEN is not set", file=sys.stderr)
        return 2
    merge = os.environ.get("ORCHESTRA_LOCAL_MERGE_POLICY") or None
    forge_factory = token_forges(settings, LOCAL_POLICY)

    executor = RQExecutor.from_url(settings.redis_url)
    runtime.install(
        Runtime(
            settings,
            executor,
            jobs=jobs.FUNCTIONS,
            forge_factory=forge_factory,
            scripts={**demo.SCRIPTS, **bench.SCRIPTS},
            config_overlay=merge_overlay(merge, os.environ.get("ORCHESTRA_LOCAL_PLAN_APPROVAL") == "required"),
        )
    )
    name = argv[0] if argv else None
    OrchestraWorker.preload_modules = (*jobs.preload_for(settings.models.specs()), "bot.modes.bench")
    local_worker(executor, name).work(with_scheduler=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
