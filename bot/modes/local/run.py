"""One local run: start the embedded stack, file the goal, follow it until it closes or stalls, fetch the result.

How a run ends (docs/local-mode.md): exit 0 when the goal closes. Once nothing runs (no job, no
CI run, no webhook in flight) and the goal has not changed, the run sweeps (bot/reconcile.py:
whatever a lost trigger left undone is submitted); when the sweep finds nothing and the goal
stays the same for `Pacing.stall_s` more, the run judges (bot/modes/local/verdict.py): a PR left
for the person to merge keeps it waiting; anything else is stuck, and the run exits 1 naming
each stuck issue, its state and why — well within 30 s of the last movement.

How often it looks (the person's token pays): a look is two conditional requests (304s cost
nothing on GitHub or localhub's budget); the interval starts at `min_s` after a change and
doubles while nothing changes, up to `busy_max_s` while jobs run and `idle_max_s` while nothing
does, and stretches when the token's remaining budget runs low. Local signals (a job ending, a
webhook delivered) are free and wake the loop at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rq import Queue
from rq.registry import ScheduledJobRegistry, StartedJobRegistry

from bot.forge.client import Forge
from bot.modes.local import plangate
from bot.modes.local.preflight import local_preflight
from bot.modes.local.progress import Display
from bot.modes.local.report import with_report
from bot.modes.local.result import RunSummary, fetch_result, summarise
from bot.modes.local.session import LocalExecutor, LocalOptions, LocalSession
from bot.modes.local.snapshot import Snapshot, Watcher, take_snapshot
from bot.modes.local.verdict import Verdict, judge
from bot.queue.executors import RQExecutor
from bot.settings import Settings

log = logging.getLogger(__name__)


class RunClock:
    """The run's sense of time. With `speed` > 1 its waits pass faster than real time (a test of an
    hour-long wait): only the waits — the work between them (looks, sweeps) takes its real time."""

    def __init__(self, speed: float = 1.0) -> None:
        self.speed = speed
        self._skipped = 0.0

    def now(self) -> float:
        return time.monotonic() + self._skipped

    def wait(self, seconds: float, wake: Callable[[], bool], check_every_s: float = 0.2) -> None:
        """Pass `seconds` of run time, or less when `wake()` turns true (checked every `check_every_s` real seconds)."""
        speed = max(1.0, self.speed)
        start, budget = time.monotonic(), seconds / speed
        while (spent := time.monotonic() - start) < budget and not wake():
            time.sleep(min(check_every_s, budget - spent))
        self._skipped += (time.monotonic() - start) * (speed - 1)


@dataclass
class Pacing:
    """How often the run looks at the forge and when it judges that it stands still."""

    min_s: float = 1.0
    busy_max_s: float = 5.0
    idle_max_s: float = 20.0
    #: After a sweep that found nothing, unchanged and idle this long: judge.
    stall_s: float = 8.0
    #: Below this share of the person's hourly budget, looks are spread over the time to the reset.
    low_budget: float = 0.2
    clock: RunClock = field(default_factory=RunClock)


@dataclass(frozen=True)
class Goal:
    title: str
    body: str = ""


def goal_from_text(text: str) -> Goal:
    """The first line is the title; the rest (or the whole text, when it is one line) the body."""
    text = text.strip()
    title, _, rest = text.partition("\n")
    return Goal(title.strip().lstrip("# ").strip(), rest.strip() or text)


def jobs_idle(session: LocalSession) -> bool:
    """True when no job is queued, running or scheduled (a failed job's retry waits in RQ's scheduled
    registry), no CI run is pending and no webhook is in flight."""
    hub: Any = session.hub  # `ci` is attached by localhub.attach
    if not hub.ci.drain(timeout=0) or not hub.events.drain(timeout=0):
        return False
    executor = session.executor
    if isinstance(executor, LocalExecutor):
        return executor.queue_depths().get("inline", 0) == 0
    if isinstance(executor, RQExecutor):
        queues: dict[str, Queue] = executor.queues
        waiting = sum(queue.count for queue in queues.values())
        running = sum(StartedJobRegistry(queue=queue).count for queue in queues.values())
        scheduled = sum(ScheduledJobRegistry(queue=queue).count for queue in queues.values())
        return waiting == 0 and running == 0 and scheduled == 0
    return True


def local_signal(session: LocalSession) -> tuple[int, bool]:
    """What the run can see for free: webhooks delivered so far, and whether jobs are idle."""
    return session.hub.metrics.snapshot()["webhooks"]["total"], jobs_idle(session)


@dataclass
class Follower:
    """The loop of `follow`: its state between two looks."""

    session: LocalSession
    watcher: Watcher
    display: Display
    pacing: Pacing
    interval: float = 0.0
    quiet_since: float | None = None
    swept_clean: bool = False
    last_sweep: float = 0.0
    waiting_said: tuple[str, ...] = ()
    previous: Snapshot | None = None

    def look(self, fresh_usage: bool = False) -> tuple[Snapshot, bool]:
        snapshot = self.watcher.take(fresh_usage)
        changed, self.previous = snapshot != self.previous, snapshot
        self.display.update(snapshot)
        return snapshot, changed

    def step(self, snapshot: Snapshot, changed: bool, idle: bool) -> str | None:
        """After a look: sweep when due or newly quiet, judge when quiet long enough after a sweep
        that found nothing; the problem that ends the run, else None."""
        clock = self.pacing.clock
        now = clock.now()
        if changed or not idle:
            self.quiet_since, self.swept_clean = None, False
        elif self.quiet_since is None:
            self.quiet_since = now
        newly_quiet = self.quiet_since is not None and not self.swept_clean
        if newly_quiet or now - self.last_sweep >= self.session.settings.sweep_interval_s:
            self.last_sweep = now
            if not self.session.sweep_now():  # it submitted or repaired something: that is movement
                self.quiet_since, self.swept_clean = None, False
            elif newly_quiet:
                self.quiet_since, self.swept_clean = clock.now(), True
            return None
        if self.quiet_since is None or now - self.quiet_since < self.pacing.stall_s:
            return None
        verdict = judge(self.watcher.forge, self.session.config_in_effect, snapshot)
        if verdict.is_stuck:
            return verdict.problem()
        self._say_waiting(verdict)
        return None

    def _say_waiting(self, verdict: Verdict) -> None:
        said = tuple(verdict.waiting + verdict.stuck)
        if said != self.waiting_said:
            self.waiting_said = said
            self.display.message("Waiting for you:\n  " + "\n  ".join(said))

    def next_interval(self, changed: bool, idle: bool, forge: Forge) -> float:
        pacing = self.pacing
        top = pacing.idle_max_s if idle else pacing.busy_max_s
        self.interval = pacing.min_s if changed else min(top, max(pacing.min_s, self.interval * 2))
        remaining, limit, reset = forge.rate_left
        if limit > 0 and 0 <= remaining < limit * pacing.low_budget:
            spread = 2 * max(0.0, reset - time.time()) / max(1, remaining)  # two requests a look
            self.interval = max(self.interval, spread)
        return self.interval


def follow(
    session: LocalSession, goal: int, display: Display, deadline: float, pacing: Pacing | None = None
) -> tuple[Snapshot, str]:
    """Watch the goal until it closes (problem ""), the deadline passes, or nothing can move without a person."""
    pacing = pacing or Pacing()
    forge = session.person_forge()
    follower = Follower(
        session, Watcher(forge, session.config_in_effect, goal), display, pacing, last_sweep=pacing.clock.now()
    )
    while True:
        session.replace_dead_workers()
        snapshot, changed = follower.look()
        if snapshot.closed:
            return follower.look(fresh_usage=True)[0], ""
        if pacing.clock.now() > deadline:
            return follower.look(fresh_usage=True)[0], "the deadline passed before the goal closed"
        signal = local_signal(session)
        problem = follower.step(snapshot, changed, signal[1])
        if problem is not None:
            return follower.look(fresh_usage=True)[0], problem
        interval = follower.next_interval(changed, signal[1], forge)
        pacing.clock.wait(interval, _changed_from(session, signal))


def _changed_from(session: LocalSession, seen: tuple[int, bool]) -> Callable[[], bool]:
    return lambda: local_signal(session) != seen


def log_to_file(path: Path) -> logging.Handler:
    """Send the run's log (jobs, webhooks, localhub) to `path`, not the terminal the display uses."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    return handler


