"""A repository with its own `label_prefix` gets its goals planned and its closed tasks followed up:
the web process (which cannot read the repository's config) routes any `<prefix>:goal` label, and the
job checks the repository's own prefix. Found in wave 2: goals labelled `acme:goal` were never routed."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from werkzeug.serving import make_server

from bot.queue import RQExecutor
from bot.settings import Settings
from tests.support.localhub import LocalhubHandle
from tests.support.webhook_delivery import SECRET, rq_job_ids
from webhooks.app import create_app


@pytest.fixture
def app_url(redis_conn: redis.Redis) -> Iterator[str]:
    settings = Settings(webhook_secret=SECRET, bot_login="orchestra-bot")
    server = make_server("127.0.0.1", 0, create_app(settings, executor=RQExecutor(redis_conn)), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/webhook"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_a_custom_label_prefix_routes_goals_and_closed_tasks(
    localhub: LocalhubHandle,
    app_url: str,
    redis_conn: redis.Redis,
    git_repo_factory: Callable[..., Path],
) -> None:
    localhub.add_user("octo")
    files = {"README.md": "# cat\n", ".github/orchestra.yml": "label_prefix: acme\n"}
    localhub.import_repo(git_repo_factory(files), "octo/cat")
    localhub.set_app_webhook(app_url, SECRET)
    repo = localhub.github("octo").get_repo("octo/cat")
    repo.create_label("acme:goal", "5319e7")
    repo.create_label("acme:task", "1d76db")

    goal = repo.create_issue("Add a login page", "Users need to log in.", labels=["acme:goal"])
    localhub.drain()
    assert rq_job_ids(redis_conn) == [f"plan-octo_scat-{goal.number}"]

    task = repo.create_issue("Login form", "The form.", labels=["acme:task"])
    task.edit(state="closed")
    localhub.drain()
    assert f"on_task_closed-octo_scat-{task.number}" in rq_job_ids(redis_conn)

    plain = repo.create_issue("Not a goal", "Just an issue.", labels=[])
    plain.edit(state="closed")
    localhub.drain()
    assert not [jid for jid in rq_job_ids(redis_conn) if jid.endswith(f"-{plain.number}")]
