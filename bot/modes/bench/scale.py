"""`orchestra bench scale`: one synthetic goal per (worker count, repeat), timed and metered.

Each point starts the whole local stack afresh (bot/modes/local/session.py: localhub, the webhook
app, the executor — threads in this process, or RQ worker processes on a private Redis), files a
goal of N independent tasks as the person, and watches localhub's own store (no REST call) until
the goal closes. What it reads:

- the makespan, goal filed → goal closed, split at the moment the last task issue is filed (plan)
  and the last task PR is opened (implement); the rest is the merge tail;
- localhub's meter: REST calls of the bot's token by route, 304s (free on GitHub) apart; webhooks;
- CPU: this process's job threads (`orchestra-job-*`), the rest of this process (localhub, the
  webhook app, this loop), and the subprocesses (git, CI, RQ workers and their children);
- memory: the peak of this process's resident set plus every descendant's, sampled;
- queue wait: submission → start of each job (in-process), or RQ's enqueued_at → started_at.

With `--mode rq` the goal is filed once the W worker processes have registered, as a server's
workers are up before a goal arrives; their start-up is reported apart (`workers_ready_s`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.metrics import jobs as jobs_metrics
from bot.modes.bench import BENCH_MODEL
from bot.modes.bench.policy import LATENCY_ENV, SHARED_ENV, TASKS_ENV
from bot.modes.bench.project import make_bench_repo
from bot.modes.local.session import LocalExecutor, LocalOptions, LocalSession
from bot.settings import Settings
from localhub.store import token_hash

log = logging.getLogger(__name__)

#: The primary REST budget of one GitHub App installation, requests an hour.
HOURLY_BUDGET = 5000
#: Goals printed beside the figures (issue: Scale).
GOALS = {
    "efficiency_w8": 0.9,
    "efficiency_w16": 0.8,
    "rest_per_task": 12,
    "rq_vs_threads": 1.2,
    "orchestration_cpu_per_task": 0.3,
}


@dataclass(frozen=True)
class BenchOptions:
    workers: list[int]
    tasks: int
    latency_s: float = 5.0
    conflict_share: float = 0.0
    mode: str = "threads"
    repeat: int = 1
    timeout_s: float = 600.0
    keep: Path | None = None


@dataclass
class Sampler:
    """Samples the resident memory of this process and its descendants every `every_s` seconds."""

    every_s: float = 0.25
    peak_mb: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Sampler:
        self._thread = threading.Thread(target=self._loop, name="bench-sampler", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            self.peak_mb = max(self.peak_mb, tree_rss_mb(os.getpid()))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                kids += [int(k) for k in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    return kids


def tree_rss_mb(pid: int) -> float:
    """Resident memory of `pid` and all its descendants, MB (Linux /proc; 0 elsewhere)."""
    total, todo, seen = 0, [pid], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    break
        todo += _children(current)
    return total / 1024


def thread_cpu_s(prefix: str) -> float:
    """CPU seconds (user + system) of this process's live threads whose name starts with `prefix`."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for thread in threading.enumerate():
        if not thread.name.startswith(prefix) or thread.native_id is None:
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/self/task/{thread.native_id}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


# -- a private Redis for --mode rq -----------------------------------------------------------
@contextlib.contextmanager
def private_redis(directory: Path) -> Iterator[str]:
    """A throwaway `redis-server` on a free loopback port (never 6379); its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("--mode rq needs redis-server on PATH (apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the private redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)


# -- one point ---------------------------------------------------------------------------------
@dataclass
class Watch:
    """What the bench reads from localhub's store (in-process SQL: no REST call, nothing metered)."""

    session: LocalSession
    goal: int
    tasks: int

    def read(self) -> tuple[int, int, int, bool]:
        """(task issues filed, task PRs opened, PRs merged, goal closed)."""
        store = self.session.hub.store
        owner, _, name = self.session.repo_full_name.partition("/")
        repo = store.repo(owner, name)
        assert repo is not None
        rows = store.all(
            "SELECT i.number, i.is_pull, i.state, p.merged FROM issues i LEFT JOIN pulls p "
            "ON p.issue_id=i.id WHERE i.repo_id=?",
            (repo["id"],),
        )
        issues = sum(1 for r in rows if not r["is_pull"] and r["number"] != self.goal)
        pulls = sum(1 for r in rows if r["is_pull"])
        merged = sum(1 for r in rows if r["is_pull"] and r["merged"])
        closed = any(r["number"] == self.goal and r["state"] == "closed" for r in rows)
        return issues, pulls, merged, closed


