"""`orchestra serve` (the webhook app under gunicorn) and `orchestra worker` (an RQ worker pool)."""

from __future__ import annotations

import argparse
import logging
import tempfile
from pathlib import Path
from typing import Any

from bot.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="serve the GitHub App webhook endpoint (gunicorn)")
    serve.add_argument("--host", default="0.0.0.0", help="address to bind (default 0.0.0.0)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    serve.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    serve.add_argument("--threads", type=int, default=4, help="threads per worker process (default 4)")
    serve.set_defaults(func=serve_command)

    worker = sub.add_parser("worker", help="run an RQ worker pool on the urgent, default and implement queues")
    worker.add_argument("--processes", "-n", type=int, default=2, help="worker processes (default 2)")
    worker.add_argument("--burst", action="store_true", help="exit once the queues are empty")
    worker.set_defaults(func=worker_command)


def serve_command(args: argparse.Namespace) -> int:
    from gunicorn.app.base import BaseApplication

    from webhooks.app import create_app

    settings = Settings.from_env()
    app = create_app(settings)  # built once, before the fork (preload): bad settings fail here

    class WebhookServer(BaseApplication):
        """gunicorn running the already-built app; options from the command line only."""

        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"{args.host}:{args.port}",
                "workers": args.workers,
                "threads": args.threads,
                "worker_class": "gthread",
                "preload_app": True,
                "accesslog": None,
                "loglevel": settings.log_level.lower(),
                "timeout": 30,
                "graceful_timeout": 10,
                "proc_name": "orchestra-serve",
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return app

    WebhookServer().run()
    return 0


def worker_command(args: argparse.Namespace) -> int:
    from bot.agent import sandbox_mode

    settings = Settings.from_env()
    logging.basicConfig(level=settings.log_level)
    # Fail closed before any job: SandboxUnavailable is one line naming ORCHESTRA_SANDBOX.
    sandbox_mode.check_reachable(settings.state_dir.resolve() / "worktrees", Path(tempfile.gettempdir()))

    import redis
    from rq.worker_pool import WorkerPool

    from bot.modes.server import ServerWorker
    from bot.queue.kinds import QUEUES

    connection = redis.Redis.from_url(settings.redis_url)
    # Queue order is priority: fixing open PRs (urgent) before planning (default) before new work.
    # ServerWorker composes each worker process's runtime; a dead worker's claim lapses after a few
    # heartbeats, not RQ's default lease (bot/queue/rqworker.py).
    pool = WorkerPool(list(QUEUES), connection=connection, num_workers=args.processes, worker_class=ServerWorker)
    pool.start(burst=args.burst, logging_level=settings.log_level)
    return 0
