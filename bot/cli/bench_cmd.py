"""`orchestra bench scale`: throughput, forge calls and CPU per worker count on a synthetic goal."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.cli.helptext import add_command
from bot.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    bench = add_command(
        sub,
        "bench",
        summary="measure the orchestra (bench scale)",
        description="Benchmarks of the whole orchestra on this machine (docs/benchmarks.md).",
    )
    kinds = bench.add_subparsers(dest="bench", metavar="BENCH")
    scale = add_command(
        kinds,
        "scale",
        summary="makespan, efficiency, REST calls and CPU per task against the number of workers",
        description="For each worker count W: start localhub, the webhook app and W workers (threads, or RQ "
        "worker processes on a private Redis), file a synthetic goal of N independent tasks "
        "(a share of them editing one shared spot) for the model stand-in scripted:bench, which "
        "waits --model-latency before each answer; CI is `true`. Prints one row per W (medians "
        "of --repeat runs, taken in alternating order) and the goals (docs/benchmarks.md).",
        variables=(("ORCHESTRA_SANDBOX", "the agent's command sandbox (default here: best-effort)"),),
        note="It sets ORCHESTRA_BENCH_LATENCY_S, _TASKS and _SHARED for the model stand-in (and its RQ workers).",
    )
    scale.add_argument(
        "--workers", default="1,2,4,8,16,32", help="worker counts, comma-separated (default 1,2,4,8,16,32)"
    )
    scale.add_argument("--tasks", type=int, default=16, help="tasks in the goal, N (default 16)")
    scale.add_argument(
        "--model-latency",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="seconds the model stand-in waits before each answer, D (default 5)",
    )
    scale.add_argument(
        "--conflict-share",
        type=float,
        default=0.0,
        metavar="F",
        help="share of the tasks that also edit one shared spot, 0..1 (default 0)",
    )
    scale.add_argument(
        "--mode",
        choices=["threads", "rq"],
        default="threads",
        help="threads: jobs on a thread pool in this process; rq: RQ worker processes (default threads)",
    )
    scale.add_argument("--repeat", type=int, default=1, help="runs per point; the median is reported (default 1)")
    scale.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS", help="per run (default 600)")
    scale.add_argument("--json", type=Path, metavar="OUT", help="write every figure (and each run's) to OUT")
    scale.add_argument("--plot", type=Path, metavar="OUT.png", help="write a plot of efficiency and REST calls vs W")
    scale.add_argument("--keep", type=Path, metavar="DIR", help="keep each run's repository and state under DIR")
    scale.set_defaults(func=scale_command)

    def usage(_args: argparse.Namespace) -> int:
        bench.print_help()
        return 2

    bench.set_defaults(func=usage)


def parse_workers(text: str) -> list[int]:
    try:
        workers = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise ConfigError(f"--workers {text!r}: expected numbers separated by commas, e.g. 1,2,4") from exc
    if not workers or min(workers) < 1:
        raise ConfigError("--workers: each worker count must be at least 1")
    return workers


def scale_command(args: argparse.Namespace) -> int:
    from bot.agent import sandbox_mode
    from bot.modes.bench.report import print_table, write_plot
    from bot.modes.bench.scale import BenchOptions, run_bench

    if args.tasks < 1 or args.repeat < 1 or not 0 <= args.conflict_share <= 1 or args.model_latency < 0:
        raise ConfigError("--tasks and --repeat must be at least 1, --conflict-share within 0..1, --model-latency ≥ 0")
    sandbox_mode.prefer_local_default()
    options = BenchOptions(
        workers=parse_workers(args.workers),
        tasks=args.tasks,
        latency_s=args.model_latency,
        conflict_share=args.conflict_share,
        mode=args.mode,
        repeat=args.repeat,
        timeout_s=args.timeout,
        keep=args.keep,
    )
    result = run_bench(options, say=lambda line: print(line, flush=True))
    print_table(result)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    if args.plot is not None:
        write_plot(result, args.plot)
        print(f"plot: {args.plot}")
    return 0 if all(p["ok"] for p in result["points"]) else 1
