"""CI signal as GitHub gives it: required checks gate (the rest are advisory), statuses count, the rules of a
branch come from rulesets and classic protection, and a failing Actions job's failing step is read from its log."""

from __future__ import annotations

import pytest
import responses
from github import Auth

from bot.forge import Forge, RetryPolicy
from bot.forge.actionslog import failing_step_tail
from tests.forge.test_forge_verbs import API, REPO

LOG = "\ufeff" + "\n".join(
    [
        "2026-01-02T03:04:05.1000000Z ##[group]Run actions/checkout@v4",
        "2026-01-02T03:04:05.2000000Z Syncing repository",
        "2026-01-02T03:04:05.3000000Z ##[endgroup]",
        "2026-01-02T03:04:06.0000000Z ##[group]Run pytest -q",
        "2026-01-02T03:04:06.1000000Z pytest -q",
        "2026-01-02T03:04:06.2000000Z shell: /usr/bin/bash -e {0}",
        "2026-01-02T03:04:06.3000000Z ##[endgroup]",
        "2026-01-02T03:04:07.0000000Z FAILED tests/test_cart.py::test_total - assert 3 == 4",
        "2026-01-02T03:04:07.1000000Z 1 failed in 0.12s",
        "2026-01-02T03:04:07.2000000Z ##[error]Process completed with exit code 1.",
        "2026-01-02T03:04:07.3000000Z Cleaning up orphan processes",
    ]
)


def _run(run_id: int, name: str, conclusion: str | None, app: str = "github-actions") -> dict:
    return {
        "id": run_id,
        "name": name,
        "status": "completed" if conclusion else "in_progress",
        "conclusion": conclusion,
        "app": {"slug": app},
        "url": f"{REPO}/check-runs/{run_id}",
        "output": {"title": f"{name} {conclusion}", "summary": "", "text": "", "annotations_count": 0},
    }


def test_the_failing_step_is_cut_from_githubs_log_format() -> None:
    tail = failing_step_tail(LOG)
    assert tail.splitlines() == [
        "FAILED tests/test_cart.py::test_total - assert 3 == 4",
        "1 failed in 0.12s",
        "##[error]Process completed with exit code 1.",
    ]
    assert failing_step_tail("no markers\njust output") == "no markers\njust output"
    assert failing_step_tail("x\n" * 500, lines=3) == "x\nx\nx"


@responses.activate
def test_only_required_checks_gate_and_statuses_count(forge: Forge) -> None:
    responses.get(
        f"{REPO}/commits/abc/check-runs",
        json={"total_count": 2, "check_runs": [_run(1, "ci", "success"), _run(2, "lint", "failure", app="linter")]},
    )
    responses.get(f"{REPO}/commits/abc/statuses", json=[{"context": "deploy", "state": "pending"}])
    assert forge.check_state("abc").state == "failure"  # no rule names checks: every check gates
    gated = forge.check_state("abc", ["ci", "deploy"])
    assert gated.state == "pending" and [f.name for f in gated.advisory] == ["lint"]
    assert gated.seen == ["ci", "lint", "deploy"]
    assert forge.check_state("abc", ["ci"]).state == "success"
    assert forge.check_state("abc", ["ci", "e2e"]).state == "pending"  # a required check that never reported


@responses.activate
def test_a_failing_actions_job_brings_its_failing_step_only_when_asked(forge: Forge) -> None:
    responses.get(
        f"{REPO}/commits/abc/check-runs",
        json={
            "total_count": 2,
            "check_runs": [_run(77, "tests", "failure"), _run(78, "other-app", "failure", app="circleci")],
        },
    )
    responses.get(f"{REPO}/commits/abc/statuses", json=[{"context": "ci/legacy", "state": "error"}])
    responses.get(
        f"{REPO}/actions/jobs/77/logs",
        status=302,
        headers={"Location": "https://blobs.example/logs/77?sig=s3cret-signature"},
    )
    responses.get("https://blobs.example/logs/77", body=LOG.encode())

    plain = forge.check_state("abc")
    assert plain.state == "failure" and all(f.log_tail == "" for f in plain.failures)
    assert not any("/actions/jobs/" in c.request.url for c in responses.calls)

    state = forge.check_state("abc", logs=True)
    by_name = {f.name: f for f in state.failures}
    assert by_name["tests"].log_tail.endswith("##[error]Process completed with exit code 1.")
    assert by_name["other-app"].log_tail == "" and by_name["ci/legacy"].conclusion == "error"
    log_calls = [c for c in responses.calls if "/actions/jobs/" in c.request.url or "blobs.example" in c.request.url]
    assert len(log_calls) == 2  # one job's 302, one download
    assert "Authorization" not in log_calls[1].request.headers  # the signed URL gets no credentials


@responses.activate
def test_branch_rules_read_rulesets_and_classic_protection_once_per_forge(forge: Forge) -> None:
    responses.get(
        f"{REPO}/rules/branches/main",
        json=[
            {
                "type": "required_status_checks",
                "ruleset_id": 3,
                "parameters": {
                    "strict_required_status_checks_policy": False,
                    "required_status_checks": [{"context": "ci"}, {"context": "build", "integration_id": 1}],
                },
            },
            {"type": "merge_queue", "ruleset_id": 3, "parameters": {"merge_method": "SQUASH"}},
        ],
    )
    responses.get(
        f"{REPO}/branches/main",
        json={
            "name": "main",
            "commit": {"sha": "abc"},
            "protected": True,
            "protection": {
                "enabled": True,
                "required_status_checks": {"enforcement_level": "everyone", "contexts": ["ci", "e2e"]},
            },
        },
    )
    rules = forge.branch_rules("main")
    assert rules.required == ["ci", "build", "e2e"]
    assert rules.merge_queue is True and rules.merge_method == "SQUASH"
    assert forge.branch_rules("main") == rules and len(responses.calls) == 2


@responses.activate
def test_a_forge_without_rulesets_and_an_unprotected_branch_require_nothing(forge: Forge) -> None:
    responses.get(f"{REPO}/rules/branches/main", status=404, json={"message": "Not Found"})
    responses.get(
        f"{REPO}/branches/main",
        json={
            "name": "main",
            "commit": {"sha": "abc"},
            "protected": False,
            "protection": {"enabled": False, "required_status_checks": {"enforcement_level": "off", "contexts": []}},
        },
    )
    rules = forge.branch_rules("main")
    assert rules.required == [] and rules.merge_queue is False


@pytest.fixture
def forge() -> Forge:
    policy = RetryPolicy(attempts=2, write_spacing_s=None, sleep=lambda _s: None)
    return Forge(
        "octo/cat",
        Auth.Token("tok-123"),
        api_url=API,
        server_url="https://forge.test",
        bot_login="orchestra[bot]",
        policy=policy,
    )
