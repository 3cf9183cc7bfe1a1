"""`python -m bot.local.rqworker NAME`: an RQ worker serving one local run (`orchestra run --redis`).

It is an ordinary RQ worker on the job queues; the only local-mode touch is its runtime: the
forge factory applies the run's `--merge` policy (`ORCHESTRA_LOCAL_MERGE_POLICY`) and pauses
nothing between writes, as the in-process executor's does. Everything else comes from the
ORCHESTRA_* environment the session hands it.
"""

from __future__ import annotations

import os
import sys

from github import Auth

import bot.demo  # noqa: F401  (registers scripted:demo, the demo's model, in this worker process)
from bot import runtime as runtime_mod
from bot.forge.client import Forge
from bot.local.session import LOCAL_POLICY, merge_overlay
from bot.queue.executors import RQExecutor
from bot.queue.jobs import QUEUES
from bot.settings import Settings
from bot.worker.rqworker import OrchestraWorker


def main(argv: list[str]) -> int:
    settings = Settings.from_env()
    if settings.token is None:
        print("bot.local.rqworker: ORCHESTRA_TOKEN is not set", file=sys.stderr)
        return 2
    token = settings.token.get_secret_value()
    merge = os.environ.get("ORCHESTRA_LOCAL_MERGE_POLICY") or None

    def forge_factory(repo: str, installation_id: int | None = None) -> Forge:
        return Forge(repo, Auth.Token(token), api_url=settings.api_url, server_url=settings.server_url,
                     bot_login=settings.bot_login, policy=LOCAL_POLICY)

    executor = RQExecutor.from_url(settings.redis_url)
    runtime_mod.install(runtime_mod.Runtime(settings, executor, forge_factory=forge_factory,
                                            config_overlay=merge_overlay(merge)))
    name = argv[0] if argv else None
    worker = OrchestraWorker([executor.queues[queue] for queue in QUEUES], connection=executor.connection, name=name)
    worker.work(with_scheduler=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
