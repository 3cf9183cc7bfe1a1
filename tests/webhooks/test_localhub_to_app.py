"""End to end: localhub's signed App webhooks reach the app over HTTP and become RQ jobs — a goal is
planned, a command becomes a command job, a redelivery (same delivery id) adds nothing, and the
bot's own comment wakes nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from werkzeug.serving import make_server

from bot.forge import RetryPolicy, forge_for
from bot.queue import RQExecutor
from bot.settings import Settings
from localhub.events import APP_HOOK_ID
from tests.support.localhub import LocalhubApp, LocalhubHandle
from tests.support.webhook_delivery import SECRET, rq_job_ids
from webhooks.app import create_app


@pytest.fixture
def app_url(redis_conn: redis.Redis) -> Iterator[str]:
    """The webhook app on a loopback port (a test-only server thread; production runs gunicorn)."""
    settings = Settings(webhook_secret=SECRET, app_id="4242", bot_login="orchestra[bot]")
    server = make_server("127.0.0.1", 0, create_app(settings, executor=RQExecutor(redis_conn)), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/webhook"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _status_codes(localhub: LocalhubHandle) -> dict[str, list[int]]:
    codes: dict[str, list[int]] = {}
    for row in reversed(localhub.hub.events.deliveries(APP_HOOK_ID)):
        codes.setdefault(f"{row['event']}.{row['action']}", []).append(row["status_code"])
    return codes


def test_localhub_deliveries_become_jobs_once(
    localhub: LocalhubHandle,
    localhub_app: LocalhubApp,
    app_url: str,
    redis_conn: redis.Redis,
    git_repo_factory: Callable[..., Path],
) -> None:
    localhub.add_user("octo")
    localhub.import_repo(git_repo_factory(), "octo/cat")
    localhub.set_app_webhook(app_url, SECRET)
    repo = localhub.github("octo").get_repo("octo/cat")
    repo.create_label("orchestra:goal", "5319e7")
    goal = repo.create_issue("Add a login page", "Users need to log in.", labels=["orchestra:goal"])
    localhub.drain()
    assert rq_job_ids(redis_conn) == [f"plan-octo_scat-{goal.number}"]

    # localhub sends `opened` (labels not yet in its payload) and `labeled`: the one that made
    # the job is redelivered with the same delivery id.
    enqueued = next(
        r for r in localhub.hub.events.deliveries(APP_HOOK_ID) if r["event"] == "issues" and r["status_code"] == 202
    )
    localhub.hub.events.redeliver(enqueued["id"])
    localhub.drain()
    assert rq_job_ids(redis_conn) == [f"plan-octo_scat-{goal.number}"]

    comment = goal.create_comment("/orchestra status")
    localhub.drain()
    assert f"command-octo_scat-{goal.number}-{comment.id}" in rq_job_ids(redis_conn)

    settings = Settings(
        app_id=str(localhub_app.app_id),
        private_key=localhub_app.private_key_pem,
        api_url=localhub.api_url,
        server_url=localhub.url,
    )
    bot = forge_for(settings, "octo/cat", localhub_app.installation_id, policy=RetryPolicy(write_spacing_s=None))
    bot.comment(goal.number, "/orchestra plan")
    localhub.drain()
    assert len(rq_job_ids(redis_conn)) == 2

    codes = _status_codes(localhub)
    assert codes[f"issues.{enqueued['action']}"] == [202, 200]  # the redelivery is recognised as a duplicate
    assert codes["issue_comment.created"] == [202, 204]  # the person's command; the bot's own comment
