"""One chaos run: `orchestra run --redis` machinery (bot/modes/local/) on the chaos project with four RQ worker
processes on a private Redis, the model stand-in over HTTP, and one fault; then the verdict, read from
localhub as the person sees it, and a JSON summary of the figures.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
import requests

from bot.modes.local.progress import QuietDisplay
from bot.modes.local.run import Pacing, follow, log_to_file
from bot.modes.local.session import LocalOptions, LocalSession
from bot.modes.local.snapshot import Snapshot
from bot.settings import Settings
from localhub.serving import ServedApp
from tests.chaos import project
from tests.chaos.faults import (
    Fault,
    ForgeFaults,
    ModelFaults,
    RestartRedis,
    WebhookProxy,
    make_fault,
)
from tests.support.git_repos import make_repo
from tests.support.model_server import ModelServer
from tests.support.redis_server import PrivateRedis
from tests.support.waiting import wait_for
from webhooks.app import create_app

REPO_NAME = "notes"
WORKERS = 4
#: Where each run's JSON summary goes (`python -m tests.chaos.report` reads them).
RESULTS_ENV = "ORCHESTRA_CHAOS_RESULTS"


class Moves(QuietDisplay):
    """A display that keeps when each different snapshot was first seen (the run's movements)."""

    def __init__(self) -> None:
        self.moves: list[tuple[float, Snapshot]] = []

    def update(self, snapshot: Snapshot) -> None:
        if not self.moves or self.moves[-1][1] != snapshot:
            self.moves.append((time.monotonic(), snapshot))


@dataclass
class ChaosRun:
    fault_name: str
    root: Path
    model: ModelServer
    seed: int = 1
    timeout_s: float = 240.0
    fault: Fault = field(init=False)
    session: LocalSession = field(init=False)
    goal: int = field(init=False, default=0)
    _redis: PrivateRedis = field(init=False)

    def __post_init__(self) -> None:
        self.fault = make_fault(self.fault_name, self.seed)

    # -- the pieces the faults act on -----------------------------------------------------------
    @property
    def repo_slug(self) -> str:
        return self.session.repo_full_name.replace("/", "_s")

    def conn(self) -> redis.Redis:
        return redis.Redis.from_url(self._redis.url)

    def restart_redis(self) -> None:
        """Stop the Redis server and start a new, empty one on the same port."""
        port = self._redis.port
        self._redis.stop()
        self._redis = PrivateRedis(self.root / "redis", port=port)

    def webhook_url(self) -> str:
        web = self.session._web
        assert web is not None
        return web.url + "/webhook"

    def restart_web(self, down_s: float) -> None:
        """The webhook app's process restarted: down for `down_s`, then served again on the same port."""
        session = self.session
        old = session._web
        assert old is not None
        old.stop()
        time.sleep(down_s)  # the outage itself (deliveries meanwhile fail), not a synchronisation
        web = ServedApp(create_app(session.settings, session.executor), port=old.port, ident="orchestra")
        web.start("orchestra-webhooks")
        session._web = web

    # -- the run --------------------------------------------------------------------------------
    def execute(self) -> dict[str, Any]:
        started = time.monotonic()
        (self.root / "redis").mkdir(parents=True, exist_ok=True)
        self._redis = PrivateRedis(self.root / "redis")
        repo = make_repo(self.root / REPO_NAME, project.PROJECT)
        self.model.policy(project.policy)
        if isinstance(self.fault, ModelFaults):
            self.model.fail_randomly(self.fault.rate, seed=self.seed)
        forge = self.fault if isinstance(self.fault, ForgeFaults) else None
        options = LocalOptions(
            repo=repo,
            workers=WORKERS,
            model="openai:gpt-stand-in",
            merge="auto",
            redis_url=self._redis.url,
            state_dir=self.root / "state",
            ci_command=project.CI_COMMAND,
            repo_name=REPO_NAME,
            fault_rate=forge.rate if forge else 0.0,
            fault_seed=self.seed,
            fault_after_share=forge.after_share if forge else 0.0,
        )
        self.session = LocalSession(options, Settings(sweep_interval_s=5)).start()
        handler = log_to_file(self.session.state_dir / "orchestra.log")
        display, problem, snapshot = Moves(), "", None
        try:
            self._install_proxy()
            self.fault.before_goal(self)
            self.goal = self.session.file_goal(project.GOAL_TITLE, project.GOAL_BODY)
            self.fault.start(self)
            try:
                snapshot, problem = follow(
                    self.session,
                    self.goal,
                    display,
                    time.monotonic() + self.timeout_s,
                    Pacing(min_s=0.5, busy_max_s=2.0, idle_max_s=4.0, stall_s=30.0),
                )
            finally:
                self.fault.stop()
                self._count_rate_faults()
                self.model.fail_randomly(0)
                self.session.hub.faults.rate = 0.0
            verdict = self.verdict()
        finally:
            self.session.stop(abandon=True)
            logging.getLogger().removeHandler(handler)
            handler.close()
            self._redis.stop()
        summary = self.summarise(verdict, display, problem, time.monotonic() - started)
        self.write(summary)
        return summary

    def _count_rate_faults(self) -> None:
        if isinstance(self.fault, ForgeFaults):
            faults = self.session.hub.metrics.snapshot()["faults"]
            self.fault.injected_before, self.fault.injected_after = faults["before"], faults["after"]
        elif isinstance(self.fault, ModelFaults):
            self.fault.by_kind = dict(self.model.injected)

    def _install_proxy(self) -> None:
        if isinstance(self.fault, WebhookProxy):
            self.fault.install(self)
        elif isinstance(self.fault, RestartRedis):
            proxy = WebhookProxy(passthrough=True, hook=self.fault.on_delivery)
            proxy.install(self)
            self._proxy = proxy

    # -- the verdict ----------------------------------------------------------------------------
    def api(self, path: str) -> Any:
        answer = requests.get(
            f"{self.session.hub.api_url}/repos/{self.session.repo_full_name}{path}",
            headers={"Authorization": f"token {self.session.person_token}"},
            timeout=10,
        )
        answer.raise_for_status()
        return answer.json()

    def all_pages(self, path: str) -> list[Any]:
        out: list[Any] = []
        page = 1
        while True:
            sep = "&" if "?" in path else "?"
            items = self.api(f"{path}{sep}per_page=100&page={page}")
            out += items
            if len(items) < 100:
                return out
            page += 1

    def verdict(self) -> dict[str, Any]:
        """What the forge shows: tasks, PRs, the bot's comments by marker, main's checks."""
        issues = self.all_pages("/issues?state=all")
        tasks = [
            i for i in issues if "pull_request" not in i and "orchestra:task" in {lb["name"] for lb in i["labels"]}
        ]
        goals = [
            i
            for i in issues
            if "pull_request" not in i
            and i["number"] != self.goal
            and "orchestra:goal" in {lb["name"] for lb in i["labels"]}
        ]
        pulls = self.all_pages("/pulls?state=all")
        merged_by_task: dict[int, int] = {}
        for pull in pulls:
            head = pull["head"]["ref"]
            if head.startswith("orchestra/") and pull.get("merged_at"):
                task = int(head.split("/")[1].split("-")[0])
                merged_by_task[task] = merged_by_task.get(task, 0) + 1
        titles = [t["title"] for t in tasks]
        marked: dict[tuple[int, str], int] = {}
        for number in [self.goal, *(t["number"] for t in tasks), *(p["number"] for p in pulls)]:
            for comment in self.all_pages(f"/issues/{number}/comments"):
                if comment["user"]["login"] != "orchestra-bot":
                    continue
                key = (number, comment_kind(comment["body"]))
                marked[key] = marked.get(key, 0) + 1
        main = self.api("/branches/main")["commit"]["sha"]
        wait_for(lambda: self._main_checks(main) != "pending", timeout=90, what="CI on main concluded")
        goal = self.api(f"/issues/{self.goal}")
        lost = [
            t["number"]
            for t in tasks
            if t["state"] != "closed" or t.get("state_reason") != "completed" or merged_by_task.get(t["number"], 0) == 0
        ]
        return {
            "goal_closed": goal["state"] == "closed",
            "tasks": len(tasks),
            "tasks_completed": sum(1 for t in tasks if t["state"] == "closed" and t.get("state_reason") == "completed"),
            "prs": len(pulls),
            "prs_merged": sum(merged_by_task.values()),
            "lost_tasks": lost,
            "duplicate_tasks": len(titles) - len(set(titles)),
            "duplicate_goals": len(goals),
            "duplicate_prs": sum(n - 1 for n in merged_by_task.values()) + (len(pulls) - sum(merged_by_task.values())),
            "duplicate_comments": {
                f"#{n} {kind}": count for (n, kind), count in marked.items() if count > 1 and kind not in REPEATABLE
            },
            "main": self._main_checks(main),
        }

    def _main_checks(self, sha: str) -> str:
        runs = self.api(f"/commits/{sha}/check-runs")["check_runs"]
        if not runs or any(run["status"] != "completed" for run in runs):
            return "pending"
        return "success" if all(run["conclusion"] == "success" for run in runs) else "failure"

    def summarise(self, verdict: dict[str, Any], display: Moves, problem: str, duration_s: float) -> dict[str, Any]:
        recover = [time_to_progress(display.moves, at) for at, _what in self.fault.events]
        duplicates = (
            verdict["duplicate_tasks"]
            + verdict["duplicate_goals"]
            + verdict["duplicate_prs"]
            + sum(count - 1 for count in verdict["duplicate_comments"].values())
        )
        return {
            **verdict,
            "fault": self.fault.name,
            "seed": self.seed,
            "problem": problem,
            "faults": self.fault.counts(),
            "duration_s": round(duration_s, 1),
            "recover_max_s": round(max(recover), 1) if recover else 0.0,
            "recover_median_s": round(sorted(recover)[len(recover) // 2], 1) if recover else 0.0,
            "lost": len(verdict["lost_tasks"]),
            "duplicates": duplicates,
        }

    def write(self, summary: dict[str, Any]) -> None:
        out = Path(os.environ.get(RESULTS_ENV) or self.root)
        out.mkdir(parents=True, exist_ok=True)
        name = f"chaos-{time.strftime('%Y%m%d-%H%M%S')}-{self.fault.name}-{threading.get_ident() % 10000}.json"
        (out / name).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")


def progress(snapshot: Snapshot) -> int:
    """How far the goal has come: tasks planned, tasks done, PRs merged, the goal closed."""
    done = sum(1 for task in snapshot.tasks if task.state == "done")
    return len(snapshot.tasks) + done + snapshot.prs_merged + int(snapshot.closed)


def time_to_progress(moves: list[tuple[float, Snapshot]], at: float) -> float:
    """Seconds from a fault at `at` until the goal made progress beyond where it stood then (0 when the
    run ended without further progress: nothing was left to do)."""
    before = [snap for t, snap in moves if t <= at]
    reached = progress(before[-1]) if before else 0
    return next((t - at for t, snap in moves if t > at and progress(snap) > reached), 0.0)


#: Bot comments that legitimately come again (one per event): never counted as duplicates.
REPEATABLE: frozenset[str] = frozenset()


def comment_kind(body: str) -> str:
    """A bot comment's identity: the names of its markers (`claim`, `handoff`, `status`, ...)."""
    from bot.ledger import markers

    return "+".join(sorted(markers.names(body))) or body.strip().splitlines()[0][:60]
