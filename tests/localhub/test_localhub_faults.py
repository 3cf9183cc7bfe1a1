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
    return [requests.get(f"{localhub.api_url}/user", headers=headers, timeout=10).status_code for _ in range(calls)]


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
    answers = [
        requests.get(f"{localhub.api_url}/user", headers={"Authorization": f"token {token}"}, timeout=10)
        for _ in range(20)
    ]
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
    localhub.hub.config.latency_ms = 400
    started = time.monotonic()
    requests.get(f"{localhub.api_url}/user", headers={"Authorization": f"token {token}"}, timeout=10)
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    localhub.metrics()
    assert time.monotonic() - started < 0.4


def test_after_faults_apply_the_write_then_answer_502(localhub) -> None:
    token = localhub.add_user("alice")
    localhub.github("alice").get_user().create_repo("late")
    headers = {"Authorization": f"token {token}"}
    localhub.hub.faults = Faults(rate=1.0, seed=5, after_share=1.0)
    created = requests.post(
        f"{localhub.api_url}/repos/alice/late/issues",
        headers=headers,
        json={"title": "Made despite the 502"},
        timeout=10,
    )
    assert created.status_code == 502
    assert created.json() == {"message": "Server Error"}
    assert "X-RateLimit-Remaining" in created.headers
    localhub.hub.faults = Faults(rate=0.0)
    listed = requests.get(f"{localhub.api_url}/repos/alice/late/issues", headers=headers, timeout=10).json()
    assert [issue["title"] for issue in listed] == ["Made despite the 502"]
    assert localhub.metrics()["faults"] == {"before": 0, "after": 1}


def test_reads_are_never_after_faults(localhub) -> None:
    token = localhub.add_user("alice")
    localhub.hub.faults = Faults(rate=1.0, seed=5, after_share=1.0)
    answers = _statuses(localhub, token, 10)
    assert set(answers) <= {403, 502} and len(answers) == 10  # every read still fails, before the work
    assert localhub.metrics()["faults"] == {"before": 10, "after": 0}


def _mixed_calls(localhub, token: str, seed: int) -> list[tuple[str, str, int]]:
    """Alternate issue creations and reads under a 40% fault rate, half of the faults after the write."""
    headers = {"Authorization": f"token {token}"}
    localhub.hub.faults = Faults(rate=0.4, seed=seed, after_share=0.5)
    outcomes = []
    for i in range(30):
        title = f"issue {seed} {i}"
        if i % 2:
            resp = requests.get(f"{localhub.api_url}/repos/alice/mixed/issues", headers=headers, timeout=10)
        else:
            resp = requests.post(
                f"{localhub.api_url}/repos/alice/mixed/issues", headers=headers, json={"title": title}, timeout=10
            )
        outcomes.append((resp.request.method or "", title, resp.status_code))
    localhub.hub.faults = Faults(rate=0.0)
    return outcomes


def test_after_faults_are_deterministic_by_seed_and_counted_apart(localhub) -> None:
    token = localhub.add_user("alice")
    localhub.github("alice").get_user().create_repo("mixed")
    first = _mixed_calls(localhub, token, 21)
    second = _mixed_calls(localhub, token, 21)
    assert [(m, s) for m, _, s in first] == [(m, s) for m, _, s in second]
    other = _mixed_calls(localhub, token, 22)
    assert [s for _, _, s in first] != [s for _, _, s in other]

    replay = Faults(rate=0.4, seed=21, after_share=0.5)  # the same seed draws the same faults
    drawn = [replay.draw(method) for method, _, _ in first]
    assert {f.when for f in drawn if f} == {"before", "after"}
    assert all(f.when == "before" for (m, _, _), f in zip(first, drawn, strict=True) if f and m == "GET")
    titles = {i.title for i in localhub.github("alice").get_repo("alice/mixed").get_issues(state="all")}
    for (method, title, status), fault in zip(first, drawn, strict=True):
        if fault is None:
            assert status in (200, 201)
        else:
            assert status == 502 if fault.when == "after" else status in (403, 502)
        if method == "POST":  # created exactly when served: no fault, or a fault after the write
            assert (title in titles) == (fault is None or fault.when == "after"), (title, fault)
    replay_other = Faults(rate=0.4, seed=22, after_share=0.5)
    drawn_other = [replay_other.draw(method) for method, _, _ in other]
    for when in ("before", "after"):  # three runs: seed 21 twice, seed 22 once
        expected = 2 * sum(1 for f in drawn if f and f.when == when) + sum(
            1 for f in drawn_other if f and f.when == when
        )
        assert localhub.metrics()["faults"][when] == expected


def test_fault_after_share_is_on_the_command_line(tmp_path) -> None:
    import argparse

    from localhub.cli import add_actions, config_from_args

    parser = argparse.ArgumentParser()
    add_actions(parser)
    args = parser.parse_args(["serve", "--state", str(tmp_path), "--fault-rate", "0.2", "--fault-after-share", "0.5"])
    config = config_from_args(args)
    assert (config.fault_rate, config.fault_after_share) == (0.2, 0.5)
    bad = parser.parse_args(["serve", "--state", str(tmp_path), "--fault-after-share", "1.5"])
    with pytest.raises(SystemExit, match="--fault-after-share"):
        config_from_args(bad)
