"""The `orchestra` command line: one sub-module per command group, registered here."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from bot import __version__
from bot.errors import OrchestraError

# Each module defines `register(subparsers)`; its subcommands set `func(args) -> int`.
COMMAND_MODULES = [
    "bot.cli.config_cmd",
    "bot.cli.localhub_cmd",
    "bot.cli.agent_cmd",
    "bot.cli.run_cmd",
    "bot.cli.demo_cmd",
    "bot.cli.reconcile_cmd",
    "bot.cli.serve_cmd",
    "bot.cli.action_cmd",
    "bot.cli.doctor_cmd",
    "bot.cli.app_cmd",
    "bot.cli.bench_cmd",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orchestra",
        description="Agent Orchestra: a planner and many coding agents coordinating through the forge.",
    )
    parser.add_argument("--version", action="version", version=f"orchestra {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except OrchestraError as exc:
        print(f"orchestra: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("orchestra: interrupted", file=sys.stderr)
        return 130
