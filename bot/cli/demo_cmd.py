"""`orchestra demo`: the whole life cycle offline, on a bundled example project with the scripted model."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.agent import sandbox_mode
from bot.cli.helptext import add_command
from bot.cli.run_cmd import check_workers, report
from bot.doctor import git_check, preflight
from bot.modes.local.progress import make_display


def register(sub: argparse._SubParsersAction) -> None:
    demo = add_command(
        sub,
        "demo",
        summary="watch the whole life cycle offline on a bundled example project (no keys needed)",
        variables=(("ORCHESTRA_SANDBOX", "the agent's command sandbox (default here: best-effort)"),),
        note="No model, key, network or Redis is used. Before it starts it checks that git runs; it ends "
        "with exit 0 when the goal closed, 1 otherwise (docs/local-mode.md).",
        description="Copies a small example Python project into a new git repository and runs local mode on it "
        "with `scripted:demo`, a scripted demonstration device (not a model): a plan of 5 tasks, "
        "workers in parallel, a merge conflict resolved, a CI failure fixed, every PR merged, the "
        "goal closed, the result fetched as branch orchestra/goal-1.",
    )
    demo.add_argument("--workers", type=int, default=4, help="jobs run at once (default 4)")
    demo.add_argument("--dir", type=Path, help="where to create the example repository (default: a new temp dir)")
    demo.add_argument(
        "--timeout", type=float, default=600.0, metavar="SECONDS", help="give up after this long (default 600)"
    )
    demo.add_argument("--json", action="store_true", help="print only the final summary as one JSON object")
    demo.set_defaults(func=demo_command)


def demo_command(args: argparse.Namespace) -> int:
    sandbox_mode.prefer_local_default()  # one's own machine: unconfined commands when nothing else works
    preflight([git_check()])  # the example repository is made with git; the rest is checked by run_local
    from bot.modes.demo.run import run_demo

    check_workers(args.workers, processes=False)
    summary = run_demo(make_display(args.json), workers=args.workers, directory=args.dir, timeout_s=args.timeout)
    return report(summary, args.json)
