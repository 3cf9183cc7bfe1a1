"""Contention: N tasks that all touch one shared spot, plus K pairs green alone and red together, under
`merge.queue: batch` and `off`.

`orchestra run` (local mode: embedded localhub, its CI, the webhook app, jobs on a pool of `--workers`
threads) on a small generated project, with a scripted model (`scripted:contention`, registered in this
process) playing every role. Every one of the N tasks adds its own file under `items/` and a line at
the top of `CHANGES.md` (a `union_paths` file: merged mechanically), and the odd-numbered ones also
append a line at the end of `registry.txt` (a conflict only an agent resolves). The pairs touch no
shared spot, so nothing textual makes them merge the default branch before landing. Pair j: `raise-j` raises
`values/vj.txt` from 1 to 2 and updates its own expectation; `build-j` adds a test expecting 1. Each is
green alone; together CI fails (`ci.sh`), and the CI fixer makes the expectation follow the value.

For each mode it prints and returns: tasks done, PRs merged, red first-parent commits on the result
branch (CI run again on each, tests/scenarios/mainline.py; must be 0 under `batch`), conflicts resolved
mechanically (resolve_conflict pushes with no agent) and by agents, agent runs wasted on races (conflict
runs on a PR beyond its first, and CI fixes of PRs outside the pairs), the forge client's pauses for
localhub's rate limit (5,000 requests an hour, as GitHub's), and the makespan.

    .venv/bin/python benchmarks/contention.py [--tasks 16] [--pairs 2] [--workers 4] [--modes batch,off]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.ledger import attempts as attempts_mod  # noqa: E402
from bot.llm.scripted import call, register_script, unregister_script  # noqa: E402
from bot.llm.types import Message, Reply, ToolSpec  # noqa: E402
from bot.modes.demo.policy import Turn, file_text, finish, reply, union  # noqa: E402
from bot.modes.local.progress import QuietDisplay  # noqa: E402
from bot.modes.local.run import Goal, run_local  # noqa: E402
from bot.modes.local.session import LocalOptions  # noqa: E402
from bot.settings import Settings  # noqa: E402
from localhub.store import Store  # noqa: E402
from tests.scenarios.mainline import check_first_parents, red  # noqa: E402
from tests.scenarios.replay import python_path  # noqa: E402
from tests.support.git_repos import git, make_repo  # noqa: E402

CI = "sh ci.sh"
CI_SCRIPT = """#!/bin/sh
# Every expectation expect/<v>-*.txt states the value of values/<v>.txt it builds on; no conflict markers.
status=0
for f in expect/*.txt; do
  [ -f "$f" ] || continue
  v=$(basename "$f" .txt); v=${v%%-*}
  if [ "$(cat "$f")" != "$(cat values/$v.txt)" ]; then
    echo "$f: expects $(cat "$f") but values/$v.txt holds $(cat values/$v.txt)"; status=1
  fi
done
if grep -rnE '^(<<<<<<<|>>>>>>>)' --include='*.txt' --include='*.md' . ; then echo "conflict markers"; status=1; fi
exit $status
"""
MISMATCH = re.compile(r"^(expect/\S+\.txt): expects \d+ but values/\S+\.txt holds (\d+)$", re.MULTILINE)
GREP_HIT = re.compile(r"^([^:\s]+):\d+:", re.MULTILINE)
NAME = "contention"


def project(pairs: int, max_parallel: int, queue: str) -> dict[str, str]:
    files = {
        "ci.sh": CI_SCRIPT,
        "CHANGES.md": "# Changes\n\n## 1.0\n\n- First release.\n",
        "registry.txt": "# one line per item\n",
        "items/.keep": "",
        ".github/orchestra.yml": (
            f"max_parallel_tasks: {max_parallel}\nmax_conflict_attempts: 3\nmerge:\n  policy: auto\n  queue: {queue}\n"
        ),
    }
    for j in range(1, pairs + 1):
        files[f"values/v{j}.txt"] = "1\n"
        files[f"expect/v{j}-base.txt"] = "1\n"
    return files


def keys(tasks: int, pairs: int) -> list[str]:
    return [f"t{i:02d}" for i in range(1, tasks + 1)] + [
        k for j in range(1, pairs + 1) for k in (f"raise-{j}", f"build-{j}")
    ]


def plan(tasks: int, pairs: int) -> dict[str, Any]:
    entries = []
    for key in keys(tasks, pairs):
        owned = [f"items/{key}.txt"]
        if key.startswith("raise-"):
            j = key.split("-")[1]
            owned += [f"values/v{j}.txt", f"expect/v{j}-base.txt"]
        elif key.startswith("build-"):
            owned += [f"expect/v{key.split('-')[1]}-build.txt"]
        entries.append(
            {
                "key": key,
                "title": f"Add item {key}",
                "objective": f"Add items/{key}.txt.",
                "owned_paths": owned,
                "acceptance_commands": [f"test -f items/{key}.txt"],
                "size": "s",
            }
        )
    return {"tasks": entries, "notes": ["Add a line to CHANGES.md and, for odd items, to registry.txt."]}


def policy_for(tasks: int, pairs: int) -> Any:
    def policy(messages: list[Message], tools: list[ToolSpec]) -> Reply:
        turn = Turn(messages, tools)
        if "submit_plan" in turn.tools:
            if turn.request.startswith("Revise"):
                return reply("nothing to add", call("submit_plan", tasks=[]))
            return reply("the plan", call("submit_plan", **plan(tasks, pairs)))
        if "You resolve the merge of" in turn.system:
            return resolver(turn)
        if "CI fails on PR #" in turn.system[:400]:
            return ci_fixer(turn)
        return worker(turn)

    return policy


def worker(turn: Turn) -> Reply:
    key = turn.key
    if turn.step == 0:
        return reply(
            "reading the shared spots", call("read_file", path="CHANGES.md"), call("read_file", path="registry.txt")
        )
    if turn.step == 1:
        reads = {str(c.arguments["path"]): file_text(r) for c, r in turn.results("read_file")}
        head, rest = reads["CHANGES.md"].split("## 1.0\n", 1)
        calls = [call("write_file", path=f"items/{key}.txt", content=f"item {key}\n")]
        number = int(key[1:]) if key.startswith("t") else 0
        if number:  # the N tasks share the changelog; the pairs do not (nothing forces them to merge main first)
            calls.append(call("write_file", path="CHANGES.md", content=f"{head}## 1.0\n\n- Add item {key}.{rest}"))
        if number % 2:
            calls.append(call("write_file", path="registry.txt", content=reads["registry.txt"] + f"{key}\n"))
        if key.startswith("raise-"):
            j = key.split("-")[1]
            calls += [
                call("write_file", path=f"values/v{j}.txt", content="2\n"),
                call("write_file", path=f"expect/v{j}-base.txt", content="2\n"),
            ]
        if key.startswith("build-"):
            calls.append(call("write_file", path=f"expect/v{key.split('-')[1]}-build.txt", content="1\n"))
        return reply("writing", *calls)
    return finish(f"done: {key}")


def resolver(turn: Turn) -> Reply:
    if turn.step == 0:
        return reply("finding the markers", call("grep", pattern="^<<<<<<< "))
    paths = sorted({m.group(1) for _c, r in turn.results("grep")[:1] for m in GREP_HIT.finditer(r)})
    if turn.step == 1:
        if not paths:
            return finish("no markers left")
        return reply("reading", *(call("read_file", path=p) for p in paths))
    if turn.step == 2:
        return reply(
            "keeping both sides",
            *(
                call("write_file", path=str(c.arguments["path"]), content=union(file_text(r)))
                for c, r in turn.results("read_file")
            ),
        )
    return finish("merged: both sides kept")


def ci_fixer(turn: Turn) -> Reply:
    if turn.step == 0:
        return reply("reproducing", call("run", command=CI))
    found = MISMATCH.findall(turn.results("run")[0][1])
    if not found:
        return finish("CI passes here or fails for another reason", "blocked", concerns=["not reproduced"])
    if turn.step == 1:
        return reply(
            "following the landed value",
            *(call("write_file", path=path, content=f"{value}\n") for path, value in found),
        )
    return finish("the expectation follows the value that landed")


def agent_figures(state_dir: str, pairs: set[str]) -> dict[str, int]:
    """Agent runs from each PR's attempts marker: conflict runs, those beyond the first, CI fixes outside the pairs."""
    store = Store(Path(state_dir) / "localhub")
    try:
        rows = store.all("SELECT i.title, i.body FROM issues i JOIN pulls p ON p.issue_id = i.id")
    finally:
        store.close()
    conflict_runs = wasted = ci_fixes = 0
    for row in rows:
        tried = attempts_mod.read(row["body"])
        runs = tried.usage.get("conflict", attempts_mod.RoleUsage()).runs
        fixes = tried.usage.get("ci_fix", attempts_mod.RoleUsage()).runs
        conflict_runs += runs
        ci_fixes += fixes
        in_pair = any(re.search(rf"\b{re.escape(key)}\b", str(row["title"])) for key in pairs)
        wasted += max(0, runs - 1) + (0 if in_pair else fixes)
    return {"conflict_agent_runs": conflict_runs, "ci_fix_runs": ci_fixes, "wasted_on_races": wasted}


def log_figures(state_dir: str) -> dict[str, int]:
    """From the run's log: conflict-job merges with no agent, and the forge client's rate-limit pauses."""
    log = (Path(state_dir) / "orchestra.log").read_text(errors="replace")
    return {
        "conflicts_mechanical": len(re.findall(r"resolve_conflict on \S+: merged \S+ mechanically", log)),
        "rate_limit_pauses": len(re.findall(r"requests left until the reset; pausing", log)),
    }


def run_mode(queue: str, tasks: int, pairs: int, workers: int, max_parallel: int, timeout_s: float) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix=f"contention-{queue}-"))
    repo = make_repo(root / "project", project(pairs, max_parallel, queue))
    start = git(repo, "rev-parse", "HEAD").strip()
    options = LocalOptions(repo=repo, workers=workers, model=f"scripted:{NAME}", merge=None, ci_command=CI)
    began = time.monotonic()
    summary = run_local(
        options, Settings(), Goal("Items", f"{tasks} items and {pairs} pairs."), QuietDisplay(), timeout_s=timeout_s
    )
    makespan = time.monotonic() - began
    commits = check_first_parents(repo, summary.branch, start, CI) if summary.branch else []
    figures = {
        "queue": queue,
        "ok": summary.ok,
        "tasks": summary.tasks,
        "tasks_done": summary.tasks_done,
        "prs_merged": summary.prs_merged,
        "first_parent_commits": len(commits),
        "red_commits_on_main": len(red(commits)),
        **log_figures(summary.state_dir),
        "conflicts_by_agents": summary.conflicts_resolved,
        "makespan_s": round(makespan, 1),
        "needs_human": summary.needs_human,
        "state_dir": summary.state_dir,
    }
    pair_keys = {k for k in keys(tasks, pairs) if "-" in k}
    figures.update(agent_figures(summary.state_dir, pair_keys))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tasks", type=int, default=16)
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--max-parallel", type=int, default=8, help="max_parallel_tasks of the project")
    parser.add_argument("--modes", default="batch,off")
    parser.add_argument("--timeout", type=float, default=1800.0)
    args = parser.parse_args(argv)
    os.environ["PATH"] = python_path()
    os.environ.setdefault("ORCHESTRA_SANDBOX", "best-effort")
    register_script(NAME, lambda: policy_for(args.tasks, args.pairs))
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cores: {os.cpu_count()}")
    results = []
    try:
        for queue in args.modes.split(","):
            figures = run_mode(queue, args.tasks, args.pairs, args.workers, args.max_parallel, args.timeout)
            figures["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
            print(json.dumps(figures), flush=True)
            results.append(figures)
    finally:
        unregister_script(NAME)
    batch = next((r for r in results if r["queue"] == "batch"), None)
    return 1 if batch is not None and (batch["red_commits_on_main"] or not batch["ok"]) else 0


if __name__ == "__main__":
    sys.exit(main())
