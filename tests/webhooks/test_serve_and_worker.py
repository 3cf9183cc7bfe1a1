"""`orchestra serve` is gunicorn (waitress workers) answering signed deliveries into RQ; `orchestra worker --burst` runs
jobs from the orchestra's queues — both as real processes on the private Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import redis
import requests
from rq import Queue

from tests.support import sample_jobs
from tests.support.localhub import LocalhubHandle
from tests.support.ports import free_port
from tests.support.waiting import wait_for
from tests.support.webhook_delivery import SECRET, rq_job_ids
from webhooks.signature import sign

ROOT = Path(__file__).resolve().parents[2]
ORCHESTRA = str(Path(sys.executable).with_name("orchestra"))


def _env(redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "ORCHESTRA_WEBHOOK_SECRET": SECRET,
        "ORCHESTRA_REDIS_URL": redis_url,
        "ORCHESTRA_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def test_serve_runs_gunicorn_and_enqueues(redis_conn: redis.Redis, redis_url: str, tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [ORCHESTRA, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=_env(redis_url),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            try:
                return requests.get(f"{base}/healthz", timeout=1).ok
            except requests.ConnectionError:
                return False

        wait_for(up, timeout=30, what="orchestra serve to answer /healthz")
        body = json.dumps(
            {
                "action": "opened",
                "issue": {"number": 3, "labels": [{"name": "orchestra:goal"}]},
                "repository": {"full_name": "octo/cat"},
                "sender": {"login": "ann"},
            }
        ).encode()
        response = requests.post(
            f"{base}/webhook",
            data=body,
            timeout=10,
            headers={
                "X-GitHub-Event": "issues",
                "X-GitHub-Delivery": "serve-1",
                "X-Hub-Signature-256": sign(SECRET.encode(), body),
            },
        )
        assert response.status_code == 202
        assert rq_job_ids(redis_conn) == ["plan-octo_scat-3"]
        assert response.headers["Server"] == "orchestra"  # waitress in a gunicorn worker, not Flask's own server
    finally:
        server.terminate()
        server.wait(timeout=15)


def test_serve_refuses_to_start_without_a_secret(redis_url: str) -> None:
    env = {k: v for k, v in _env(redis_url).items() if "WEBHOOK_SECRET" not in k}
    result = subprocess.run(
        [ORCHESTRA, "serve", "--port", str(free_port())], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "WEBHOOK_SECRET" in result.stderr


def test_worker_burst_runs_jobs_from_the_orchestra_queues(
    redis_conn: redis.Redis, redis_url: str, localhub: LocalhubHandle
) -> None:
    urgent = Queue("urgent", connection=redis_conn).enqueue(sample_jobs.add, 2, 3)
    later = Queue("implement", connection=redis_conn).enqueue(sample_jobs.add, 4, 5)
    # A worker checks its forge credentials before it starts (bot/doctor.py): a localhub token here.
    forge = {"ORCHESTRA_TOKEN": localhub.add_user("orchestra-bot"), "ORCHESTRA_API_URL": localhub.api_url}
    result = subprocess.run(
        [ORCHESTRA, "worker", "--processes", "1", "--burst"],
        env=_env(redis_url) | forge,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    urgent.refresh()
    later.refresh()
    assert urgent.return_value() == 5 and later.return_value() == 9
