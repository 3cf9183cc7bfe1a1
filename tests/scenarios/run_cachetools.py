"""`orchestra run` on a fresh git copy of the vendored cachetools, with `scripted:cachetools` playing every role.

    .venv/bin/python -m tests.scenarios.run_cachetools --dir /tmp/smoke [--adaptive] [--json] [--timeout 900]
        [--conflict-attempts N]

Registers the scenario's policies in this process, makes `<dir>/cachetools` (a new git repository),
puts this interpreter's directory first on PATH (so `python3` in CI and in the sandbox has pytest),
and runs `orchestra run --repo <dir>/cachetools --goal ... --ci "<the project's suite>" --model
scripted:cachetools` in-process. Its exit code is the command's (0 when the goal closed).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bot.cli import main as orchestra
from bot.modes.local.userrepo import git
from tests.scenarios.cachetools import ADAPTIVE_MODEL, IDENTITY, MODEL, make_repo, register
from tests.scenarios.cachetools_plan import GOAL_BODY, GOAL_TITLE, SUITE
from tests.scenarios.replay import python_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_cachetools", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dir", type=Path, required=True, help="an empty or new directory for the copy")
    parser.add_argument("--adaptive", action="store_true", help=f"use {ADAPTIVE_MODEL} (adapts while merging)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--conflict-attempts", type=int, metavar="N",
                        help="commit a .github/orchestra.yml with max_conflict_attempts: N into the copy")
    args = parser.parse_args(argv)
    register()
    os.environ["PATH"] = python_path()
    repo = make_repo(args.dir / "cachetools")
    if args.conflict_attempts is not None:
        config = repo / ".github" / "orchestra.yml"
        config.parent.mkdir()
        config.write_text(f"max_conflict_attempts: {args.conflict_attempts}\n")
        git(repo, "add", "--all")
        git(repo, "commit", "--quiet", "-m", "orchestra: more conflict attempts", extra_env=IDENTITY)
    command = ["run", "--repo", str(repo), "--goal", f"{GOAL_TITLE}\n\n{GOAL_BODY}", "--ci", SUITE,
               "--model", ADAPTIVE_MODEL if args.adaptive else MODEL, "--workers", str(args.workers),
               "--timeout", str(args.timeout), *(["--json"] if args.json else [])]
    return orchestra(command)


if __name__ == "__main__":
    sys.exit(main())
