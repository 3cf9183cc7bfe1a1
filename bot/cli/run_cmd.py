"""`orchestra run`: local mode — the whole orchestra on this machine against a local git repository."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from bot.agent import sandbox_mode
from bot.cli.helptext import MODELS, add_command
from bot.doctor import REDIS_WAIT_S
from bot.errors import ConfigError
from bot.ledger.goaltext import MAX_GOAL_CHARS
from bot.modes.local.progress import make_display
from bot.modes.local.result import RunSummary
from bot.modes.local.run import Goal, goal_from_text, run_local
from bot.modes.local.session import LocalOptions
from bot.settings import DEFAULT_MODEL_ENV, Role, Settings, SpendCaps


def register(sub: argparse._SubParsersAction) -> None:
    run = add_command(
        sub,
        "run",
        summary="run a goal on a local git repository; the result comes back as a branch",
        description="Import a local git repository into an embedded localhub, file the goal, run the planner and "
        "N workers, and fetch the merged result as branch orchestra/goal-<n>. Your checked-out "
        "branch, index and working tree are never touched (docs/local-mode.md).",
        variables=(
            *MODELS,
            ("ORCHESTRA_SANDBOX", "the agent's command sandbox (default here: best-effort)"),
            ("ORCHESTRA_MAX_STEPS, _MAX_TOKENS_PER_TASK, _MAX_USD_PER_TASK, _MAX_WALL_S_PER_TASK", "task budgets"),
            ("ORCHESTRA_LOG_LEVEL", "level of <state>/orchestra.log (default info)"),
        ),
        note="Which model a role uses, highest first: --planner-model (planner) and --model; "
        "ORCHESTRA_MODEL_<ROLE>; ORCHESTRA_MODEL; models: in the repository's committed "
        ".github/orchestra.yml; ORCHESTRA_DEFAULT_MODEL; scripted:demo.\n"
        f"Before localhub starts it checks git, the repository, Redis (--redis, for up to {REDIS_WAIT_S:g} s) "
        "and every role's model endpoint (a free list-models call); on the first failure it prints one "
        "line and exits 2 with nothing filed.",
    )
    run.add_argument(
        "--repo", type=Path, required=True, help="the local git repository (its checked-out branch is the base)"
    )
    goal = run.add_mutually_exclusive_group(required=True)
    goal.add_argument("--goal", help="the goal: first line is the title, the rest the description")
    goal.add_argument("--goal-file", type=Path, help="a file holding the goal (Markdown; first line is the title)")
    add_run_options(run)
    run.add_argument(
        "--model",
        help="model spec for every role, e.g. anthropic:claude-sonnet-5-5; beats "
        "ORCHESTRA_MODEL(_<ROLE>) and the repository's models: (default: those)",
    )
    run.add_argument("--planner-model", help="model spec for the planner only (beats --model for the planner)")
    run.add_argument(
        "--merge",
        choices=["auto", "review"],
        default="auto",
        help="auto: merge green PRs (default); review: leave them for you; beats merge.policy "
        "of the committed config for this run",
    )
    caps = run.add_argument_group(
        "spend breaker",
        "caps that stop new work (beat ORCHESTRA_BUDGET_* and the "
        "committed budgets.goal / budgets.day; default: no cap)",
    )
    caps.add_argument("--goal-usd", type=float, metavar="USD", help="cap on one goal's model spend in US dollars")
    caps.add_argument("--goal-tokens", type=int, metavar="N", help="cap on one goal's model tokens")
    caps.add_argument("--day-usd", type=float, metavar="USD", help="cap on the repository's spend per UTC day")
    caps.add_argument("--day-tokens", type=int, metavar="N", help="cap on the repository's tokens per UTC day")
    gate = run.add_mutually_exclusive_group()
    gate.add_argument(
        "--plan-only",
        action="store_true",
        help="plan the goal, print the plan and stop (exit 0); no task is filed or started",
    )
    gate.add_argument(
        "--approve",
        action="store_true",
        help="plans wait for approval: print the plan, ask once (y/N), then approve it for you",
    )
    run.add_argument(
        "--redis",
        metavar="URL",
        help="run jobs on RQ workers (subprocesses) against this Redis (default: threads in this process, no Redis)",
    )
    run.add_argument("--state", type=Path, help="where the run keeps its state (default: <repo>/.git/orchestra)")
    run.add_argument(
        "--ci",
        metavar="COMMAND",
        help="CI command localhub runs on every push (default: .localhub/ci.sh, else test_command, else detected)",
    )
    run.set_defaults(func=run_command)


#: Memory one worker needs, in MB: an RQ worker process (~130 MB once imported) with the job it forks,
#: its git and its agent's commands; or, in-process, one job's share (git, the agent's commands).
PROCESS_WORKER_MB = 300
THREAD_WORKER_MB = 150


def available_memory_mb() -> int | None:
    """Memory available to new processes (MemAvailable), else the machine's total; None when unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // (1024 * 1024)
    except (ValueError, OSError, AttributeError):
        return None


