"""Fault injection is deterministic by seed and spares git and /_localhub; metering counts REST
calls by route template and by token label (never the token); the hourly budget answers GitHub's 403."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from github import GithubException

from localhub.faults import SECONDARY_LIMIT, Faults
from tests.support.git_repos import git, make_repo


def _statuses(localhub, token: str, calls: int) -> list[int]:
    headers = {"Authorization": f"token {token}"}
    return [requests.get(f"{localhub.api_url}/user", headers=headers, timeout=10).status_code
            for _ in range(calls)]


def test_faults_are_deterministic_by_seed(localhub) -> None:
    token = localhub.add_user("alice")
    localhub.hub.faults = Faults(rate=0.3, seed=11)
    first = _statuses(localhub, token, 60)
    localhub.hub.faults = Faults(rate=0.3, seed=11)
    second = _statuses(localhub, token, 60)
    localhub.hub.faults = Faults(rate=0.3, seed=12)
    other = _statuses(localhub, token, 60)
    assert first == second
    assert first != other
    assert set(first) == {200, 403, 502}
    assert 8 <= sum(s != 200 for s in first) <= 30

    localhub.hub.faults = Faults(rate=1.0, seed=0)
    answers = [requests.get(f"{localhub.api_url}/user", headers={"Authorization": f"token {token}"}, timeout=10)
               for _ in range(20)]
    limited = [a for a in answers if a.status_code == 403]
    assert limited and all(a.json()["message"] == SECONDARY_LIMIT and a.headers["Retry-After"] for a in limited)
    assert all("X-RateLimit-Remaining" in a.headers for a in answers)
    assert {a.status_code for a in answers} == {403, 502}
    metrics = localhub.metrics()["rest"]
    every = first + second + other + [a.status_code for a in answers]
    assert list(metrics["by_token"].values()) == [len(every)]  # faulted calls count for the caller
    assert metrics["by_status"]["502"] == every.count(502)


def test_faults_spare_git_and_internal_endpoints(localhub, tmp_path: Path) -> None:
    localhub.add_user("alice")
    localhub.github("alice").get_user().create_repo("spared")
    localhub.hub.faults = Faults(rate=1.0, seed=3)
    work = make_repo(tmp_path / "work", {"a.txt": "a\n"})
    git(work, "push", localhub.git_url("alice/spared", "alice"), "main")
    assert localhub.metrics()["rest"]["total"] >= 1


def test_metering_counts_routes_and_tokens(localhub) -> None:
    alice = localhub.add_user("alice")
    bob = localhub.add_user("bob")
    repo = localhub.github("alice").get_user().create_repo("metered")
    repo.create_issue("one")
    repo.create_issue("two")
    localhub.github("bob").get_repo("alice/metered").get_issue(1)
    localhub.github("bob").get_repo("alice/metered").get_issue(2)
    metrics = localhub.metrics()
    routes = metrics["rest"]["by_route"]
    assert routes["POST /repos/{owner}/{name}/issues"] == 2
    assert routes["GET /repos/{owner}/{name}/issues/{number}"] == 2
    assert routes["GET /repos/{owner}/{name}"] == 2
    by_token = metrics["rest"]["by_token"]
    assert sorted(by_token.values()) == [3, 4]  # alice: create repo, 2 issues; bob: 2x(repo + issue)
    dump = json.dumps(metrics)
    assert alice not in dump and bob not in dump


def test_hourly_budget_answers_githubs_403(localhub) -> None:
    token = localhub.add_user("alice")
    localhub.hub.ratelimit.budget = 3
    headers = {"Authorization": f"token {token}"}
    answers = [requests.get(f"{localhub.api_url}/user", headers=headers, timeout=10) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 403]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert answers[0].headers["X-RateLimit-Limit"] == "3"
    assert int(answers[3].headers["X-RateLimit-Reset"]) > 0
    assert answers[3].json()["message"].startswith("API rate limit exceeded")
    limit = requests.get(f"{localhub.api_url}/rate_limit", headers=headers, timeout=10)
    assert limit.status_code == 200
    assert limit.json()["resources"]["core"]["remaining"] == 0
    assert limit.json()["rate"]["limit"] == 3


def test_conditional_requests_cost_nothing(localhub) -> None:
    token = localhub.add_user("alice")
    headers = {"Authorization": f"token {token}"}
    first = requests.get(f"{localhub.api_url}/user", headers=headers, timeout=10)
    etag = first.headers["ETag"]
    again = requests.get(f"{localhub.api_url}/user", headers={**headers, "If-None-Match": etag}, timeout=10)
    assert again.status_code == 304
    assert again.headers["X-RateLimit-Used"] == first.headers["X-RateLimit-Used"] == "1"


def test_pygithub_recognises_both_rate_limits(localhub) -> None:
    from github import RateLimitExceededException

    localhub.add_user("alice")
    gh = localhub.github("alice")
    localhub.hub.ratelimit.budget = 1
    gh.get_user("alice")
    with pytest.raises(RateLimitExceededException):
        gh.get_user("alice")
    localhub.hub.ratelimit.budget = 100
    localhub.hub.faults = Faults(rate=1.0, seed=1)
    outcomes = set()
    for _ in range(10):
        try:
            gh.get_user("alice")
        except RateLimitExceededException:
            outcomes.add("secondary")
        except GithubException as exc:
            outcomes.add(exc.status)
    assert outcomes == {"secondary", 502}


def test_latency_applies_to_api_calls_only(localhub) -> None:
    import time

    token = localhub.add_user("alice")
    localhub.hub.config.latency_ms = 150
    started = time.monotonic()
    requests.get(f"{localhub.api_url}/user", headers={"Authorization": f"token {token}"}, timeout=10)
    assert time.monotonic() - started >= 0.15
    started = time.monotonic()
    localhub.metrics()
    assert time.monotonic() - started < 0.15
