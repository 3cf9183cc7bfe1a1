"""The faults a chaos run injects while the goal runs, each counted with the moment it happened.

Each fault is a small object with `start(run)` and `stop()`; `events` holds (monotonic time, what)
for every injection, so the run can measure how long the orchestra took to move again.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests
from rq import Queue
from rq.suspension import suspend
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.support.waiting import wait_for

if TYPE_CHECKING:
    from tests.chaos.harness import ChaosRun


@dataclass
class Fault:
    """Base: no fault (the control run). `events`: (time, what) of each injection."""

    name: str = "none"
    events: list[tuple[float, str]] = field(default_factory=list)

    def note(self, what: str) -> None:
        self.events.append((time.monotonic(), what))

    def before_goal(self, run: ChaosRun) -> None:
        """Called once the stack runs, before the goal is filed."""

    def start(self, run: ChaosRun) -> None:
        """Called right after the goal is filed."""

    def stop(self) -> None:
        """End the injection (before the final checks)."""

    def counts(self) -> dict[str, int]:
        return {"injected": len(self.events)}


class Ticker(Fault):
    """A fault that acts every `every_s` seconds in a thread until stopped."""

    every_s: float = 4.0

    def start(self, run: ChaosRun) -> None:
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(run,), name=f"chaos-{self.name}", daemon=True)
        self._thread.start()

    def _loop(self, run: ChaosRun) -> None:
        while not self._stopping.wait(self.every_s):
            self.tick(run)

    def tick(self, run: ChaosRun) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=30)


# -- (a) a random worker SIGKILLed every few seconds -------------------------------------------
@dataclass
class KillWorkers(Ticker):
    name: str = "kill-workers"
    every_s: float = 6.0
    seed: int = 0
    #: Enough to hit every kind of job; unbounded, a job longer than the mean time between kills of
    #: its worker (4 workers × 6 s) would rarely finish on a busy machine.
    max_kills: int = 8

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def tick(self, run: ChaosRun) -> None:
        alive = [proc for proc in run.session.worker_processes() if proc.poll() is None]
        if not alive or len(self.events) >= self.max_kills:
            return
        victim = self._random.choice(alive)
        for pid in [victim.pid, *children(victim.pid)]:  # the worker and its work horse
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        victim.wait(timeout=10)
        self.note(f"SIGKILL worker {victim.pid}")


def children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return out


# -- (b) Redis flushed and restarted: a queued plan job, an accepted task close -----------------
@dataclass
class RestartRedis(Fault):
    """Hold the workers, let the job be accepted, then flush Redis and restart it: the job is gone.

    Once for the goal's `plan` job (the workers start held), once for the first task's
    `on_task_closed` (the webhook proxy holds the workers before it passes the close on)."""

    name: str = "restart-redis"

    def before_goal(self, run: ChaosRun) -> None:
        hold_workers(run)

    def start(self, run: ChaosRun) -> None:
        plan = f"plan-{run.repo_slug}-{run.goal}"
        wait_for(
            lambda: plan in Queue("default", connection=run.conn()).job_ids, timeout=60, what="the plan job queued"
        )
        self.flush_and_restart(run, "flushed with the plan job queued")

    def on_delivery(self, run: ChaosRun, event: str, payload: dict[str, Any], forward: Callable[[], None]) -> bool:
        """The proxy's hook: for the first task closed, hold the workers, pass it on, then lose it."""
        if self.counts()["injected"] >= 2 or event != "issues" or payload.get("action") != "closed":
            return False
        number = int(payload["issue"]["number"])
        if number == run.goal:
            return False
        hold_workers(run)
        forward()
        closed = f"on_task_closed-{run.repo_slug}-{number}"
        wait_for(
            lambda: closed in Queue("default", connection=run.conn()).job_ids,
            timeout=30,
            what="the close of the first task accepted",
        )
        self.flush_and_restart(run, f"flushed after the close of #{number} was accepted")
        return True

    def flush_and_restart(self, run: ChaosRun, what: str) -> None:
        run.conn().flushall()
        run.restart_redis()
        self.note(what)


def hold_workers(run: ChaosRun) -> None:
    """Suspend the RQ workers and wait until each idle one has seen it (a busy one finishes its job first)."""
    conn = run.conn()
    suspend(conn)
    names = run.session.worker_names()
    for _ in names:
        Queue("urgent", connection=conn).enqueue("os.getpid")  # wakes a worker blocked on the queues
    wait_for(
        lambda: (
            all(conn.hget(f"rq:worker:{name}", "state") in (b"suspended", None) for name in names)
            and any(conn.hget(f"rq:worker:{name}", "state") == b"suspended" for name in names)
        ),
        timeout=120,
        interval=0.1,
        what="the workers to be suspended",
    )


