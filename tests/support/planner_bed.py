"""The planner's test bed: a shop repo on localhub, a bot user, a writer and a reader, and a runtime on RQ."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from pydantic import SecretStr
from rq import Queue, SimpleWorker
from rq.registry import FailedJobRegistry

from bot import jobs, repofiles, runtime
from bot.forge.auth import forge_for
from bot.forge.client import Forge
from bot.forge.retry import RetryPolicy
from bot.ledger import labels
from bot.planner.context import Planner
from bot.queue.executors import RQExecutor
from bot.queue.kinds import JobRequest
from bot.settings import Budget, RoleModels, Settings
from tests.support.localhub import LocalhubHandle
from tests.support.model_server import ModelServer

REPO = "acme/shop"
BOT = "orchestra-bot"
FILES = {
    "README.md": "# shop\n\nA tiny shop.\n",
    "pyproject.toml": "[project]\nname = 'shop'\n",
    "shop/__init__.py": "",
    "shop/cart.py": "class Cart:\n    def total(self):\n        return 0\n",
    "tests/test_cart.py": "from shop.cart import Cart\n\ndef test_total():\n    assert Cart().total() == 0\n",
    ".github/orchestra.yml": "max_parallel_tasks: 10\n",
}


@dataclass
class Bed:
    """Everything a planner test touches."""

    hub: LocalhubHandle
    settings: Settings
    executor: RQExecutor
    conn: redis.Redis
    tmp: Path

    def forge(self) -> Forge:
        return forge_for(self.settings, REPO, None, policy=RetryPolicy(write_spacing_s=None, scale=0.001))

    def person(self, login: str = "acme") -> Any:
        return self.hub.github(login).get_repo(REPO)

    def goal(self, title: str = "Add a checkout", body: str = "Customers can pay for their cart.") -> int:
        issue = self.person().create_issue(title=title, body=body, labels=["orchestra:goal"])
        return int(issue.number)

    def submit(self, kind: str, number: int) -> None:
        self.executor.submit(JobRequest.make(kind, repo=REPO, number=number, installation_id=None))

    def work(self) -> None:
        """Run every queued planner job (and the jobs they enqueue) in this process; fail on a failed job."""
        queues = [Queue(name, connection=self.conn) for name in ("urgent", "default")]
        SimpleWorker(queues, connection=self.conn).work(burst=True)
        failed = FailedJobRegistry(queue=queues[1])
        problems = [
            f"{jid}: {queues[1].fetch_job(jid).latest_result().exc_string}"  # type: ignore[union-attr]
            for jid in failed.get_job_ids()
        ]
        assert not problems, "\n".join(problems)

    def implement_queue(self) -> list[int]:
        jobs = Queue("implement", connection=self.conn).get_jobs()
        return sorted(int(job.kwargs["number"]) for job in jobs)

    def planner(self, model: Callable[[], Any]) -> Planner:
        forge = self.forge()
        return Planner(
            forge=forge,
            config=repofiles.read_config(forge),
            executor=self.executor,
            model=model,
            state_dir=self.settings.state_dir,
            budget=Budget(max_steps=20),
        )


def grant(hub: LocalhubHandle, login: str, permission: str) -> None:
    """Make `login` a collaborator of the shop repo (`LocalhubHandle.grant`)."""
    hub.grant(REPO, login, permission)


@pytest.fixture
def bed(
    localhub: LocalhubHandle,
    redis_conn: redis.Redis,
    model_server: ModelServer,
    tmp_path: Path,
    git_repo_factory: Callable[..., Path],
) -> Iterator[Bed]:
    token = localhub.add_user(BOT)
    localhub.add_user("acme")
    localhub.add_user("writer")
    localhub.add_user("reader")
    localhub.import_repo(git_repo_factory(FILES, name="shop"), REPO)
    for login, permission in ((BOT, "write"), ("writer", "write"), ("reader", "read")):
        grant(localhub, login, permission)
    settings = Settings(
        token=SecretStr(token),
        api_url=localhub.api_url,
        server_url=localhub.url,
        bot_login=BOT,
        state_dir=tmp_path / "state",
        models=RoleModels(planner="openai:gpt-test"),
    )
    executor = RQExecutor(redis_conn)
    bed = Bed(localhub, settings, executor, redis_conn, tmp_path)
    labels.ensure(bed.forge(), repofiles.read_config(bed.forge()))
    runtime.install(
        runtime.Runtime(
            settings=settings,
            executor=executor,
            jobs=jobs.FUNCTIONS,
            forge_factory=lambda name, inst: forge_for(
                settings, name, inst, policy=RetryPolicy(write_spacing_s=None, scale=0.001)
            ),
            model_env={"OPENAI_BASE_URL": model_server.openai_base_url, "OPENAI_API_KEY": "test-key"},
        )
    )
    try:
        yield bed
    finally:
        runtime.reset()


def task(key: str, title: str, paths: list[str], deps: list[str] | None = None, kind: str = "task") -> dict[str, Any]:
    """A planned task as the model would submit it."""
    return {
        "key": key,
        "title": title,
        "objective": f"Do {title.lower()}.",
        "context_files": ["shop/cart.py"],
        "owned_paths": paths,
        "acceptance_commands": ["python -m pytest -q"],
        "depends_on": deps or [],
        "size": "s",
        "kind": kind,
    }


def system_text(body: dict[str, Any]) -> str:
    """The system prompt of an OpenAI chat request."""
    return str(body["messages"][0]["content"])


def tool_results(body: dict[str, Any]) -> list[str]:
    return [str(m.get("content")) for m in body["messages"] if m.get("role") == "tool"]


def arguments(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """Arguments of every call of tool `name` in the conversation so far."""
    found = []
    for message in body["messages"]:
        for call in message.get("tool_calls") or []:
            if call["function"]["name"] == name:
                found.append(json.loads(call["function"]["arguments"]))
    return found
