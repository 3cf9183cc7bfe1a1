"""`orchestra run --redis`: Redis flushed while a `plan` job is queued, and again after a task's close was
accepted — the run's sweep recovers both and the goal closes.

The demo project and `scripted:demo` (the only scripted model the RQ worker processes know), with
`--merge review` so the test is the person who merges. To lose a job for sure, the workers are
held first with RQ's suspension (each idle worker is handed a no-op job so it comes back to
look at the flag), then the job is accepted, then Redis is flushed.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from rq import Queue
from rq.suspension import suspend

from bot.modes.demo.example import make_demo_repo
from bot.modes.demo.plan import GOAL_BODY, GOAL_TITLE
from bot.modes.local.run import Goal, run_local
from bot.modes.local.session import LocalOptions
from bot.settings import Settings
from tests.support.local_bed import Watching, labels_of_closed
from tests.support.waiting import wait_for

WORKERS = 2
REPO = "you/unitconv"


def hold_workers(conn: redis.Redis) -> None:
    """Suspend the RQ workers and wait until each has seen it (none blocks on a queue any more).

    The session names its workers `local-<pid>-<n>`; their registry was flushed with Redis, but
    each writes its state into its own key again."""
    suspend(conn)
    for _ in range(WORKERS):
        Queue("urgent", connection=conn).enqueue("os.getpid")  # wakes a worker blocked on the queues
    keys = [f"rq:worker:local-{os.getpid()}-{n}" for n in range(1, WORKERS + 1)]
    wait_for(
        lambda: all(conn.hget(key, "state") == b"suspended" for key in keys),
        timeout=90,
        interval=0.1,
        what="the workers to be suspended",
    )


def merge_green_prs(display: Watching, runner: threading.Thread, merged: list[int], at_first: Any = None) -> bool:
    """The person: merge every open PR whose checks passed and that merges cleanly. True once the run ended."""
    try:
        api, headers = display.api()
        for pull in requests.get(f"{api}/repos/{REPO}/pulls", headers=headers, timeout=10).json():
            full = requests.get(f"{api}/repos/{REPO}/pulls/{pull['number']}", headers=headers, timeout=10).json()
            runs = requests.get(
                f"{api}/repos/{REPO}/commits/{full['head']['sha']}/check-runs", headers=headers, timeout=10
            ).json()["check_runs"]
            if not runs or any(run["conclusion"] != "success" for run in runs) or full["mergeable"] is not True:
                continue
            if not merged and at_first is not None:
                at_first()
            answer = requests.put(f"{api}/repos/{REPO}/pulls/{pull['number']}/merge", headers=headers, timeout=10)
            if answer.status_code == 200:
                merged.append(pull["number"])
                if len(merged) == 1 and at_first is not None:
                    return False  # the test flushes before merging on
    except (requests.ConnectionError, StopIteration, FileNotFoundError):
        pass  # not started yet, or ended
    return not runner.is_alive()


@pytest.mark.slow
@pytest.mark.timeout(900)  # the bounds below; each wait ends as soon as its condition holds
def test_the_sweep_recovers_a_queued_plan_and_a_close_lost_with_redis(
    tmp_path: Path, redis_conn: redis.Redis, redis_url: str
) -> None:
    repo = make_demo_repo(tmp_path)
    display, outcome = Watching(), []
    options = LocalOptions(
        repo=repo, workers=WORKERS, model="scripted:demo", merge="review", redis_url=redis_url, repo_name="unitconv"
    )
    suspend(redis_conn)  # the workers start held: the goal's plan job waits in the queue
    runner = threading.Thread(
        target=lambda: outcome.append(
            run_local(options, Settings(), Goal(GOAL_TITLE, GOAL_BODY), display, timeout_s=600)
        )
    )
    runner.start()
    plan = f"plan-{REPO.replace('/', '_s')}-1"
    wait_for(lambda: plan in Queue("default", connection=redis_conn).job_ids, timeout=60, what="the plan job queued")
    redis_conn.flushdb()  # lost while queued (the suspension with it: the workers go on)

    merged: list[int] = []
    wait_for(
        lambda: merge_green_prs(display, runner, merged, at_first=lambda: hold_workers(redis_conn)) or merged,
        timeout=400,
        interval=0.3,
        what="the first PR green and merged",
    )
    first_task = int(
        requests.get(f"{display.api()[0]}/repos/{REPO}/pulls/{merged[0]}", headers=display.api()[1], timeout=10)
        .json()["head"]["ref"]
        .split("/")[1]
        .split("-")[0]
    )
    closed = f"on_task_closed-{REPO.replace('/', '_s')}-{first_task}"
    wait_for(
        lambda: closed in Queue("default", connection=redis_conn).job_ids,
        timeout=30,
        what="the close of the first task accepted",
    )
    redis_conn.flushdb()  # lost after it was accepted

    wait_for(lambda: merge_green_prs(display, runner, merged), timeout=500, interval=0.3, what="the run to end")
    summary = outcome[0]
    assert summary.ok, summary.problem
    assert summary.prs_merged == summary.tasks == summary.tasks_done >= 5
    assert summary.branch == "orchestra/goal-1"
    labels = labels_of_closed(summary.state_dir)
    assert labels[first_task] == {"orchestra:task"}  # its on_task_closed was lost; the sweep removed the label
    sweeps = re.findall(
        r"sweep of you/unitconv: (\d+) submitted, \d+ live, (\d+) repaired",
        (Path(summary.state_dir) / "orchestra.log").read_text(),
    )
    assert any(int(submitted) for submitted, _ in sweeps)  # the plan job, submitted again
    assert any(int(repaired) for _, repaired in sweeps)  # the closed task's label
