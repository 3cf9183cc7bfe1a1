"""`orchestra doctor`: every check the commands run before they start, as one table."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from bot.cli.helptext import FORGE, MODELS, REDIS, add_command, log_vars
from bot.doctor import (
    CHECK_TIMEOUT_S,
    PREFLIGHT_BOUND_S,
    REDIS_WAIT_S,
    doctor_checks,
    render_table,
    run_checks,
)
from bot.repoconfig import RepoConfig, load_repo_config
from bot.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    doctor = add_command(
        sub,
        "doctor",
        summary="check that this machine is ready: git, Redis, models, App, forge access",
        description="Run every check the commands make before they start and print one table (status ok, fail "
        "or skip, and what was found): git runs; Redis answers (when one is named or an App is "
        "configured); every role's model spec parses, its key is set and its endpoint answers a "
        "free list-models call (scripted:* needs none); the App's id, key and webhook secret agree "
        "(the key makes a JWT, GET /app answers with that id) and its installations grant the "
        "permissions the bot needs; or the token is accepted (and, with --repo, may push).",
        variables=(
            *FORGE,
            *REDIS,
            ("ORCHESTRA_WEBHOOK_SECRET", "the deliveries' secret (serve)"),
            *MODELS,
            *log_vars("human"),
        ),
        note=f"Bounds: each forge or model call {CHECK_TIMEOUT_S:g} s, Redis {REDIS_WAIT_S:g} s of retries, all "
        f"checks at once and {PREFLIGHT_BOUND_S:g} s in all. Exit 0 when no check failed, 2 otherwise.",
    )
    doctor.add_argument(
        "--repo",
        metavar="OWNER/NAME",
        help="also check access to this repository (the App's installation on it, or the token's push permission)",
    )
    doctor.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="a .github/orchestra.yml whose models: the roles use where no flag or variable names one (default: none)",
    )
    doctor.add_argument("--model", help="as `orchestra run --model`: a spec for every role")
    doctor.add_argument("--planner-model", help="as `orchestra run --planner-model`")
    doctor.add_argument("--redis", metavar="URL", help="check this Redis (default: ORCHESTRA_REDIS_URL when set)")
    doctor.add_argument("--json", action="store_true", help="print the results as one JSON object")
    doctor.set_defaults(func=doctor_command)


def doctor_command(args: argparse.Namespace) -> int:
    from bot.modes import demo

    env = dict(os.environ)
    settings = Settings.from_env(env)
    settings = settings.model_copy(update={"models": settings.models.with_flags(args.model, args.planner_model)})
    config = load_repo_config(args.config) if args.config else RepoConfig()
    checks = doctor_checks(
        settings,
        env,
        repo=args.repo,
        config=config if args.config else None,
        redis_url=args.redis,
        scripts=demo.SCRIPTS,
    )
    results = run_checks(checks)
    failed = [r for r in results if r.status == "fail"]
    if args.json:
        print(
            json.dumps(
                {
                    "ok": not failed,
                    "checks": [{"check": r.name, "status": r.status, "detail": r.detail} for r in results],
                }
            )
        )
    else:
        print(render_table(results))
        print(f"\n{len(failed)} failed" if failed else "\nall checks passed")
    return 2 if failed else 0
