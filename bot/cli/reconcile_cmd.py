"""`orchestra reconcile --repo OWNER/NAME`: submit what the forge shows as unfinished (after Redis was wiped)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("reconcile", help="re-enqueue the work the forge shows as unfinished (idempotent)")
    parser.add_argument("--repo", required=True, help="the repository, OWNER/NAME")
    parser.add_argument("--installation-id", type=int, default=None, help="the App installation (App mode only)")
    parser.add_argument("--since-days", type=float, default=30.0, metavar="DAYS",
                        help="look this far back for unanswered commands, unfolded handoffs and closed tasks "
                             "(default 30; 0: the whole history)")
    parser.set_defaults(func=reconcile_command)


def reconcile_command(args: argparse.Namespace) -> int:
    from bot.modes.server import worker_runtime
    from bot.reconcile import iso, reconcile
    from bot.settings import Settings

    rt = worker_runtime(Settings.from_env())
    forge = rt.forge(args.repo, args.installation_id)
    since = None
    if args.since_days > 0:
        since = iso(datetime.now(UTC) - timedelta(days=args.since_days))
    report = reconcile(forge, rt.repo_config(forge), rt.executor, args.installation_id, since=since)
    for job_id in report.new:
        print(f"enqueued {job_id}")
    for job_id in report.live:
        print(f"already queued {job_id}")
    for repair in report.repaired:
        print(f"repaired {repair}")
    print(f"{len(report.new)} enqueued, {len(report.live)} already live, {len(report.repaired)} repaired")
    return 0