def _plan_gate(
    session: LocalSession,
    number: int,
    display: Display,
    deadline: float,
    pacing: Pacing,
    plan_only: bool,
    confirm: Callable[[str], bool] | None,
) -> tuple[str, str] | None:
    """Print the plan; None when the person approved it (the run goes on), else (plan, problem) to end with."""
    plan, problem = plangate.wait_for_plan(session, number, deadline, pacing.clock)
    if problem:
        return "", problem
    display.message(plan)
    if plan_only:
        display.message("--plan-only: nothing was filed or started.")
        return plan, ""
    if not (confirm or plangate.ask_once)("Approve this plan? [y/N]"):
        return plan, "the plan was not approved: nothing was filed or started"
    plangate.approve_as_person(session, number)
    display.message(f"Approved plan of goal #{number} as you; its tasks are being filed.")
    return None


def run_local(
    options: LocalOptions,
    settings: Settings,
    goal: Goal,
    display: Display,
    timeout_s: float = 3600.0,
    pacing: Pacing | None = None,
    *,
    plan_only: bool = False,
    confirm: Callable[[str], bool] | None = None,
) -> RunSummary:
    """Run the goal on the repository in `options`; the summary (its `ok` says whether the goal closed).

    With `options.plan_approval`, the plan is printed first: `plan_only` stops there (nothing filed or
    started); else `confirm` (the terminal's y/N) decides whether the person approves it."""
    pacing = pacing or Pacing()
    started, clock_start = time.monotonic(), pacing.clock.now()
    local_preflight(options, settings)  # git, the repo, Redis (--redis), every role's model: before anything starts
    session = LocalSession(options, settings)
    display.message(
        f"Importing {session.repo_path} (branch {session.default_branch}) into localhub; state in {session.state_dir}"
    )
    display.message(f"CI on every push: {session.ci_command or 'bash ' + session.ci_source} ({session.ci_source})")
    session.start()
    log_handler = log_to_file(session.state_dir / "orchestra.log")
    finished = False
    try:
        display.serving(session.pages_url)
        if session.merge_policy == "review":
            display.message(
                f"Merge policy review: green PRs wait for you; dependent tasks start once they are "
                f"merged. Merge one with\n  {session.merge_hint()}"
            )
        number = session.file_goal(goal.title, goal.body)
        display.message(f"Goal #{number} filed: {session.repo_url}/issues/{number}")
        if options.plan_approval:
            gated = _plan_gate(session, number, display, clock_start + timeout_s, pacing, plan_only, confirm)
            if gated is not None:
                finished = not gated[1]
                return summarise(
                    session,
                    take_snapshot(session.person_forge(), session.config_in_effect, number),
                    time.monotonic() - started,
                    None,
                    None,
                    gated[1],
                    planned=gated[0],
                )
        snapshot, problem = follow(session, number, display, clock_start + timeout_s, pacing)
        branch = commit = None
        if not problem:
            branch, commit = fetch_result(session, number)
            if isinstance(session.executor, LocalExecutor):
                session.executor.drain(timeout=30)
            finished = True
        else:
            problem = f"{problem}\nlocalhub pages while it ran: {session.repo_url}/issues/{number}"
        return with_report(session, summarise(session, snapshot, time.monotonic() - started, branch, commit, problem))
    finally:
        display.close()
        session.stop(abandon=not finished)
        logging.getLogger().removeHandler(log_handler)
        log_handler.close()