@dataclass
class JobTally:
    """Runs and seconds of the jobs that ran in this process, by kind: what the workers spent their time on."""

    runs: dict[str, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, measure: jobs_metrics.JobMeasure) -> None:
        with self._lock:
            self.runs.setdefault(measure.kind, []).append(measure.seconds)

    def by_kind(self) -> dict[str, dict[str, float]]:
        """Kind → {"runs", "seconds"}, the most time first."""
        with self._lock:
            rows = {kind: {"runs": len(s), "seconds": round(sum(s), 2)} for kind, s in self.runs.items()}
        return dict(sorted(rows.items(), key=lambda kv: -kv[1]["seconds"]))


def run_point(options: BenchOptions, workers: int, root: Path, redis_url: str | None) -> dict[str, Any]:
    """Run the synthetic goal once with `workers`; the point's figures."""
    os.environ[LATENCY_ENV] = str(options.latency_s)
    os.environ[TASKS_ENV] = str(options.tasks)
    os.environ[SHARED_ENV] = str(round(options.conflict_share * options.tasks))
    workdir = Path(tempfile.mkdtemp(prefix=f"w{workers}-", dir=root))
    repo = make_bench_repo(workdir)
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    local = LocalOptions(
        repo=repo,
        workers=workers,
        model=BENCH_MODEL,
        merge="auto",
        redis_url=redis_url,
        state_dir=workdir / "state",
        ci_command="true",
        repo_name="bench",
    )
    load = os.getloadavg()
    tally = JobTally()
    jobs_metrics.deliver_to(tally.add)  # in-process jobs (threads mode) report here; RQ work horses do not
    session = LocalSession(local, Settings())
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    self_before = resource.getrusage(resource.RUSAGE_SELF)
    sampler = Sampler().start()
    session.start()
    jobs_cpu_before = thread_cpu_s("orchestra-job")
    problem = ""
    try:
        workers_ready_s = _wait_for_rq_workers(redis_url, workers, options.timeout_s) if redis_url else 0.0
        filed = time.monotonic()
        goal = session.file_goal("Bench: independent modules", f"{options.tasks} independent modules and tests.")
        watch = Watch(session, goal, options.tasks)
        marks = _follow(session, watch, filed, options)
        problem = marks.pop("problem", "")
        marks["workers_ready_s"] = workers_ready_s
        jobs_cpu = thread_cpu_s("orchestra-job") - jobs_cpu_before
        metrics = session.hub.metrics.snapshot()
        waits = _queue_waits(session)
        merged = watch.read()[2]
    finally:
        session.stop(abandon=bool(problem))
        sampler.stop()
        jobs_metrics.deliver_to(None)
    self_after = resource.getrusage(resource.RUSAGE_SELF)
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    process_cpu = (self_after.ru_utime + self_after.ru_stime) - (self_before.ru_utime + self_before.ru_stime)
    sub_cpu = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    if options.keep is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return _figures(
        options,
        workers,
        marks,
        metrics,
        session.bot_token,
        merged,
        problem,
        load,
        jobs_cpu,
        process_cpu,
        sub_cpu,
        sampler.peak_mb,
        waits,
        tally,
    )


def _wait_for_rq_workers(redis_url: str, workers: int, timeout_s: float) -> float:
    """Wait until `workers` RQ workers have registered (each imports the house and its models' SDKs
    first): as a server's workers are up before any goal arrives, the goal is filed once they are. The
    seconds it took (reported apart from the makespan)."""
    import redis
    from rq import Worker

    connection = redis.Redis.from_url(redis_url)
    started = time.monotonic()
    while Worker.count(connection=connection) < workers:
        if time.monotonic() - started > timeout_s:
            raise RuntimeError(f"only {Worker.count(connection=connection)} of {workers} RQ workers started")
        time.sleep(0.2)
    return time.monotonic() - started


