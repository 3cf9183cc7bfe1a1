"""`orchestra serve` (the webhook app under gunicorn) and `orchestra worker` (an RQ worker pool)."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot.cli.helptext import FORGE, MODELS, REDIS, WORK, add_command, log_vars
from bot.errors import ConfigError
from bot.settings import Settings

#: prometheus_client's variable naming the directory where every serve process keeps its counts.
METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


# Light on purpose: `worker` confines its commands (the sandbox check) before it loads Redis, the
# models' SDKs or the checks (bot/doctor.py), which are imported where they are used.

PREFLIGHT_NOTE = (
    "Before it starts it checks {what} (Redis for up to {wait:g} s); on the first failure it prints "
    "one line and exits 2. `orchestra doctor` shows every check. Logs: one JSON object a line on "
    "stderr (docs/deploy.md)."
)


def register(sub: argparse._SubParsersAction) -> None:
    from bot.doctor import REDIS_WAIT_S

    serve = add_command(
        sub,
        "serve",
        summary="serve the GitHub App webhook endpoint (gunicorn, waitress workers)",
        description="Serve POST /webhook (also POST /), GET /healthz and GET /metrics with gunicorn. A delivery "
        "is verified, de-duplicated and routed into jobs on Redis; `orchestra worker` runs them.",
        variables=(
            ("ORCHESTRA_WEBHOOK_SECRET (or GITHUB_WEBHOOK_SECRET)", "the deliveries' secret (required)"),
            *REDIS,
            ("ORCHESTRA_APP_ID", "names the App's delivery log in Redis"),
            ("ORCHESTRA_BOT_LOGIN", "the bot's login, to drop its own events"),
            *log_vars("json"),
        ),
        note=PREFLIGHT_NOTE.format(what="the webhook secret and Redis", wait=REDIS_WAIT_S),
    )
    serve.add_argument("--host", default="0.0.0.0", help="address to bind (default 0.0.0.0)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    serve.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    serve.add_argument("--threads", type=int, default=4, help="app threads per worker process (default 4)")
    serve.set_defaults(func=serve_command)

    worker = add_command(
        sub,
        "worker",
        summary="run an RQ worker pool on the urgent, default and implement queues",
        description="Run N worker processes taking jobs from Redis: urgent (CI fixes, conflicts, reviews, "
        "merges, commands) before default (planning) before implement (new tasks). Each process "
        "takes one job at a time; a dead worker's claim lapses after a few heartbeats.",
        variables=(*FORGE, *REDIS, *MODELS, *WORK, *log_vars("json")),
        note=PREFLIGHT_NOTE.format(
            what="the sandbox, git, Redis, every role's model endpoint and the forge credentials", wait=REDIS_WAIT_S
        ),
    )
    worker.add_argument("--processes", "-n", type=int, default=2, help="worker processes (default 2)")
    worker.add_argument(
        "--burst", action="store_true", help="exit once the queues are empty (default: run until stopped)"
    )
    worker.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        metavar="PORT",
        help="serve Prometheus metrics on GET /metrics at this port: job runs by kind and outcome, "
        "durations, queue depths, model tokens and cost by role, forge calls, the forge's rate "
        "limit left (default: off; docs/metrics.md)",
    )
    worker.add_argument("--metrics-host", default="0.0.0.0", help="address the metrics port binds (default 0.0.0.0)")
    worker.set_defaults(func=worker_command)


@contextlib.contextmanager
def metrics_dir() -> Iterator[Path]:
    """The directory the worker processes share their metrics through, for one run of `serve` or `worker`.

    `PROMETHEUS_MULTIPROC_DIR` when set (emptied of a previous run's `*.db` files, as
    prometheus_client asks), else a fresh temporary directory, removed again at exit. It must be
    in the environment before prometheus_client is imported.
    """
    given = os.environ.get(METRICS_DIR_ENV)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        yield directory
        return
    directory = Path(tempfile.mkdtemp(prefix="orchestra-metrics-"))
    os.environ[METRICS_DIR_ENV] = str(directory)
    try:
        yield directory
    finally:
        os.environ.pop(METRICS_DIR_ENV, None)
        shutil.rmtree(directory, ignore_errors=True)


def service_logging(settings: Settings) -> None:
    """The services' log lines: JSON unless ORCHESTRA_LOG_FORMAT says human."""
    from bot import logs

    logs.configure(logs.parse_format(os.environ.get(logs.FORMAT_ENV), "json"), settings.log_level)