def check_workers(workers: int, processes: bool, available_mb: int | None = None) -> None:
    """ConfigError (one line) unless 1 ≤ `workers` ≤ what this machine's memory holds."""
    if workers < 1:
        raise ConfigError("--workers must be at least 1")
    memory = available_memory_mb() if available_mb is None else available_mb
    if memory is None:
        return
    each = PROCESS_WORKER_MB if processes else THREAD_WORKER_MB
    most = max(1, memory // each)
    if workers > most:
        kind = "RQ worker process" if processes else "in-process worker"
        raise ConfigError(
            f"--workers {workers}: this machine has {memory:,} MB of memory available and each {kind} "
            f"needs about {each} MB, so at most {most} fit; pass --workers {most} or fewer"
        )


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """Options `orchestra run` and `orchestra demo` share."""
    parser.add_argument("--workers", type=int, default=4, help="jobs run at once (default 4)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="give up when the goal is not closed after this long (default 3600)",
    )
    parser.add_argument("--json", action="store_true", help="print only the final summary as one JSON object")


def _goal(args: argparse.Namespace) -> Goal:
    if args.goal_file is not None:
        try:
            text = args.goal_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"--goal-file {args.goal_file}: cannot read: {exc.strerror}") from exc
    else:
        text = args.goal
    goal = goal_from_text(text or "")
    if not goal.title:
        raise ConfigError("the goal is empty: pass --goal TEXT or --goal-file FILE")
    if len(goal.title) + len(goal.body) > MAX_GOAL_CHARS:
        raise ConfigError(
            f"the goal is {len(goal.title) + len(goal.body):,} characters; the orchestra plans from at "
            f"most {MAX_GOAL_CHARS:,} (GitHub allows 65,536 per issue body): shorten it"
        )
    return goal


def _check_model(args: argparse.Namespace, environ: dict[str, str]) -> None:
    named = (
        args.model
        or environ.get("ORCHESTRA_MODEL")
        or environ.get(DEFAULT_MODEL_ENV)
        or all(environ.get(f"ORCHESTRA_MODEL_{role.value.upper()}") for role in Role)
    )
    if not named:
        raise ConfigError(
            "no model: pass --model SPEC (e.g. anthropic:claude-sonnet-5-5, openai-responses:gpt-6.1-sol, "
            "openai-compatible:MODEL@http://127.0.0.1:8000/v1) or set ORCHESTRA_MODEL; "
            "`orchestra demo` runs without one"
        )


def report(summary: RunSummary, json_output: bool) -> int:
    """Print the summary (text or one JSON object); 0 when the goal closed, 1 otherwise."""
    if json_output:
        print(json.dumps(summary.as_json()), flush=True)
    else:
        print(summary.text(), flush=True)
    if not summary.ok:
        print(f"orchestra: {summary.problem}", file=sys.stderr)
        return 1
    return 0


def spend_caps(args: argparse.Namespace, settings: Settings) -> Settings:
    """`settings` with the run's cap flags laid over the environment's caps."""
    flags = SpendCaps(
        goal_usd=args.goal_usd, goal_tokens=args.goal_tokens, day_usd=args.day_usd, day_tokens=args.day_tokens
    )
    return settings.model_copy(update={"spend_caps": flags.laid_over(settings.spend_caps)})


def run_command(args: argparse.Namespace) -> int:
    sandbox_mode.prefer_local_default()  # one's own machine: unconfined commands when nothing else works
    check_workers(args.workers, processes=args.redis is not None)
    environ = dict(os.environ)
    _check_model(args, environ)
    goal = _goal(args)
    options = LocalOptions(
        repo=args.repo,
        workers=args.workers,
        model=args.model,
        planner_model=args.planner_model,
        merge=args.merge,
        redis_url=args.redis,
        state_dir=args.state,
        ci_command=args.ci,
        plan_approval=args.plan_only or args.approve,
    )
    display = make_display(args.json)
    # run_local checks git, the repo, Redis and the models first (bot/modes/local/preflight.py), then
    # warns once if the agent's commands would run unconfined.
    summary = run_local(
        options,
        spend_caps(args, Settings.from_env(environ)),
        goal,
        display,
        timeout_s=args.timeout,
        plan_only=args.plan_only,
    )
    return report(summary, args.json)
