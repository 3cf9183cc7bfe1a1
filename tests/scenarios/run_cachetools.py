"""`orchestra run` on a fresh git copy of the vendored cachetools, with `scripted:cachetools` playing every role.

    .venv/bin/python -m tests.scenarios.run_cachetools --dir /tmp/smoke [--adaptive] [--json] [--timeout 900]
        [--conflict-attempts N] [--workers 4] [--no-check-main]

Registers the scenario's policies in this process, makes `<dir>/cachetools` (a new git repository),
puts this interpreter's directory first on PATH (so `python3` in CI and in the sandbox has pytest),
and runs `orchestra run --repo <dir>/cachetools --goal ... --ci "<the project's suite>" --model
scripted:cachetools` in-process, its jobs on a pool of `--workers` threads (the scripted model lives in
this process, so not on RQ worker processes). Then, unless `--no-check-main`, it checks out every
first-parent commit of the result branch and runs the project's suite on each (tests/scenarios/mainline.py)
and prints one `main:` line of figures. Its exit code is the command's (0 when the goal closed), or 1
when a first-parent commit fails the suite.

When this interpreter cannot be reached by other users (a pyenv under /root) and ORCHESTRA_SANDBOX is
not set (or is `best-effort`), the agent's commands run unconfined (`ORCHESTRA_SANDBOX=none`): a
confined command runs as an unprivileged uid that would find no `python3` with pytest. The scripted model runs only the
scenario's own commands.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from bot.agent.sandbox_uid import blocked_ancestor
from bot.cli import main as orchestra
from bot.modes.local.userrepo import git
from tests.scenarios.cachetools import ADAPTIVE_MODEL, IDENTITY, MODEL, make_repo, register
from tests.scenarios.cachetools_plan import GOAL_BODY, GOAL_TITLE, SUITE
from tests.scenarios.mainline import check_first_parents, red
from tests.scenarios.replay import python_path

RESULT_BRANCH = "orchestra/goal-1"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_cachetools", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dir", type=Path, required=True, help="an empty or new directory for the copy")
    parser.add_argument("--adaptive", action="store_true", help=f"use {ADAPTIVE_MODEL} (adapts while merging)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--conflict-attempts",
        type=int,
        metavar="N",
        help="commit a .github/orchestra.yml with max_conflict_attempts: N into the copy",
    )
    parser.add_argument(
        "--no-check-main", action="store_true", help="skip running the suite on each first-parent commit"
    )
    args = parser.parse_args(argv)
    register()
    os.environ["PATH"] = python_path()
    # Unset, or the test suite's `best-effort` (which a root worker still honours with a uid): a
    # confined command would find no python3 with pytest.
    unreachable = blocked_ancestor(Path(os.path.realpath(sys.executable))) is not None
    if unreachable and os.environ.get("ORCHESTRA_SANDBOX", "best-effort") == "best-effort":
        os.environ["ORCHESTRA_SANDBOX"] = "none"
    repo = make_repo(args.dir / "cachetools")
    start = git(repo, "rev-parse", "HEAD").strip()
    if args.conflict_attempts is not None:
        config = repo / ".github" / "orchestra.yml"
        config.parent.mkdir()
        config.write_text(f"max_conflict_attempts: {args.conflict_attempts}\n")
        git(repo, "add", "--all")
        git(repo, "commit", "--quiet", "-m", "orchestra: more conflict attempts", extra_env=IDENTITY)
    command = [
        "run",
        "--repo",
        str(repo),
        "--goal",
        f"{GOAL_TITLE}\n\n{GOAL_BODY}",
        "--ci",
        SUITE,
        "--model",
        ADAPTIVE_MODEL if args.adaptive else MODEL,
        "--workers",
        str(args.workers),
        "--timeout",
        str(args.timeout),
        *(["--json"] if args.json else []),
    ]
    started = time.monotonic()
    code = orchestra(command)
    ran = time.monotonic() - started
    if args.no_check_main:
        return code
    return max(code, check_main(repo, start, ran))


def check_main(repo: Path, start: str, ran: float) -> int:
    """Run the suite on each first-parent commit of the result branch; print the figures; 1 when one is red."""
    if git(repo, "branch", "--list", RESULT_BRANCH).strip() == "":
        print(f"main: no result branch {RESULT_BRANCH}; nothing checked", file=sys.stderr)
        return 1
    began = time.monotonic()
    commits = check_first_parents(repo, RESULT_BRANCH, start, SUITE)
    failing = red(commits)
    print(
        f"main: {len(commits)} first-parent commits checked with `{SUITE}`, {len(failing)} red; "
        f"run {ran:.0f} s, check {time.monotonic() - began:.0f} s",
        file=sys.stderr,
    )
    for commit in failing:
        print(f"  red: {commit.sha[:12]} {commit.subject}\n    {commit.tail}", file=sys.stderr)
    return 1 if failing or not commits else 0


if __name__ == "__main__":
    sys.exit(main())
