"""Every GitHub example payload of the handled events, delivered signed to the app with real RQ:
2xx and exactly the jobs the answer names (none for the examples as published; the expected
kind once an example is made orchestra-shaped)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient
from rq.job import Job

from bot.queue import RQExecutor
from bot.settings import Settings
from tests.support.schemas import webhook_examples
from tests.support.webhook_delivery import SECRET, deliver, rq_job_ids
from webhooks.app import create_app
from webhooks.handlers import ROUTER

HANDLED = sorted(ROUTER.events)
CASES = [(event, index) for event in HANDLED for index in range(len(webhook_examples(event)))]


@pytest.fixture
def client(redis_conn: redis.Redis) -> Iterator[FlaskClient]:
    settings = Settings(webhook_secret=SECRET, app_id="4242")
    yield create_app(settings, executor=RQExecutor(redis_conn)).test_client()


def test_the_app_listens_to_the_events_of_the_issue() -> None:
    assert set(HANDLED) == {
        "issues",
        "issue_comment",
        "pull_request",
        "pull_request_review",
        "pull_request_review_comment",
        "push",
        "check_suite",
        "check_run",
        "status",
        "merge_group",
    }


def _as_published_expectation(event: str, payload: dict[str, Any]) -> list[str]:
    # The published examples carry no orchestra label, branch or command; only a push to the
    # default branch and a green check on it (which may release a held merge queue) concern the bot.
    repo = payload["repository"]
    default = repo["default_branch"]
    if event == "push" and payload["ref"] == f"refs/heads/{default}" and set(payload["after"]) != {"0"}:
        return ["scan_conflicts"]
    if event in ("check_suite", "check_run") and payload.get("action") == "completed":
        suite = payload[event] if event == "check_suite" else payload["check_run"]["check_suite"]
        conclusion = payload[event].get("conclusion")
        return ["land"] if suite.get("head_branch") == default and conclusion == "success" else []
    if event == "status" and payload.get("state") == "success" and default in [b["name"] for b in payload["branches"]]:
        return ["land"]
    return []


@pytest.mark.parametrize(("event", "index"), CASES, ids=[f"{e}-{i}" for e, i in CASES])
def test_published_example_is_acknowledged_with_exactly_the_named_jobs(
    client: FlaskClient, redis_conn: redis.Redis, event: str, index: int
) -> None:
    payload = webhook_examples(event)[index]
    response = deliver(client, event, payload)
    expected = _as_published_expectation(event, payload)
    if expected:
        assert response.status_code == 202
        assert [j["kind"] for j in response.json["jobs"]] == expected
        assert rq_job_ids(redis_conn) == sorted(j["id"] for j in response.json["jobs"])
    else:
        assert response.status_code == 204, response.data
        assert rq_job_ids(redis_conn) == []


def _first(event: str, action: str | None = None) -> dict[str, Any]:
    return next(e for e in webhook_examples(event) if action is None or e.get("action") == action)


def _orchestra_pr(payload: dict[str, Any], branch: str = "orchestra/5-add-login") -> dict[str, Any]:
    payload["pull_request"]["head"]["ref"] = branch
    return payload


def _goal_opened() -> dict:
    p = _first("issues", "opened")
    p["issue"]["labels"] = [{"name": "orchestra:goal"}]
    return p


def _goal_labeled() -> dict:
    p = _first("issues", "labeled")
    p["label"]["name"] = "orchestra:goal"
    p["issue"]["state"] = "open"
    return p


def _task_closed() -> dict:
    p = _first("issues", "opened")
    p["action"] = "closed"
    p["issue"]["state"] = "closed"
    p["issue"]["labels"] = [{"name": "orchestra:task"}]
    return p


def _task_reopened() -> dict:
    p = _task_closed()
    p["action"], p["issue"]["state"] = "reopened", "open"
    return p


def _goal_resumed_by_hand() -> dict:
    p = _first("issues", "labeled")
    p["action"] = "unlabeled"
    p["label"]["name"] = "acme-bot:paused"
    p["issue"]["labels"] = [{"name": "acme-bot:goal"}]
    return p


def _command() -> dict:
    p = _first("issue_comment", "created")
    p["comment"]["body"] = "Thanks!\n/orchestra replan split the API work\nand keep the docs"
    return p


def _merged() -> dict:
    p = _orchestra_pr(_first("pull_request", "closed"))
    p["pull_request"]["merged"] = True
    return p


def _closed_unmerged() -> dict:
    p = _orchestra_pr(_first("pull_request", "closed"))
    p["pull_request"]["merged"] = False
    return p


def _changes_requested() -> dict:
    p = _orchestra_pr(_first("pull_request_review", "submitted"))
    p["review"]["state"] = "changes_requested"
    return p


def _review_comment() -> dict:
    return _orchestra_pr(_first("pull_request_review_comment", "created"))


def _suite(conclusion: str) -> Callable[[], dict]:
    def make() -> dict:
        p = _first("check_suite", "completed")
        p["check_suite"].update(conclusion=conclusion, head_branch="orchestra/5-add-login")
        return p

    return make


def _run_failed() -> dict:
    p = _first("check_run", "completed")
    p["check_run"]["conclusion"] = "failure"
    p["check_run"]["check_suite"]["head_branch"] = "orchestra/5-add-login"
    return p


def _status_failed() -> dict:
    p = _first("status")
    p.update(state="failure", branches=[{"name": "orchestra/5-add-login", "commit": {"sha": p["sha"]}}])
    return p


def _queue_suite() -> dict:
    p = _first("check_suite", "completed")
    p["check_suite"].update(conclusion="failure", head_branch="orchestra/queue/main")
    return p


def _queue_status() -> dict:
    p = _first("status")
    p.update(state="success", branches=[{"name": "orchestra/queue/master", "commit": {"sha": p["sha"]}}])
    return p


def _group_destroyed(reason: str) -> Callable[[], dict]:
    def make() -> dict:
        p = _first("merge_group")
        p.update(action="destroyed", reason=reason)
        return p

    make.__name__ = f"_group_{reason}"
    return make


def _push_elsewhere() -> dict:
    p = _first("push")
    p["ref"] = "refs/heads/orchestra/5-add-login"
    return p


SHAPED = [
    ("issues", _goal_opened, ["plan"]),
    ("issues", _goal_labeled, ["plan"]),
    # A closed task frees its slot: the repository's dispatch runs whatever the goal's job does.
    ("issues", _task_closed, ["on_task_closed", "dispatch_repo"]),
    ("issues", _task_reopened, ["dispatch_repo"]),
    ("issues", _goal_resumed_by_hand, ["dispatch_repo"]),
    ("issue_comment", _command, ["command"]),
    ("pull_request", _merged, ["on_task_closed"]),
    ("pull_request", _closed_unmerged, []),
    ("pull_request", lambda: _orchestra_pr(_first("pull_request", "synchronize")), []),
    ("pull_request", lambda: _orchestra_pr(_first("pull_request", "opened")), []),
    ("pull_request_review", _changes_requested, ["address_review"]),
    ("pull_request_review_comment", _review_comment, ["address_review"]),
    ("check_suite", _suite("failure"), ["fix_ci"]),
    ("check_suite", _suite("success"), ["maybe_merge"]),
    ("check_suite", _suite("neutral"), []),
    ("check_run", _run_failed, ["fix_ci"]),
    ("status", _status_failed, ["fix_ci"]),
    ("push", _push_elsewhere, []),
    ("check_suite", _queue_suite, ["land"]),
    ("status", _queue_status, ["land"]),
    ("merge_group", _group_destroyed("dequeued"), ["fix_batch"]),
    ("merge_group", _group_destroyed("merged"), ["maybe_merge"]),
    ("merge_group", _group_destroyed("invalidated"), []),
]


@pytest.mark.parametrize(("event", "make", "kinds"), SHAPED, ids=[f"{e}-{m.__name__}-{k}" for e, m, k in SHAPED])
def test_orchestra_shaped_example_enqueues_the_expected_job(
    client: FlaskClient, redis_conn: redis.Redis, event: str, make: Callable[[], dict], kinds: list[str]
) -> None:
    payload = make()
    response = deliver(client, event, payload)
    if not kinds:
        assert response.status_code == 204
        assert rq_job_ids(redis_conn) == []
        return
    assert response.status_code == 202
    assert [j["kind"] for j in response.json["jobs"]] == kinds
    ids = [j["id"] for j in response.json["jobs"]]
    assert rq_job_ids(redis_conn) == sorted(ids)
    job = Job.fetch(ids[0], connection=redis_conn)
    assert job.kwargs["repo"] == payload["repository"]["full_name"]


def test_command_job_carries_verb_text_and_sender(client: FlaskClient, redis_conn: redis.Redis) -> None:
    payload = _command()
    response = deliver(client, "issue_comment", payload)
    job = Job.fetch(response.json["jobs"][0]["id"], connection=redis_conn)
    assert job.meta["orchestra_kind"] == "command"
    assert job.kwargs["verb"] == "replan"
    assert job.kwargs["text"] == "split the API work\nand keep the docs"
    assert job.kwargs["sender"] == payload["sender"]["login"]
    assert job.origin == "urgent"


def test_a_dequeued_merge_group_sends_its_pr_back_with_the_group_head(
    client: FlaskClient, redis_conn: redis.Redis
) -> None:
    payload = _group_destroyed("dequeued")()
    response = deliver(client, "merge_group", payload)
    job = Job.fetch(response.json["jobs"][0]["id"], connection=redis_conn)
    group = payload["merge_group"]
    assert job.kwargs["pr"] == 104 and job.kwargs["head_sha"] == group["head_ref"].rsplit("-", 1)[1]
    assert job.kwargs["batch_sha"] == group["head_sha"] and job.kwargs["base_sha"] == group["base_sha"]


def test_merged_pr_closes_the_task_named_by_its_branch(client: FlaskClient, redis_conn: redis.Redis) -> None:
    response = deliver(client, "pull_request", _merged())
    assert Job.fetch(response.json["jobs"][0]["id"], connection=redis_conn).kwargs["number"] == 5
