"""`orchestra config check PATH`: validate a repo's `.github/orchestra.yml`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.errors import ConfigError
from bot.repoconfig import load_repo_config


def register(sub: argparse._SubParsersAction) -> None:
    config = sub.add_parser("config", help="inspect orchestra configuration")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = config_sub.add_parser("check", help="validate a .github/orchestra.yml and print the effective config")
    check.add_argument("path", type=Path, help="path to the YAML file")
    check.set_defaults(func=check_config)


def check_config(args: argparse.Namespace) -> int:
    try:
        config = load_repo_config(args.path)
    except ConfigError as exc:
        # One line per problem, `PATH:key: message`, and exit 2 so scripts can tell.
        print(exc, file=sys.stderr)
        return 2
    print(json.dumps(config.model_dump(mode="json"), indent=2))
    return 0