def _follow(session: LocalSession, watch: Watch, filed: float, options: BenchOptions) -> dict[str, Any]:
    """Watch until the goal closes; the times (from `filed`) the plan, the PRs and the goal were done."""
    marks: dict[str, Any] = {}
    last_change, seen, deadline = time.monotonic(), (0, 0, 0, False), filed + options.timeout_s
    while True:
        now = time.monotonic()
        state = watch.read()
        issues, pulls, _merged, closed = state
        if "plan_s" not in marks and issues >= watch.tasks:
            marks["plan_s"] = now - filed
        if "implement_s" not in marks and pulls >= watch.tasks:
            marks["implement_s"] = now - filed
        if closed:
            marks["makespan_s"] = now - filed
            marks.setdefault("plan_s", marks["makespan_s"])
            marks.setdefault("implement_s", marks["makespan_s"])
            return marks
        if state != seen:
            seen, last_change = state, now
        elif now - last_change > 30:  # nothing moved for 30 s: what a lost trigger left, the sweep repairs
            session.sweep_now()
            last_change = now
        if now > deadline:
            marks["makespan_s"] = now - filed
            marks["problem"] = f"the goal was not closed after {options.timeout_s:.0f}s ({state})"
            marks.setdefault("plan_s", marks["makespan_s"])
            marks.setdefault("implement_s", marks["makespan_s"])
            return marks
        time.sleep(0.1)


def _queue_waits(session: LocalSession) -> list[float]:
    executor = session.executor
    if isinstance(executor, LocalExecutor):
        return list(executor.waits)
    waits: list[float] = []
    from rq.job import Job
    from rq.registry import FinishedJobRegistry

    queues: dict[str, Any] = getattr(executor, "queues", {})
    for queue in queues.values():
        ids = FinishedJobRegistry(queue=queue).get_job_ids()
        for job in Job.fetch_many(ids, connection=queue.connection):
            if job is not None and job.enqueued_at and job.started_at:
                waits.append(max(0.0, (job.started_at - job.enqueued_at).total_seconds()))
    return waits


def _figures(
    options: BenchOptions,
    workers: int,
    marks: dict[str, Any],
    metrics: dict[str, Any],
    bot_token: str,
    merged: int,
    problem: str,
    load: tuple[float, float, float],
    jobs_cpu: float,
    process_cpu: float,
    sub_cpu: float,
    peak_mb: float,
    waits: list[float],
    tally: JobTally,
) -> dict[str, Any]:
    tasks = options.tasks
    per = max(1, merged)
    label = f"pat:{token_hash(bot_token)[:10]}"
    routes = metrics["rest"].get("by_token_route", {}).get(label, {})
    charged = sum(r.get("charged", 0) for r in routes.values())
    not_modified = sum(r.get("not_modified", 0) for r in routes.values())
    makespan = marks["makespan_s"]
    rest_per_task = charged / per
    return {
        "workers": workers,
        "tasks": tasks,
        "mode": options.mode,
        "latency_s": options.latency_s,
        "conflict_share": options.conflict_share,
        "ok": not problem,
        "problem": problem,
        "load_before": [round(x, 2) for x in load],
        "makespan_s": round(makespan, 2),
        "plan_s": round(marks["plan_s"], 2),
        "implement_s": round(marks["implement_s"] - marks["plan_s"], 2),
        "merge_s": round(makespan - marks["implement_s"], 2),
        "workers_ready_s": round(marks.get("workers_ready_s", 0.0), 2),
        "merged": merged,
        "merges_per_s": round(merged / makespan, 3) if makespan else 0.0,
        "rest_per_task": round(rest_per_task, 2),
        "rest_charged": charged,
        "rest_not_modified": not_modified,
        "rest_by_route": {
            route: {k: round(v / per, 2) for k, v in counts.items()}
            for route, counts in sorted(routes.items(), key=lambda kv: -kv[1].get("charged", 0))
        },
        "tasks_per_hour_per_installation": round(HOURLY_BUDGET / rest_per_task) if rest_per_task else None,
        "budget_hours_at_this_rate": round(HOURLY_BUDGET / (charged / makespan * 3600), 3) if charged else None,
        "webhooks_per_task": round(metrics["webhooks"]["total"] / per, 2),
        "cpu_jobs_per_task": round(jobs_cpu / per, 3),
        "cpu_process_per_task": round(process_cpu / per, 3),
        "cpu_subprocesses_per_task": round(sub_cpu / per, 3),
        "peak_memory_mb": round(peak_mb, 1),
        "queue_wait_p50_s": round(percentile(waits, 0.5), 3),
        "queue_wait_p99_s": round(percentile(waits, 0.99), 3),
        "jobs": len(waits),
        "job_seconds_by_kind": tally.by_kind(),
    }


