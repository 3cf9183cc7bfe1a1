"""`python -m tests.chaos.report DIR`: the table of the chaos runs whose JSON summaries are in DIR (Markdown).

Each run of tests/chaos writes one summary (`ORCHESTRA_CHAOS_RESULTS=DIR`, else its tmp dir); this
prints one row per run, by round (seed) and then in the order they ran, as docs/reliability.md shows them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

COLUMNS = (
    "run",
    "seed",
    "fault",
    "faults injected",
    "goal",
    "tasks",
    "PRs merged",
    "lost",
    "duplicates",
    "main",
    "recover max / median (s)",
    "duration (s)",
)


def load(directory: Path) -> list[dict[str, Any]]:
    """The summaries, by seed (round), then in the order they ran."""
    runs = [(path.name, json.loads(path.read_text())) for path in directory.glob("chaos-*.json")]
    return [summary for _name, summary in sorted(runs, key=lambda run: (run[1]["seed"], run[0]))]


def injected(faults: dict[str, int]) -> str:
    detail = ", ".join(f"{kind} {count}" for kind, count in faults.items() if kind != "injected")
    return f"{faults.get('injected', 0)}" + (f" ({detail})" if detail else "")


def row(summary: dict[str, Any], index: int) -> list[str]:
    return [
        str(index),
        str(summary["seed"]),
        summary["fault"],
        injected(summary["faults"]),
        "closed" if summary["goal_closed"] else "OPEN",
        f"{summary['tasks_completed']}/{summary['tasks']}",
        str(summary["prs_merged"]),
        str(summary["lost"]),
        str(summary["duplicates"]),
        summary["main"],
        recovery(summary),
        str(summary["duration_s"]),
    ]


#: Faults drawn per request and retried where they happen: no moment to measure a recovery from.
IN_PLACE = ("forge", "model")


def recovery(summary: dict[str, Any]) -> str:
    if summary["fault"] in IN_PLACE:
        return "— (retried in place)"
    return f"{summary['recover_max_s']} / {summary['recover_median_s']}"


def table(summaries: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row(summary, index)) + " |" for index, summary in enumerate(summaries, 1)]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.chaos.report DIR", file=sys.stderr)
        return 2
    summaries = load(Path(argv[0]))
    if not summaries:
        print(f"no chaos-*.json in {argv[0]}", file=sys.stderr)
        return 1
    print(table(summaries))
    bad = [
        s
        for s in summaries
        if s["lost"] or s["duplicates"] or s["problem"] or s["main"] != "success" or not s["goal_closed"]
    ]
    print(
        f"\n{len(summaries)} runs, {sum(s['lost'] for s in summaries)} lost, "
        f"{sum(s['duplicates'] for s in summaries)} duplicates, {len(bad)} failed"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
