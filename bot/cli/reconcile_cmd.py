"""`orchestra reconcile --repo OWNER/NAME`: rebuild the job queue from the forge (after Redis was wiped)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("reconcile", help="re-enqueue the work the forge shows as open (idempotent)")
    parser.add_argument("--repo", required=True, help="the repository, OWNER/NAME")
    parser.add_argument("--installation-id", type=int, default=None, help="the App installation (App mode only)")
    parser.set_defaults(func=reconcile_command)


def reconcile_command(args: argparse.Namespace) -> int:
    from bot.modes.server import worker_runtime
    from bot.settings import Settings
    from bot.worker.reconcile import reconcile

    rt = worker_runtime(Settings.from_env())
    forge = rt.forge(args.repo, args.installation_id)
    report = reconcile(forge, rt.repo_config(forge), rt.executor, args.installation_id)
    for job_id in report.new:
        print(f"enqueued {job_id}")
    for job_id in report.live:
        print(f"already queued {job_id}")
    print(f"{len(report.new)} enqueued, {len(report.live)} already live")
    return 0
