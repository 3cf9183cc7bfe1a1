"""`orchestra action` handles the event its run was started for as the web app would: recorded localhub
events go through the same routers; jobs run in-process; every ready task becomes one
`workflow_dispatch` (recorded by localhub); a dispatched run implements its own task here; the
bot's own events are dropped and commands keep their permission gate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.errors import ConfigError
from bot.forge.retry import RetryPolicy
from bot.modes.action import ActionInputs, jobs_for, run_action
from bot.repoconfig import RepoConfig
from bot.settings import Settings
from tests.support import schemas
from tests.support.action_bed import BOT, REPO, ActionRepo, make_action_repo
from tests.support.fake_jobs import FakeJobs
from tests.support.localhub import LocalhubHandle
from webhooks.event import Event

FAST = RetryPolicy(attempts=3, scale=0.001, write_spacing_s=None)


def _goal(repo: ActionRepo) -> tuple[int, dict[str, Any]]:
    """Alice files an issue and labels it a goal; returns its number and the recorded `labeled` event."""
    gh_repo = repo.hub.github("alice").get_repo(REPO)
    gh_repo.create_label("orchestra:goal", "5319e7")
    issue = gh_repo.create_issue(title="Taxes and discounts", body="Add sales tax and discount codes.")
    repo.record_events()
    issue.add_to_labels("orchestra:goal")
    payload = repo.recorded("issues", "labeled")
    schemas.validate_webhook("issues", payload)
    return issue.number, payload


def _dispatch_event(repo: ActionRepo, goal_event: dict[str, Any], task: str) -> dict[str, Any]:
    """GitHub's `workflow_dispatch` example, for this repository, sent by the bot."""
    payload = schemas.webhook_examples("workflow_dispatch")[0]
    payload.pop("organization", None)
    payload.update(
        repository=goal_event["repository"],
        inputs={"task": task},
        ref="refs/heads/main",
        workflow=".github/workflows/orchestra.yml",
        sender={**goal_event["sender"], "login": BOT, "type": "Bot"},
    )
    schemas.validate_webhook("workflow_dispatch", payload)
    return payload


def test_goal_event_plans_then_dispatches_one_run_per_ready_task(localhub: LocalhubHandle, tmp_path: Path) -> None:
    repo = make_action_repo(localhub, tmp_path)
    goal, event = _goal(repo)
    fake = FakeJobs()
    report = run_action(repo.env("issues", event), jobs=fake.jobs, forge_policy=FAST)
    assert report.ok, report.failures
    assert fake.planned == [(REPO, goal)]
    ready = [fake.tasks["tax"], fake.tasks["discount"]]
    assert report.dispatched == ready
    dispatches = repo.dispatches()
    assert [d["inputs"] for d in dispatches] == [{"task": str(n)} for n in ready]
    assert {(d["workflow"], d["ref"], d["sender"]) for d in dispatches} == {("orchestra.yml", "main", BOT)}
    assert fake.implemented == []  # no task ran in the planning run


def test_a_dispatched_run_implements_its_task_here(localhub: LocalhubHandle, tmp_path: Path) -> None:
    repo = make_action_repo(localhub, tmp_path)
    _goal_number, event = _goal(repo)
    fake = FakeJobs()
    report = run_action(
        repo.env("workflow_dispatch", _dispatch_event(repo, event, "5")), jobs=fake.jobs, forge_policy=FAST
    )
    assert report.ok and [r.kind for r in report.jobs] == ["implement"]
    assert fake.implemented == [(REPO, 5)]
    assert repo.dispatches() == []


def test_the_bots_own_events_are_dropped(localhub: LocalhubHandle, tmp_path: Path) -> None:
    repo = make_action_repo(localhub, tmp_path)
    _goal_number, event = _goal(repo)
    event["sender"] = {**event["sender"], "login": BOT, "type": "Bot"}
    fake = FakeJobs()
    report = run_action(repo.env("issues", event), jobs=fake.jobs, forge_policy=FAST)
    assert report.jobs == [] and fake.planned == [] and repo.dispatches() == []


