"""`orchestra reconcile --repo OWNER/NAME`: submit what the forge shows as unfinished (after Redis was wiped)."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime, timedelta

from bot.cli.helptext import FORGE, REDIS, add_command, log_vars
from bot.doctor import REDIS_WAIT_S


def register(sub: argparse._SubParsersAction) -> None:
    parser = add_command(
        sub,
        "reconcile",
        summary="re-enqueue the work the forge shows as unfinished (idempotent)",
        description="Read one repository's unfinished work from the forge — goals without a plan, dependants of "
        "closed tasks, handoffs not folded, commands without a reply, stale claims, PRs that "
        "conflict, fail CI or wait for a merge — and enqueue a job for each on Redis, skipping jobs "
        "already queued or running. Running it twice enqueues nothing twice. The deployment's "
        "scheduled sweep runs the same code every ORCHESTRA_SWEEP_INTERVAL_S.",
        variables=(*FORGE, *REDIS, *log_vars("json")),
        note=f"In App mode the installation is found by itself (GET /repos/OWNER/NAME/installation with the App's "
        f"JWT); --installation-id overrides it. Before it starts it checks Redis (for up to {REDIS_WAIT_S:g} s) "
        "and the forge credentials on the repository; on a failure it prints one line and exits 2.",
    )
    parser.add_argument("--repo", required=True, metavar="OWNER/NAME", help="the repository")
    parser.add_argument(
        "--installation-id",
        type=int,
        default=None,
        help="the App installation (default: found from the repository in App mode; unused with a token)",
    )
    parser.add_argument(
        "--since-days",
        type=float,
        default=30.0,
        metavar="DAYS",
        help="look this far back for unanswered commands, unfolded handoffs and closed tasks "
        "(default 30; 0: the whole history)",
    )
    parser.set_defaults(func=reconcile_command)


def reconcile_command(args: argparse.Namespace) -> int:
    from bot.cli.serve_cmd import service_logging
    from bot.doctor import preflight, server_checks
    from bot.forge.auth import installation_for
    from bot.modes.server import worker_runtime
    from bot.reconcile import iso, reconcile
    from bot.settings import Settings

    settings = Settings.from_env()
    service_logging(settings)
    preflight(server_checks(settings, "reconcile", os.environ, repo=args.repo))
    installation_id = args.installation_id
    if installation_id is None and settings.uses_app_auth:
        installation_id = installation_for(settings, args.repo)
    rt = worker_runtime(settings)
    forge = rt.forge(args.repo, installation_id)
    since = None
    if args.since_days > 0:
        since = iso(datetime.now(UTC) - timedelta(days=args.since_days))
    report = reconcile(forge, rt.repo_config(forge), rt.executor, installation_id, since=since)
    for job_id in report.new:
        print(f"enqueued {job_id}")
    for job_id in report.live:
        print(f"already queued {job_id}")
    for repair in report.repaired:
        print(f"repaired {repair}")
    print(f"{len(report.new)} enqueued, {len(report.live)} already live, {len(report.repaired)} repaired")
    return 0