def _gunicorn_logger() -> type:
    """gunicorn's logger, with its own lines in the same JSON (or human) format as the app's."""
    from gunicorn.glogging import Logger

    from bot import logs

    kind = logs.parse_format(os.environ.get(logs.FORMAT_ENV), "json")

    class OrchestraGunicornLogger(Logger):
        def setup(self, cfg: Any) -> None:
            super().setup(cfg)
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    handler.setFormatter(logs.formatter(kind))

    return OrchestraGunicornLogger


def serve_command(args: argparse.Namespace) -> int:
    from bot.doctor import preflight, server_checks

    settings = Settings.from_env()
    service_logging(settings)
    preflight(server_checks(settings, "serve", os.environ))
    with metrics_dir():
        run_server(settings, args)
    return 0


def run_server(settings: Settings, args: argparse.Namespace) -> None:
    """gunicorn's master supervising `--workers` processes, each serving the app with waitress."""
    from gunicorn.app.base import BaseApplication
    from prometheus_client import multiprocess

    from webhooks.app import create_app
    from webhooks.waitress_worker import WaitressWorker

    app = create_app(settings)  # built once, before the fork (preload): bad settings fail here
    logger_class = _gunicorn_logger()

    def child_exit(_server: Any, worker: Any) -> None:
        # A dead worker's counters stay (totals never go backwards); its live gauges go.
        multiprocess.mark_process_dead(worker.pid)

    class WebhookServer(BaseApplication):
        """gunicorn running the already-built app; options from the command line only."""

        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"{args.host}:{args.port}",
                "workers": args.workers,
                "threads": args.threads,
                # Each worker reads whole requests in waitress's event loop before a thread runs the
                # app, so slow or idle clients hold no thread (docs/webhooks.md, "Running it").
                "worker_class": WaitressWorker,
                "preload_app": True,
                "accesslog": None,
                "loglevel": settings.log_level.lower(),
                "logger_class": logger_class,
                "timeout": 30,
                "graceful_timeout": 10,
                "proc_name": "orchestra-serve",
                "child_exit": child_exit,
            }
            for key, value in options.items():
                self.cfg.set(key, value)
            if "control_socket_disable" in self.cfg.settings:
                # Recent gunicorn opens a control socket at one path per user: two servers would share it.
                self.cfg.set("control_socket_disable", True)

        def load(self) -> Any:
            return app

    WebhookServer().run()


def worker_command(args: argparse.Namespace) -> int:
    from bot.agent import sandbox_mode

    settings = Settings.from_env()
    service_logging(settings)
    # Fail closed before any job: SandboxUnavailable is one line naming ORCHESTRA_SANDBOX.
    sandbox_mode.check_reachable(settings.state_dir.resolve() / "worktrees", Path(tempfile.gettempdir()))

    from bot.doctor import preflight, server_checks
    from bot.modes import demo

    preflight(server_checks(settings, "worker", os.environ, scripts=demo.SCRIPTS))

    import redis
    from rq.worker_pool import WorkerPool

    from bot.modes.server import ServerWorker
    from bot.queue.kinds import QUEUES

    connection = redis.Redis.from_url(settings.redis_url)
    # Queue order is priority: fixing open PRs (urgent) before planning (default) before new work.
    # ServerWorker composes each worker process's runtime; a dead worker's claim lapses after a few
    # heartbeats, not RQ's default lease (bot/queue/rqworker.py).
    pool = WorkerPool(list(QUEUES), connection=connection, num_workers=args.processes, worker_class=ServerWorker)
    with worker_metrics(settings, args.metrics_host, args.metrics_port):
        pool.start(burst=args.burst, logging_level=settings.log_level)
    return 0


@contextlib.contextmanager
def worker_metrics(settings: Settings, host: str, port: int | None) -> Iterator[None]:
    """With a port: the worker processes count their job runs in a shared directory, served on GET /metrics."""
    if port is None:
        yield
        return
    with metrics_dir() as directory:  # before prometheus_client is imported: the counts are shared
        from bot.metrics import exposition, worker
        from bot.queue.executors import RQExecutor

        shared = exposition.multiprocess_dir()  # a ConfigError when prometheus_client was imported too early
        worker.enable(directory)
        depths = RQExecutor.from_url(settings.redis_url).queue_depths
        try:
            server = exposition.serve(host, port, exposition.scrape_registry(shared, queue_depths=depths))
        except OSError as exc:
            raise ConfigError(
                f"--metrics-port {port}: cannot listen on {host}:{port} ({exc.strerror or exc}); choose a free port"
            ) from None
        try:
            yield
        finally:
            server.shutdown()