# -- the sweep over worker counts ----------------------------------------------------------------
MEDIAN_KEYS = (
    "makespan_s",
    "plan_s",
    "implement_s",
    "merge_s",
    "merges_per_s",
    "rest_per_task",
    "rest_charged",
    "rest_not_modified",
    "tasks_per_hour_per_installation",
    "budget_hours_at_this_rate",
    "webhooks_per_task",
    "cpu_jobs_per_task",
    "cpu_process_per_task",
    "cpu_subprocesses_per_task",
    "peak_memory_mb",
    "queue_wait_p50_s",
    "queue_wait_p99_s",
    "jobs",
    "merged",
)


def run_bench(options: BenchOptions, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Every point `repeat` times (the worker counts in alternating order), then medians, speedup, efficiency."""
    root = Path(tempfile.mkdtemp(prefix="orchestra-bench-", dir=options.keep))
    runs: dict[int, list[dict[str, Any]]] = {w: [] for w in options.workers}
    started = time.monotonic()
    try:
        with contextlib.ExitStack() as stack:
            redis_url = stack.enter_context(private_redis(root)) if options.mode == "rq" else None
            for k in range(options.repeat):
                order = options.workers if k % 2 == 0 else list(reversed(options.workers))
                for workers in order:
                    load = os.getloadavg()
                    say(
                        f"run {k + 1}/{options.repeat}, W={workers}: load average {load[0]:.2f} {load[1]:.2f} "
                        f"{load[2]:.2f}"
                    )
                    point = run_point(options, workers, root, redis_url)
                    runs[workers].append(point)
                    say(
                        f"  makespan {point['makespan_s']:.1f}s (plan {point['plan_s']:.1f}, implement "
                        f"{point['implement_s']:.1f}, merge {point['merge_s']:.1f}), {point['merged']} merged, "
                        f"{point['rest_per_task']:.1f} REST calls/task"
                        + (f" — {point['problem']}" if point["problem"] else "")
                    )
    finally:
        if options.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    points = [_median_point(runs[w]) for w in options.workers]
    base = next((p for p in points if p["workers"] == 1), None)
    for point in points:
        ideal = min(point["workers"], options.tasks)
        if base is not None and point["makespan_s"]:
            point["speedup"] = round(base["makespan_s"] / point["makespan_s"], 3)
            point["efficiency"] = round(point["speedup"] / ideal, 3)
        else:
            point["speedup"] = point["efficiency"] = None
    return {
        "command": "orchestra bench scale",
        "options": {
            "workers": options.workers,
            "tasks": options.tasks,
            "model_latency_s": options.latency_s,
            "conflict_share": options.conflict_share,
            "mode": options.mode,
            "repeat": options.repeat,
        },
        "machine": machine(),
        "goals": GOALS,
        "points": points,
        "runs": runs,
        "wall_s": round(time.monotonic() - started, 1),
    }


def _median_point(runs: list[dict[str, Any]]) -> dict[str, Any]:
    point = dict(runs[0])
    for key in MEDIAN_KEYS:
        values = [r[key] for r in runs if r.get(key) is not None]
        point[key] = round(statistics.median(values), 3) if values else None
    point["ok"] = all(r["ok"] for r in runs)
    point["load_before"] = [r["load_before"] for r in runs]
    point["repeats"] = len(runs)
    routes: dict[str, list[float]] = {}
    for r in runs:
        for route, counts in r["rest_by_route"].items():
            routes.setdefault(route, []).append(counts.get("charged", 0.0))
    point["rest_by_route"] = {
        route: round(statistics.median(v + [0.0] * (len(runs) - len(v))), 2)
        for route, v in sorted(routes.items(), key=lambda kv: -statistics.median(kv[1]))
    }
    return point


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]}
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    import platform

    info["python"] = platform.python_version()
    return info
