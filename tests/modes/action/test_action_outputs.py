"""`orchestra action` writes the step's outputs to `$GITHUB_OUTPUT` in GitHub's format: fed a recorded goal
event it reports the goal, its tasks, the tokens the planner used and the tasks it dispatched (the
multi-line summary in the delimiter form); a merged task PR's usage marker counts in the goal's totals."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from github import Auth

from bot.cli import action_cmd, main
from bot.forge.client import Forge
from bot.forge.retry import RetryPolicy
from bot.ledger import attempts
from bot.ledger.record import load_record
from bot.ledger.taskbody import branch_name
from bot.llm.scripted import call, register_script, turns, unregister_script
from bot.llm.types import Reply, Usage
from bot.modes.action import ActionReport, run_action
from bot.modes.action_outputs import OUTPUTS, github_output, goal_state
from bot.queue.kinds import JobRequest
from tests.modes.action.test_action_acceptance import PLAN
from tests.support.action_bed import BOT, REPO, ActionRepo, make_action_repo
from tests.support.git_repos import git
from tests.support.github_output import parse_github_output
from tests.support.localhub import LocalhubHandle

SCRIPT = "action-outputs-planner"
FAST = RetryPolicy(attempts=3, scale=0.001, write_spacing_s=None)


@pytest.fixture
def scripted_planner() -> Iterator[str]:
    register_script(SCRIPT, turns([Reply(tool_calls=[call("submit_plan", **PLAN)])]))
    try:
        yield f"scripted:{SCRIPT}"
    finally:
        unregister_script(SCRIPT)


def _fast_run(env: Mapping[str, str], timeout_s: float) -> ActionReport:
    """`run_action` as the CLI calls it, without the pauses between writes that GitHub's limits ask for."""
    return run_action(env, timeout_s=timeout_s, forge_policy=FAST)


def _forge(hub: LocalhubHandle) -> Callable[[str], Forge]:
    """A Forge for a repository with the bot's token, as the Action builds it."""
    return lambda name: Forge(name, Auth.Token(hub.tokens[BOT]), api_url=hub.api_url, server_url=hub.url, bot_login=BOT)


def _goal_event(repo: ActionRepo) -> tuple[int, dict[str, object]]:
    alice = repo.hub.github("alice").get_repo(REPO)
    alice.create_label("orchestra:goal", "5319e7")
    goal = alice.create_issue(title="Taxes, discounts and receipts", body="Customers see tax and discounts.")
    repo.record_events()
    goal.add_to_labels("orchestra:goal")
    return goal.number, repo.recorded("issues", "labeled")


def test_a_goal_event_writes_every_output_in_githubs_format(
    localhub: LocalhubHandle, tmp_path: Path, scripted_planner: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_action_repo(localhub, tmp_path)
    goal, event = _goal_event(repo)
    outputs, summary = tmp_path / "github_output", tmp_path / "summary.md"
    outputs.write_text("earlier=kept\n")  # other steps' lines stay
    env = repo.env(
        "issues",
        event,
        ORCHESTRA_MODEL_PLANNER=scripted_planner,
        GITHUB_OUTPUT=str(outputs),
        GITHUB_STEP_SUMMARY=str(summary),
    )
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(action_cmd, "run_action", _fast_run)
    assert main(["action"]) == 0

    values = parse_github_output(outputs.read_text())
    assert set(values) == {"earlier", *OUTPUTS}
    forge = localhub.github(BOT).get_repo(REPO)
    tasks = sorted(i.number for i in forge.get_issues(labels=["orchestra:task"], state="all"))
    ready = sorted(int(d["inputs"]["task"]) for d in repo.dispatches())
    assert (values["goal"], values["tasks"], values["tasks-done"], values["prs-merged"]) == (str(goal), "3", "0", "0")
    assert json.loads(values["dispatched"]) == ready and len(ready) == 2 and set(ready) < set(tasks)
    assert (values["jobs"], values["failed"]) == ("1", "0")
    report = json.loads(values["report"])
    assert report["event"] == "issues" and report["action"] == "labeled" and report["repo"] == REPO

    record = load_record(_forge(localhub)(REPO), goal)  # the planner's usage, as its record keeps it
    assert record.usage.total_tokens > 0 and values["tokens"] == str(record.usage.total_tokens)
    assert values["cost"] == f"{record.usage.cost_usd:.4f}"
    assert "\n" in values["summary"] and values["summary"] == summary.read_text().rstrip("\n")
    assert f"#{ready[0]}" in values["summary"]


def test_a_merged_task_pr_counts_in_the_goal_state(
    localhub: LocalhubHandle, tmp_path: Path, scripted_planner: str
) -> None:
    repo = make_action_repo(localhub, tmp_path)
    goal, event = _goal_event(repo)
    assert run_action(repo.env("issues", event, ORCHESTRA_MODEL_PLANNER=scripted_planner), forge_policy=FAST).ok
    alice = localhub.github("alice").get_repo(REPO)
    [task] = [i for i in alice.get_issues(labels=["orchestra:task"]) if i.title == "Add sales tax to the cart"]

    # The task's worker pushed its branch, opened the PR with its usage marker; alice merged it.
    branch = branch_name(task.number, task.title)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", localhub.git_url(REPO, "alice"), str(clone))
    git(clone, "checkout", "-q", "-b", branch)
    (clone / "shop" / "tax.py").write_text("RATE = 8\n")
    git(clone, "add", ".")
    git(clone, "-c", "user.name=w", "-c", "user.email=w@example.com", "commit", "-q", "-m", "tax")
    git(clone, "push", "-q", "origin", branch)
    worked = attempts.Attempts().add_usage(
        "worker", Usage(input_tokens=1000, output_tokens=200, cost_usd=0.0375, calls=3)
    )
    pr = alice.create_pull(
        title=task.title, body=attempts.write(f"Closes #{task.number}", worked), head=branch, base="main"
    )
    pr.merge()
    task.edit(state="closed", state_reason="completed")
    forge = _forge(localhub)
    planner = load_record(forge(REPO), goal).usage.total_tokens
    review = JobRequest.make("address_review", repo=REPO, pr=pr.number, review_id=1, installation_id=None)
    command = JobRequest.make(
        "command",
        repo=REPO,
        number=task.number,
        comment_id=1,
        verb="retry",
        text="",
        sender="alice",
        installation_id=None,
    )
    scan = JobRequest.make("scan_conflicts", repo=REPO, base_sha="0" * 40, installation_id=None)
    for job in (review, command):  # a PR's job finds the goal by the branch's task; a task's, by its marker
        state = goal_state(forge, lambda c: c, [scan, job])
        assert state is not None
        assert (state.number, state.tasks, state.tasks_done, state.prs_merged, state.tokens) == (
            goal,
            3,
            1,
            1,
            planner + 1200,
        )
        assert state.cost_usd == pytest.approx(0.0375)
    assert goal_state(forge, lambda c: c, [scan]) is None


def test_multi_line_values_get_a_delimiter_they_do_not_contain() -> None:
    text = github_output({"one": "1", "many": "a\nghadelimiter_x\nb", "empty": ""})
    assert text.startswith("one=1\nmany<<ghadelimiter_")
    delimiter = text.split("\n")[1].split("<<")[1]
    assert delimiter != "ghadelimiter_x" and text.count(delimiter) == 2
    assert parse_github_output(text) == {"one": "1", "many": "a\nghadelimiter_x\nb", "empty": ""}