def test_commands_from_readers_change_nothing(localhub: LocalhubHandle, tmp_path: Path) -> None:
    repo = make_action_repo(localhub, tmp_path)
    goal, _event = _goal(repo)
    repo.hub.github("bob").get_repo(REPO).get_issue(goal).create_comment("/orchestra plan")
    comment_event = repo.recorded("issue_comment", "created")
    fake = FakeJobs()
    report = run_action(repo.env("issue_comment", comment_event), jobs=fake.jobs, forge_policy=FAST)
    assert report.ok and [r.kind for r in report.jobs] == ["command"]
    comments = list(repo.hub.github("alice").get_repo(REPO).get_issue(goal).get_comments())
    replies = [c for c in comments if c.user.login == BOT]
    assert len(replies) == 1 and "only people with write access" in replies[0].body
    assert fake.planned == [] and repo.dispatches() == []


def test_a_failed_dispatch_fails_the_run(localhub: LocalhubHandle, tmp_path: Path) -> None:
    repo = make_action_repo(localhub, tmp_path)
    _goal_number, event = _goal(repo)
    env = repo.env("issues", event, GITHUB_WORKFLOW_REF="", ORCHESTRA_WORKFLOW="")
    report = run_action(env, jobs=FakeJobs().jobs, forge_policy=FAST)
    assert not report.ok
    [(job, error)] = report.failures.items()
    assert job.startswith("plan-") and "workflow:" in error
    assert repo.dispatches() == []


def test_ci_workflow_runs_on_orchestra_branches_wake_the_worker() -> None:
    settings = Settings(token="t", bot_login=BOT)
    run = {"head_branch": "orchestra/12-add-tax", "head_sha": "a" * 40, "pull_requests": [{"number": 30}]}
    failed = Event(
        "workflow_run",
        {
            "action": "completed",
            "repository": {"full_name": REPO},
            "sender": {"login": "alice"},
            "workflow_run": {**run, "conclusion": "failure"},
        },
    )
    passed = Event("workflow_run", {**failed.payload, "workflow_run": {**run, "conclusion": "success"}})
    other = Event("workflow_run", {**failed.payload, "workflow_run": {**run, "head_branch": "main"}})
    on_own_push = Event("workflow_run", {**failed.payload, "sender": {"login": BOT, "type": "Bot"}})
    assert [(j.kind, j.args["pr"]) for j in jobs_for(failed, settings)] == [("fix_ci", 30)]
    assert [j.kind for j in jobs_for(on_own_push, settings)] == ["fix_ci"]
    assert [j.kind for j in jobs_for(passed, settings)] == ["maybe_merge"]
    assert jobs_for(other, settings) == []


def test_inputs_lay_merge_policy_and_parallelism_over_the_repo_config() -> None:
    inputs = ActionInputs.from_env(
        {
            "ORCHESTRA_MERGE_POLICY": "auto",
            "ORCHESTRA_MAX_PARALLEL_TASKS": "2",
            "GITHUB_WORKFLOW_REF": "o/r/.github/workflows/bots.yml@refs/heads/main",
        }
    )
    config = inputs.overlay(RepoConfig(max_parallel_tasks=9))
    assert (config.merge.policy, config.max_parallel_tasks, inputs.workflow) == ("auto", 2, "bots.yml")
    assert ActionInputs.from_env({}).overlay(RepoConfig(max_parallel_tasks=9)).max_parallel_tasks == 9
    with pytest.raises(ConfigError, match="merge.policy"):
        ActionInputs.from_env({"ORCHESTRA_MERGE_POLICY": "sometimes"})
    with pytest.raises(ConfigError, match="max-parallel-tasks"):
        ActionInputs.from_env({"ORCHESTRA_MAX_PARALLEL_TASKS": "many"})


def test_cli_reports_to_the_step_summary(
    localhub: LocalhubHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_action_repo(localhub, tmp_path)
    issue = localhub.github("alice").get_repo(REPO).create_issue(title="Just a question")
    repo.record_events()
    issue.edit(body="edited")
    summary = tmp_path / "summary.md"
    for key, value in repo.env("issues", repo.recorded("issues", "edited"), GITHUB_STEP_SUMMARY=str(summary)).items():
        monkeypatch.setenv(key, value)
    assert main(["action"]) == 0
    assert "Nothing to do" in capsys.readouterr().out
    assert "`issues` `edited`" in summary.read_text()
    monkeypatch.delenv("GITHUB_EVENT_PATH")
    assert main(["action"]) == 2
    assert "GITHUB_EVENT_PATH" in capsys.readouterr().err
