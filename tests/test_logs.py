"""One log format per kind of process: JSON lines for the services, with the job or delivery they are
about; timestamped human lines for local mode; the level in any case, a bad one a one-line error."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask

from bot import logs
from bot.cli import main
from bot.queue.executors import InlineExecutor, RQExecutor
from bot.queue.kinds import JobRequest
from bot.queue.runs import KIND_META
from bot.runtime import Runtime
from bot.settings import Settings
from tests.support.git_repos import make_repo
from tests.support.localhub import LocalhubHandle

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def json_logs() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    handler = logs.configure("json", "INFO")
    yield
    root.removeHandler(handler)
    root.setLevel(level)


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.mark.parametrize(
    ("given", "level"),
    [("info", "INFO"), ("INFO", "INFO"), ("Debug", "DEBUG"), (" warning ", "WARNING"), ("warn", "WARNING")],
)
def test_the_log_level_is_read_in_any_case(given: str, level: str) -> None:
    assert Settings.from_env({"ORCHESTRA_LOG_LEVEL": given}).log_level == level


def test_a_bad_log_level_or_format_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ORCHESTRA_LOG_LEVEL", "loud")
    assert main(["worker", "--burst"]) == 2
    assert capsys.readouterr().err == (
        "orchestra: ORCHESTRA_LOG_LEVEL: 'loud' is not a log level; use one of debug, "
        "info, warning, error, critical (any case)\n"
    )
    monkeypatch.setenv("ORCHESTRA_LOG_LEVEL", "info")
    monkeypatch.setenv("ORCHESTRA_LOG_FORMAT", "xml")
    monkeypatch.setenv("ORCHESTRA_REDIS_URL", "redis://127.0.0.1:1/0")  # were it to start: never the shared Redis
    assert main(["worker", "--burst"]) == 2
    assert capsys.readouterr().err == "orchestra: ORCHESTRA_LOG_FORMAT: 'xml' is not a log format; use json or human\n"


def test_a_jobs_lines_carry_its_id_kind_repository_and_goal(
    json_logs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    said = logging.getLogger("bot.test")

    def plan(rt: Runtime, repo: str, number: int, installation_id: int | None) -> None:
        said.info("planning %s", number)

    def implement(rt: Runtime, repo: str, number: int, installation_id: int | None) -> None:
        said.warning("working")

    rt = Runtime(Settings(), InlineExecutor(), jobs={"plan": plan, "implement": implement})
    rt.perform(JobRequest.make("plan", repo="octo/cat", number=3, installation_id=None))
    rt.perform(JobRequest.make("implement", repo="octo/cat", number=9, installation_id=None))
    said.info("between jobs")
    first, second, outside = _lines(capsys.readouterr().err)
    assert {k: first[k] for k in ("level", "logger", "message", "job_id", "job_kind", "repo", "goal")} == {
        "level": "info",
        "logger": "bot.test",
        "message": "planning 3",
        "job_id": "plan-octo_scat-3",
        "job_kind": "plan",
        "repo": "octo/cat",
        "goal": 3,
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["time"]) and first["pid"] == os.getpid()
    assert second["task"] == 9 and second["job_kind"] == "implement" and "goal" not in second
    assert "job_id" not in outside and outside["message"] == "between jobs"


def test_a_deliverys_lines_carry_its_id(json_logs: None, capsys: pytest.CaptureFixture[str]) -> None:
    app = Flask("t")
    with app.test_request_context("/webhook", method="POST", headers={"X-GitHub-Delivery": "d-42"}):
        logging.getLogger("webhooks.app").warning("queue unavailable")
    [line] = _lines(capsys.readouterr().err)
    assert line["delivery_id"] == "d-42" and line["logger"] == "webhooks.app" and line["level"] == "warning"


def test_an_exception_stays_in_its_line(json_logs: None, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("bot.test").exception("failed")
    [line] = _lines(capsys.readouterr().err)
    assert line["message"] == "failed" and "ValueError: boom" in line["exception"]


def test_human_lines_have_a_timestamp(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    level = root.level
    handler = logs.configure("human", "debug".upper())
    try:
        logging.getLogger("bot.local").debug("hello")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} DEBUG MainThread bot.local: hello\n", capsys.readouterr().err
    )


def test_the_kind_key_is_the_one_the_queue_writes() -> None:
    assert logs.KIND_META == KIND_META


@pytest.mark.timeout(120)
def test_the_worker_logs_json_with_the_job_at_level_info(
    redis_conn: redis.Redis, redis_url: str, localhub: LocalhubHandle, tmp_path: Path
) -> None:
    """`orchestra worker` with ORCHESTRA_LOG_LEVEL=info (lower case used to crash it): every line is
    JSON, and the job's own line names its job id, kind and repository."""
    localhub.add_user("acme")
    token = localhub.add_user("orchestra-bot")
    localhub.import_repo(make_repo(tmp_path / "app", {"a.txt": "a\n"}), "acme/app")
    job = JobRequest.make("scan_conflicts", repo="acme/app", base_sha="f00d", installation_id=None)
    RQExecutor(redis_conn).submit(job)
    (tmp_path / "home").mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ROOT),
        "ORCHESTRA_REDIS_URL": redis_url,
        "ORCHESTRA_TOKEN": token,
        "ORCHESTRA_API_URL": localhub.api_url,
        "ORCHESTRA_SERVER_URL": localhub.url,
        "ORCHESTRA_BOT_LOGIN": "orchestra-bot",
        "ORCHESTRA_STATE_DIR": str(tmp_path / "state"),
        "ORCHESTRA_LOG_LEVEL": "info",
        "ORCHESTRA_SANDBOX": "best-effort",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "worker", "--processes", "1", "--burst"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stderr.strip().splitlines()
    parsed = [json.loads(line) for line in lines]  # every line is one JSON object (no traceback between)
    assert {line["level"] for line in parsed} <= {"info", "warning"}
    [own] = [line for line in parsed if line["message"].startswith("scan_conflicts on acme/app")]
    assert own["job_id"] == job.job_id == "scan_conflicts-acme_sapp-f00d"
    assert own["job_kind"] == "scan_conflicts" and own["repo"] == "acme/app" and own["logger"] == "bot.jobs"
    assert any(line["logger"].startswith("rq.") for line in parsed)  # RQ's own lines in the same format
