"""One local run: start the embedded stack, file the goal, follow it until it closes or stalls, fetch the result."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rq import Queue
from rq.registry import StartedJobRegistry

from bot.modes.local.preflight import local_preflight
from bot.modes.local.progress import Display
from bot.modes.local.report import with_report
from bot.modes.local.result import RunSummary, fetch_result, summarise
from bot.modes.local.session import LocalExecutor, LocalOptions, LocalSession
from bot.modes.local.snapshot import Snapshot, take_snapshot
from bot.queue.executors import RQExecutor
from bot.settings import Settings

log = logging.getLogger(__name__)

#: Seconds between two looks at the forge.
POLL_S = 0.5
#: Nothing moving (no job, no CI, no delivery, no task ready/working/in review) for this long: stalled.
STALL_S = 8.0


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
    """True when no job is queued or running, no CI run is pending and no webhook is in flight."""
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
        return waiting == 0 and running == 0
    return True


def follow(session: LocalSession, goal: int, display: Display, deadline: float) -> tuple[Snapshot, str]:
    """Watch the goal until it closes (problem ""), the deadline passes, or the work stalls."""
    forge = session.person_forge()
    stalled_since: float | None = None
    while True:
        snapshot = take_snapshot(forge, session.config, goal)
        display.update(snapshot)
        if snapshot.closed:
            return snapshot, ""
        now = time.monotonic()
        if now > deadline:
            return snapshot, "the deadline passed before the goal closed"
        if not snapshot.moving and jobs_idle(session):
            stalled_since = stalled_since or now
            if now - stalled_since >= STALL_S:
                return snapshot, stall_reason(snapshot)
        else:
            stalled_since = None
        time.sleep(POLL_S)


def log_to_file(path: Path) -> logging.Handler:
    """Send the run's log (jobs, webhooks, localhub) to `path`, not the terminal the display uses."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    return handler


def stall_reason(snapshot: Snapshot) -> str:
    stuck = snapshot.needs_human()
    if stuck:
        numbers = ", ".join(f"#{task.number}" for task in stuck)
        return f"the work stopped: {numbers} need a person (see their last comments)"
    if not snapshot.tasks:
        return "the planner produced no tasks (see the comments on the goal)"
    return "the work stopped with tasks still open and nothing running (see the goal's status comment)"


def run_local(options: LocalOptions, settings: Settings, goal: Goal, display: Display,
              timeout_s: float = 3600.0) -> RunSummary:
    """Run the goal on the repository in `options`; the summary (its `ok` says whether the goal closed)."""
    started = time.monotonic()
    local_preflight(options, settings)  # git, the repo, Redis (--redis), every role's model: before anything starts
    session = LocalSession(options, settings)
    display.message(f"Importing {session.repo_path} (branch {session.default_branch}) into localhub; "
                    f"state in {session.state_dir}")
    display.message(f"CI on every push: {session.ci_command or 'bash ' + session.ci_source} ({session.ci_source})")
    session.start()
    log_handler = log_to_file(session.state_dir / "orchestra.log")
    finished = False
    try:
        display.serving(session.pages_url)
        if session.merge_policy == "review":
            display.message(f"Merge policy review: green PRs wait for you; dependent tasks start once they are "
                            f"merged. Merge one with\n  {session.merge_hint()}")
        number = session.file_goal(goal.title, goal.body)
        display.message(f"Goal #{number} filed: {session.repo_url}/issues/{number}")
        snapshot, problem = follow(session, number, display, started + timeout_s)
        branch = commit = None
        if not problem:
            branch, commit = fetch_result(session, number)
            if isinstance(session.executor, LocalExecutor):
                session.executor.drain(timeout=30)
            finished = True
        else:
            problem = f"{problem}. localhub pages while it ran: {session.repo_url}/issues/{number}"
        return with_report(session, summarise(session, snapshot, time.monotonic() - started, branch, commit, problem))
    finally:
        display.close()
        session.stop(abandon=not finished)
        logging.getLogger().removeHandler(log_handler)
        log_handler.close()
