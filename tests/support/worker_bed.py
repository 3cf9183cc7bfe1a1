"""The worker test bed: localhub with a repo and CI, the webhook app in-process on RQ, worker processes,
and the model stand-in answering per task from scripts keyed by the task number in the prompt.

The `bed` fixture (a `Bed`, torn down after each test) is used by tests/worker/ through its conftest.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from werkzeug.serving import make_server

from bot import repofiles
from bot.forge.client import Forge
from bot.forge.retry import RetryPolicy
from bot.git import Identity, Mirror
from bot.ledger import labels
from bot.ledger.taskbody import TaskSpec, render_task_body
from bot.queue.executors import RQExecutor
from bot.reconcile import ReconcileReport, reconcile
from bot.repoconfig import RepoConfig
from bot.settings import Role, RoleModels, Settings
from bot.worker.session import WorkerContext
from tests.support.git_repos import make_repo
from tests.support.model_server import ModelServer, Turn
from webhooks.app import create_app

REPO = "acme/app"
BOT = "orchestra-bot"
CI_SCRIPT = """#!/bin/sh
# Fails on any file under items/ that says BROKEN, on a test under expect/ that disagrees with
# value.txt (each states the value it builds on), or on conflict markers anywhere.
status=0
for f in items/*.txt; do
  [ -f "$f" ] || continue
  if grep -q BROKEN "$f"; then echo "$f: found BROKEN (ci-marker-7f3a)"; status=1; fi
done
for f in expect/*.txt; do
  [ -f "$f" ] || continue
  if [ "$(cat "$f")" != "$(cat value.txt)" ]; then
    echo "$f: expects $(cat "$f") but value.txt holds $(cat value.txt) (ci-marker-9b1c)"; status=1
  fi
done
if grep -rnE '^(<<<<<<<|>>>>>>>)' --include='*.ini' --include='*.txt' . ; then echo "conflict markers"; status=1; fi
echo "ci checked $(ls items | wc -l) items"
exit $status
"""
CONFIG = """merge:
  policy: auto
  method: squash
max_ci_fix_attempts: 2
max_conflict_attempts: 2
agent:
  max_steps: 12
  command_timeout_s: 60
"""
#: A step of a script: (role, step index, request body) → the stand-in's reply.
Script = Callable[[str, int, dict[str, Any]], Turn]
ROLES = {
    "You are the engineer solely responsible": "worker",
    "You resolve the merge of": "conflict",
    "CI fails on PR": "ci_fix",
    "A reviewer asked for changes": "review",
}


def role_of(system: str) -> str:
    return next((role for prefix, role in ROLES.items() if system.startswith(prefix)), "unknown")


def steps(*turns: Turn | Callable[[dict[str, Any]], Turn]) -> Callable[[int, dict[str, Any]], Turn]:
    """A fixed sequence of turns (a callable turn is built from the request); past the end: finish."""

    def pick(step: int, body: dict[str, Any]) -> Turn:
        if step >= len(turns):
            return finish("done")
        turn = turns[step]
        return turn(body) if callable(turn) else turn

    return pick


def write(path: str, content: str) -> Turn:
    return Turn(tool_calls=[("write_file", {"path": path, "content": content})])


def finish(summary: str) -> Turn:
    return Turn(tool_calls=[("finish", {"status": "done", "summary": summary, "notes": ["verified by the harness"]})])


@dataclass
class Bed:
    """One test's world (see the module docstring)."""

    root: Path
    hub: Any
    model: ModelServer
    redis_url: str
    conn: redis.Redis
    owner_token: str
    bot_token: str
    state_dir: Path
    scripts: dict[tuple[int, str], Callable[[int, dict[str, Any]], Turn]] = field(default_factory=dict)
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    goal: int = 0
    _server: Any = None

    # -- the forge ---------------------------------------------------------------------------
    def forge(self) -> Forge:
        from github import Auth

        return Forge(
            REPO,
            Auth.Token(self.bot_token),
            api_url=self.hub.api_url,
            server_url=self.hub.url,
            bot_login=BOT,
            policy=RetryPolicy(write_spacing_s=0),
        )

    def owner_forge(self) -> Forge:
        """The owner's view, for a test's own polling (so the bot's calls can be counted apart)."""
        from github import Auth

        return Forge(
            REPO,
            Auth.Token(self.owner_token),
            api_url=self.hub.api_url,
            server_url=self.hub.url,
            bot_login=BOT,
            policy=RetryPolicy(write_spacing_s=0),
        )

    def rest_calls(self, login: str = BOT) -> int:
        """REST calls localhub metered for `login`'s token so far."""
        row = self.hub.hub.store.get(
            "SELECT t.label FROM tokens t JOIN users u ON u.id = t.user_id WHERE u.login=?", (login,)
        )
        return int(self.hub.metrics()["rest"]["by_token"].get(row["label"], 0))

    def owner_repo(self) -> Any:
        return self.hub.github("acme").get_repo(REPO)

    def add_task(self, title: str, acceptance: list[str], owned: list[str]) -> int:
        spec = TaskSpec(
            goal=self.goal,
            key=re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40],
            title=title,
            objective=f"{title}.",
            owned_paths=owned,
            acceptance_commands=acceptance,
        )
        issue = self.owner_repo().create_issue(
            title, body=render_task_body(spec), labels=["orchestra:task", "orchestra:ready"]
        )
        return int(issue.number)

    def reconcile(self) -> ReconcileReport:
        forge = self.forge()
        return reconcile(forge, repofiles.read_config(forge), RQExecutor(self.conn))

    # -- in-process jobs ---------------------------------------------------------------------
    def model_env(self) -> dict[str, str]:
        return {"OPENAI_API_KEY": "sk-test-stand-in", "OPENAI_BASE_URL": self.model.openai_base_url}

    def context(self, executor: Any, config: RepoConfig | None = None) -> WorkerContext:
        """Collaborators for calling a worker core function in this process."""
        from bot.llm.factory import make_model

        forge = self.forge()
        model = make_model("openai:gpt-stand-in", env=self.model_env())
        config = config or repofiles.read_config(forge)
        mirror = Mirror.of(
            forge, self.state_dir, Identity("Orchestra Bot", "bot@example.com"), union_paths=config.merge.union_paths
        )
        return WorkerContext(
            repo=REPO,
            forge=forge,
            config=config,
            settings=Settings(state_dir=self.state_dir, bot_login=BOT),
            executor=executor,
            mirror=mirror,
            model_for=lambda role: model,
        )

    def install_runtime(self, executor: Any) -> Any:
        """Make the job entry points (`bot/jobs.py`) run in this process against this bed."""
        from bot import jobs, runtime

        return runtime.install(
            runtime.Runtime(
                settings=Settings(
                    state_dir=self.state_dir,
                    bot_login=BOT,
                    token=self.bot_token,
                    api_url=self.hub.api_url,
                    server_url=self.hub.url,
                    models=RoleModels(**{r.value: "openai:gpt-stand-in" for r in Role}),
                ),
                executor=executor,
                jobs=jobs.FUNCTIONS,
                forge_factory=lambda repo, inst: self.forge(),
                model_env=self.model_env(),
            )
        )

    # -- the model ---------------------------------------------------------------------------
    def script(self, task: int, role: str, pick: Callable[[int, dict[str, Any]], Turn]) -> None:
        self.scripts[(task, role)] = pick

    def _policy(self, body: dict[str, Any], provider: str) -> Turn:
        messages = body.get("messages") or []
        system = str(messages[0].get("content") or "") if messages else ""
        found = re.search(r"task #(\d+)", system)
        key = (int(found.group(1)) if found else 0, role_of(system))
        step = sum(1 for m in messages if m.get("role") == "assistant")
        pick = self.scripts.get(key)
        if pick is None:
            return Turn(tool_calls=[("finish", {"status": "blocked", "summary": f"no script for {key}"})])
        return pick(step, body)

    def prompts(self, role: str) -> list[str]:
        """The system prompts the stand-in received for `role`."""
        out = []
        for request in self.model.requests:
            messages = request.body.get("messages") or []
            system = str(messages[0].get("content") or "") if messages else ""
            if role_of(system) == role and system not in out:
                out.append(system)
        return out

    # -- processes ---------------------------------------------------------------------------
    def worker_env(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.root / "home"),
            "LANG": "C.UTF-8",
            "REDIS_URL": self.redis_url,
            "ORCHESTRA_API_URL": self.hub.api_url,
            "ORCHESTRA_SERVER_URL": self.hub.url,
            "ORCHESTRA_TOKEN": self.bot_token,
            "ORCHESTRA_BOT_LOGIN": BOT,
            "ORCHESTRA_STATE_DIR": str(self.state_dir),
            "ORCHESTRA_MODEL": "openai:gpt-stand-in",
            "OPENAI_BASE_URL": self.model.openai_base_url,
            "OPENAI_API_KEY": "sk-test-stand-in",
            "ORCHESTRA_LOG_LEVEL": "INFO",
            "ORCHESTRA_WRITE_SPACING_S": "0",  # localhub has no secondary rate limits to respect
            "PYTHONUNBUFFERED": "1",
            "ORCHESTRA_SANDBOX": os.environ.get("ORCHESTRA_SANDBOX", "best-effort"),  # as tests/conftest.py
        }

    def start_workers(self, n: int) -> None:
        (self.root / "home").mkdir(exist_ok=True)
        for index in range(len(self.workers), len(self.workers) + n):
            name = f"w{index}-{os.getpid()}"
            log = (self.root / f"{name}.log").open("wb")
            self.workers[name] = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "rq.cli",
                    "worker",
                    "-w",
                    "bot.modes.server.ServerWorker",
                    "-n",
                    name,
                    "--url",
                    self.redis_url,
                    "--job-monitoring-interval",
                    "1",
                    "--maintenance-interval",
                    "1",
                    "--with-scheduler",
                    "urgent",
                    "default",
                    "implement",
                ],
                env=self.worker_env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
            )

    def start_pool(self, n: int, *flags: str) -> None:
        """`orchestra worker --processes N [flags]`: the shipped entry point (an RQ worker pool)."""
        (self.root / "home").mkdir(exist_ok=True)
        log = (self.root / "wpool.log").open("wb")
        self.workers["pool"] = subprocess.Popen(
            [sys.executable, "-m", "bot", "worker", "--processes", str(n), *flags],
            env=self.worker_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.root,
        )

    def kill_worker(self, name: str) -> None:
        """SIGKILL a worker process and its work horse (the horse runs in its own process group)."""
        proc = self.workers[name]
        children = [pid for pid in _all_pids() if _ppid(pid) == proc.pid]
        for pid in [proc.pid, *children]:
            os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.root.glob("w*.log")))

    def stop(self) -> None:
        for proc in self.workers.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if self._server is not None:
            self._server.shutdown()
        from bot import runtime

        runtime.reset()

    def serve_webhooks(self, secret: str) -> None:
        settings = Settings(webhook_secret=secret, bot_login=BOT, redis_url=self.redis_url)
        app = create_app(settings, executor=RQExecutor(self.conn))
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access line per delivery is noise here
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.hub.set_app_webhook(f"http://127.0.0.1:{self._server.server_port}/webhook", secret)

    def stop_webhooks(self) -> None:
        """Cut the path from the forge to the app, then wait until every delivery already on its way is
        answered: from then on no event enqueues a job behind the test's back (however late the
        forge emits it), and what the app had enqueued is in Redis."""
        self.hub.hub.events.app_webhook = None  # new events have no App target
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()  # a delivery sent now is refused at once, not left hanging
            self._server = None
        self.hub.drain(30)

    # -- leaks -------------------------------------------------------------------------------
    def leak_report(self) -> list[str]:
        """Where a token appears: files under the state dir, worker logs, requests to the model."""
        tokens = {self.bot_token, self.owner_token}
        found = []
        for path in [*self.state_dir.rglob("*"), *self.root.glob("w*.log")]:
            if path.is_file():
                data = path.read_bytes()
                found += [f"{path}" for s in tokens if s.encode() in data]
        bodies = json.dumps([r.body for r in self.model.requests])
        found += ["model request" for s in tokens if s in bodies]
        return found


def _all_pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def make_bed(root: Path, hub: Any, model: ModelServer, redis_url: str, conn: redis.Redis) -> Bed:
    """Users, the repo with its CI and config, the bot as collaborator, labels, a goal, the stand-in's policy."""
    owner_token = hub.add_user("acme")
    bot_token = hub.add_user(BOT)
    source = make_repo(
        root / "source",
        {
            "README.md": "# app\n",
            "config.ini": "[app]\nname = demo\nsize = 1\n",
            "ci.sh": CI_SCRIPT,
            "items/base.txt": "base\n",
            "value.txt": "1\n",
            "expect/base.txt": "1\n",
            "CHANGES.md": "# Changes\n",
            ".github/orchestra.yml": CONFIG,
        },
    )
    hub.import_repo(source, REPO, ci="sh ci.sh")
    bed = Bed(
        root=root,
        hub=hub,
        model=model,
        redis_url=redis_url,
        conn=conn,
        owner_token=owner_token,
        bot_token=bot_token,
        state_dir=root / "state",
    )
    bed.owner_repo().add_to_collaborators(BOT, "push")
    labels.ensure(bed.forge(), RepoConfig())
    bed.goal = int(bed.owner_repo().create_issue("Goal: items", labels=["orchestra:goal"]).number)
    model.policy(bed._policy)
    return bed


class Recorder:
    """An executor that only records what was submitted (jobs run by hand in the test)."""

    def __init__(self) -> None:
        self.submitted: list[Any] = []

    def submit(self, job: Any) -> Any:
        from bot.queue.kinds import SubmitResult

        self.submitted.append(job)
        return SubmitResult(job.job_id, job.kind, new=True)

    def kinds(self) -> list[str]:
        return [job.kind for job in self.submitted]


def wait_checks(bed: Bed, sha: str, state: str, timeout: float = 90) -> None:
    """Wait until localhub's CI has concluded `state` on `sha`."""
    from tests.support.waiting import wait_for

    wait_for(lambda: bed.forge().check_state(sha).state == state, timeout=timeout, what=f"checks {state} on {sha[:8]}")


@pytest.fixture
def bed(
    tmp_path: Path, localhub, model_server, redis_url, redis_conn, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Bed]:
    """The worker's world (`make_bed`) with the webhook app serving localhub's deliveries."""
    # RQ retries a lapsed job after RETRY_INTERVALS; no test waits 30 s for that.
    monkeypatch.setattr("bot.queue.executors.RETRY_INTERVALS", [0, 0, 0])
    world = make_bed(tmp_path, localhub, model_server, redis_url, redis_conn)
    world.serve_webhooks(secrets.token_hex(16))
    try:
        yield world
    finally:
        world.stop()