# -- (c) every webhook three times, some out of order, 5% never ---------------------------------
@dataclass
class WebhookProxy(Fault):
    """Stands between localhub and the webhook app: answers localhub at once, then sends each delivery
    three times (same delivery id) at random moments within a few seconds — so some arrive after
    later ones — and never sends `drop_rate` of them. With `passthrough`, sends each once, in order
    (a seat for another fault's `on_delivery` hook)."""

    name: str = "webhooks"
    seed: int = 0
    drop_rate: float = 0.05
    copies: int = 3
    spread_s: float = 3.0
    passthrough: bool = False
    hook: Any = None
    delivered: int = 0
    dropped: int = 0
    sent: int = 0
    reordered: int = 0

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Condition()
        self._due: list[tuple[float, int, bytes, dict[str, str]]] = []
        self._order = 0
        self._last_sent_order = -1
        self._stopping = False

    def install(self, run: ChaosRun) -> None:
        self._run = run
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        threading.Thread(target=self._server.serve_forever, name="chaos-proxy", daemon=True).start()
        self._sender = threading.Thread(target=self._send_loop, name="chaos-proxy-send", daemon=True)
        self._sender.start()
        secret = run.session.settings.webhook_secret
        assert secret is not None
        run.session.hub.set_app_webhook(
            f"http://127.0.0.1:{self._server.server_port}/webhook", secret.get_secret_value()
        )

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data()
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith("x-") or k == "Content-Type"}
        event = request.headers.get("X-GitHub-Event", "")
        if self.passthrough:
            self._forward_now(event, body, headers)
            return Response("ok", status=200)(environ, start_response)
        with self._lock:
            self.delivered += 1
            order, self._order = self._order, self._order + 1
            if self._random.random() < self.drop_rate:
                self.dropped += 1
                self.note(f"dropped {event} {request.headers.get('X-GitHub-Delivery')}")
            else:
                now = time.monotonic()
                for _ in range(self.copies):
                    self._due.append((now + self._random.uniform(0, self.spread_s), order, body, headers))
            self._lock.notify_all()
        return Response("queued", status=202)(environ, start_response)

    def _forward_now(self, event: str, body: bytes, headers: dict[str, str]) -> None:
        payload = json.loads(body or b"{}")

        def forward() -> None:
            self._post(body, headers)

        if self.hook is not None and self.hook(self._run, event, payload, forward):
            return
        forward()

    def _post(self, body: bytes, headers: dict[str, str]) -> None:
        try:
            requests.post(self._run.webhook_url(), data=body, headers=headers, timeout=10)
            self.sent += 1
        except requests.ConnectionError:
            pass  # as on GitHub, a delivery that failed is not sent again

    def _send_loop(self) -> None:
        while True:
            with self._lock:
                while not self._stopping and (not self._due or min(self._due)[0] > time.monotonic()):
                    wait = min(self._due)[0] - time.monotonic() if self._due else 1.0
                    self._lock.wait(timeout=max(0.01, wait))
                if self._stopping and not self._due:
                    return
                item = min(self._due)
                self._due.remove(item)
                _due, order, body, headers = item
                if order < self._last_sent_order:
                    self.reordered += 1
                self._last_sent_order = max(self._last_sent_order, order)
            self._post(body, headers)

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every copy due has been sent."""
        wait_for(lambda: not self._due, timeout=timeout, what="the proxy's pending copies sent")

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        self._sender.join(timeout=30)
        self._server.shutdown()

    def counts(self) -> dict[str, int]:
        return {
            "injected": self.dropped + (self.copies - 1) * (self.delivered - self.dropped),
            "deliveries": self.delivered,
            "dropped": self.dropped,
            "copies_sent": self.sent,
            "out_of_order": self.reordered,
        }


# -- (d) forge faults, (e) model faults: configured at start, counted at the end ---------------
@dataclass
class ForgeFaults(Fault):
    name: str = "forge"
    rate: float = 0.10
    after_share: float = 0.5

    def counts(self) -> dict[str, int]:
        return {
            "injected": self.injected_before + self.injected_after,
            "before": self.injected_before,
            "after": self.injected_after,
        }

    injected_before: int = 0
    injected_after: int = 0


@dataclass
class ModelFaults(Fault):
    name: str = "model"
    rate: float = 0.10
    by_kind: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {"injected": sum(self.by_kind.values()), **self.by_kind}


# -- (f) the web process restarted ---------------------------------------------------------
@dataclass
class RestartWeb(Ticker):
    """Every `every_s`, the webhook app goes down for `down_s` (deliveries meanwhile fail and are not
    resent, as on GitHub) and comes back on the same port."""

    name: str = "restart-web"
    every_s: float = 8.0
    down_s: float = 1.5

    def tick(self, run: ChaosRun) -> None:
        run.restart_web(self.down_s)
        self.note("web process restarted")


def make_fault(name: str, seed: int) -> Fault:
    faults: dict[str, Callable[[], Fault]] = {
        "none": Fault,
        "kill-workers": lambda: KillWorkers(seed=seed),
        "restart-redis": RestartRedis,
        "webhooks": lambda: WebhookProxy(seed=seed),
        "forge": ForgeFaults,
        "model": ModelFaults,
        "restart-web": RestartWeb,
    }
    return faults[name]()
