"""Acceptance 3 of issue 8: the Action entry point, fed a recorded `issues` `labeled` goal event against
localhub, creates the plan (task sub-issues, labels, status comment) with a scripted planner
that calls `submit_plan`, and starts exactly one `workflow_dispatch` run per ready task."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.forge.retry import RetryPolicy
from bot.llm.scripted import call, register_script, turns, unregister_script
from bot.llm.types import Reply
from bot.modes.action import run_action
from tests.support import schemas
from tests.support.action_bed import BOT, REPO, make_action_repo
from tests.support.localhub import LocalhubHandle

SCRIPT = "action-acceptance-planner"
FAST = RetryPolicy(attempts=3, scale=0.001, write_spacing_s=None)


def _task(key: str, title: str, path: str, deps: list[str]) -> dict[str, object]:
    return {
        "key": key,
        "title": title,
        "objective": f"{title}.",
        "context_files": ["shop/cart.py"],
        "owned_paths": [path],
        "acceptance_commands": ["python -m pytest -q"],
        "depends_on": deps,
        "size": "s",
    }


PLAN = {
    "tasks": [
        _task("tax", "Add sales tax to the cart", "shop/tax.py", []),
        _task("discount", "Add discount codes", "shop/discount.py", []),
        _task("receipt", "Print a receipt with tax and discounts", "shop/receipt.py", ["tax", "discount"]),
    ],
    "notes": ["Money is integer cents."],
}


@pytest.fixture
def scripted_planner() -> Iterator[str]:
    register_script(SCRIPT, turns([Reply(tool_calls=[call("submit_plan", **PLAN)])]))
    try:
        yield f"scripted:{SCRIPT}"
    finally:
        unregister_script(SCRIPT)


def test_goal_event_creates_the_plan_and_one_dispatch_per_ready_task(
    localhub: LocalhubHandle, tmp_path: Path, scripted_planner: str
) -> None:
    repo = make_action_repo(localhub, tmp_path)
    alice = localhub.github("alice").get_repo(REPO)
    alice.create_label("orchestra:goal", "5319e7")
    goal = alice.create_issue(title="Taxes, discounts and receipts", body="Customers see tax and discounts.")
    repo.record_events()
    goal.add_to_labels("orchestra:goal")
    event = repo.recorded("issues", "labeled")
    schemas.validate_webhook("issues", event)

    report = run_action(repo.env("issues", event, ORCHESTRA_MODEL_PLANNER=scripted_planner), forge_policy=FAST)

    assert report.ok, report.failures
    tasks = {issue.title: issue for issue in alice.get_issues(labels=["orchestra:task"], state="open")}
    assert set(tasks) == {t["title"] for t in PLAN["tasks"]}
    assert {s.number for s in alice.get_issue(goal.number).get_sub_issues()} == {i.number for i in tasks.values()}
    ready = sorted(tasks[t].number for t in ("Add sales tax to the cart", "Add discount codes"))
    waiting = tasks["Print a receipt with tax and discounts"]
    assert "orchestra:waiting" in [label.name for label in waiting.labels]
    dispatches = repo.dispatches()
    assert sorted(int(d["inputs"]["task"]) for d in dispatches) == ready == sorted(report.dispatched)
    assert {(d["workflow"], d["ref"], d["sender"]) for d in dispatches} == {("orchestra.yml", "main", BOT)}
    assert any(c.user.login == BOT for c in alice.get_issue(goal.number).get_comments())  # the plan/status comment

    # The same event again (a re-run of the workflow): no task twice. Tasks still unclaimed are
    # dispatched again; their runs queue in the task's concurrency group and find the task taken.
    again = run_action(repo.env("issues", event, ORCHESTRA_MODEL_PLANNER=scripted_planner), forge_policy=FAST)
    assert again.ok and len(list(alice.get_issues(labels=["orchestra:task"], state="all"))) == 3
    assert sorted(again.dispatched) == ready
