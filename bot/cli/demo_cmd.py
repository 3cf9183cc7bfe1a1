"""`orchestra demo`: the whole life cycle offline, on a bundled example project with the scripted model."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli.run_cmd import check_workers, report
from bot.modes.local.progress import make_display


def register(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser(
        "demo", help="watch the whole life cycle offline on a bundled example project (no keys needed)",
        description="Copies a small example Python project into a new git repository and runs local mode on it "
                    "with `scripted:demo`, a scripted demonstration device (not a model): a plan of 5 tasks, "
                    "workers in parallel, a merge conflict resolved, a CI failure fixed, every PR merged, the "
                    "goal closed, the result fetched as branch orchestra/goal-1.",
    )
    demo.add_argument("--workers", type=int, default=4, help="jobs run at once (default 4)")
    demo.add_argument("--dir", type=Path, help="where to create the example repository (default: a new temp dir)")
    demo.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS", help="give up after this long")
    demo.add_argument("--json", action="store_true", help="print only the final summary as one JSON object")
    demo.set_defaults(func=demo_command)


def demo_command(args: argparse.Namespace) -> int:
    from bot.modes.demo.run import run_demo

    check_workers(args.workers, processes=False)
    summary = run_demo(make_display(args.json), workers=args.workers, directory=args.dir,
                       timeout_s=args.timeout)
    return report(summary, args.json)
