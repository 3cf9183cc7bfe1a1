"""`orchestra reconcile --repo OWNER/NAME`: rebuild the job queue from the forge (after Redis was wiped)."""

from __future__ import annotations

import argparse
import os

from bot.cli.helptext import FORGE, REDIS, add_command, log_vars
from bot.doctor import REDIS_WAIT_S


def register(sub: argparse._SubParsersAction) -> None:
    parser = add_command(
        sub, "reconcile", summary="re-enqueue the work the forge shows as open (idempotent)",
        description="Read one repository's open work from the forge — ready tasks, working tasks without a PR, "
                    "PRs that conflict, fail CI or wait for a merge — and enqueue a job for each on Redis, "
                    "skipping jobs already queued or running. Running it twice enqueues nothing twice. Use it "
                    "after Redis was lost or flushed; the forge holds every task, claim and attempt.",
        variables=(*FORGE, *REDIS, *log_vars("json")),
        note=f"In App mode the installation is found by itself (GET /repos/OWNER/NAME/installation with the App's "
             f"JWT); --installation-id overrides it. Before it starts it checks Redis (for up to {REDIS_WAIT_S:g} s) "
             "and the forge credentials on the repository; on a failure it prints one line and exits 2.",
    )
    parser.add_argument("--repo", required=True, metavar="OWNER/NAME", help="the repository")
    parser.add_argument("--installation-id", type=int, default=None,
                        help="the App installation (default: found from the repository in App mode; "
                             "unused with a token)")
    parser.set_defaults(func=reconcile_command)


def reconcile_command(args: argparse.Namespace) -> int:
    from bot.cli.serve_cmd import service_logging
    from bot.doctor import preflight, server_checks
    from bot.forge.auth import installation_for
    from bot.modes.server import worker_runtime
    from bot.settings import Settings
    from bot.worker.reconcile import reconcile

    settings = Settings.from_env()
    service_logging(settings)
    preflight(server_checks(settings, "reconcile", os.environ, repo=args.repo))
    installation_id = args.installation_id
    if installation_id is None and settings.uses_app_auth:
        installation_id = installation_for(settings, args.repo)
    rt = worker_runtime(settings)
    forge = rt.forge(args.repo, installation_id)
    report = reconcile(forge, rt.repo_config(forge), rt.executor, installation_id)
    for job_id in report.new:
        print(f"enqueued {job_id}")
    for job_id in report.live:
        print(f"already queued {job_id}")
    print(f"{len(report.new)} enqueued, {len(report.live)} already live")
    return 0
