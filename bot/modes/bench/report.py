"""The scale bench's table (rich) and plot (matplotlib, imported only when a plot is asked for)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

COLUMNS = [
    ("W", "workers", "{}"),
    ("makespan s", "makespan_s", "{:.1f}"),
    ("plan", "plan_s", "{:.1f}"),
    ("impl", "implement_s", "{:.1f}"),
    ("merge", "merge_s", "{:.1f}"),
    ("speedup", "speedup", "{:.2f}"),
    ("eff", "efficiency", "{:.2f}"),
    ("merges/s", "merges_per_s", "{:.2f}"),
    ("REST/task", "rest_per_task", "{:.1f}"),
    ("304/run", "rest_not_modified", "{:.0f}"),
    ("tasks/h/inst", "tasks_per_hour_per_installation", "{}"),
    ("hooks/task", "webhooks_per_task", "{:.1f}"),
    ("CPU jobs/task", "cpu_jobs_per_task", "{:.2f}"),
    ("CPU proc/task", "cpu_process_per_task", "{:.2f}"),
    ("CPU sub/task", "cpu_subprocesses_per_task", "{:.2f}"),
    ("peak MB", "peak_memory_mb", "{:.0f}"),
    ("wait p50", "queue_wait_p50_s", "{:.2f}"),
    ("wait p99", "queue_wait_p99_s", "{:.2f}"),
    ("load", "load_before", "{}"),
]


def _cell(value: Any, fmt: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return " ".join(f"{v[0]:.1f}" if isinstance(v, list) else f"{v:.1f}" for v in value)
    try:
        return fmt.format(value)
    except (ValueError, TypeError):
        return str(value)


def print_table(result: dict[str, Any], console: Console | None = None, routes: int = 8) -> None:
    console = console or Console(width=200)
    opts = result["options"]
    table = Table(
        title=f"orchestra bench scale — N={opts['tasks']}, D={opts['model_latency_s']}s, "
        f"conflict share {opts['conflict_share']}, mode {opts['mode']}, repeat {opts['repeat']}"
    )
    for title, _key, _fmt in COLUMNS:
        table.add_column(title, justify="right")
    for point in result["points"]:
        table.add_row(*(_cell(point.get(key), fmt) for _t, key, fmt in COLUMNS))
    console.print(table)
    for point in result["points"]:
        top = list(point["rest_by_route"].items())[:routes]
        console.print(
            f"W={point['workers']} REST calls per merged task by route (bot token, charged): "
            + ", ".join(f"{route} {count:g}" for route, count in top)
        )
        kinds = point.get("job_seconds_by_kind") or {}
        if kinds:
            console.print(
                f"W={point['workers']} job time by kind (runs, seconds on the job threads): "
                + ", ".join(f"{kind} {row['runs']}× {row['seconds']:.1f}s" for kind, row in list(kinds.items())[:8])
            )
    goals = result["goals"]
    by_w = {p["workers"]: p for p in result["points"]}
    lines = []
    for w, key in ((8, "efficiency_w8"), (16, "efficiency_w16")):
        if w in by_w and by_w[w].get("efficiency") is not None:
            lines.append(f"efficiency at W={w}: {by_w[w]['efficiency']:.2f} (goal ≥ {goals[key]})")
    worst = max((p["rest_per_task"] or 0) for p in result["points"])
    lines.append(f"REST calls per merged task, worst point: {worst:.1f} (goal ≤ {goals['rest_per_task']})")
    cpu = max((p["cpu_jobs_per_task"] or 0) for p in result["points"])
    lines.append(
        f"orchestration CPU per task (job threads; RQ: see CPU sub), worst point: {cpu:.2f} s "
        f"(goal < {goals['orchestration_cpu_per_task']})"
    )
    console.print("Goals: " + "; ".join(lines))
    console.print(f"Machine: {result['machine']}; bench wall time {result['wall_s']:.0f}s")


def write_plot(result: dict[str, Any], path: Path) -> None:
    """Efficiency and REST calls per merged task against W, one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = result["points"]
    workers = [p["workers"] for p in points]
    fig, left = plt.subplots(figsize=(7, 4.2), dpi=110)
    eff = [p.get("efficiency") for p in points]
    left.plot(workers, [e if e is not None else float("nan") for e in eff], "o-", color="tab:blue", label="efficiency")
    left.axhline(1.0, color="tab:blue", linestyle=":", linewidth=0.8)
    left.set_xscale("log", base=2)
    left.set_xticks(workers, [str(w) for w in workers])
    left.set_xlabel("workers W")
    left.set_ylabel("efficiency  T(1) / (min(W,N)·T(W))", color="tab:blue")
    left.set_ylim(0, 1.1)
    right = left.twinx()
    right.plot(workers, [p["rest_per_task"] for p in points], "s--", color="tab:red", label="REST calls / merged task")
    right.axhline(result["goals"]["rest_per_task"], color="tab:red", linestyle=":", linewidth=0.8)
    right.set_ylabel("REST calls per merged task (bot token)", color="tab:red")
    right.set_ylim(bottom=0)
    opts = result["options"]
    left.set_title(f"orchestra bench scale: N={opts['tasks']}, D={opts['model_latency_s']}s, {opts['mode']}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
