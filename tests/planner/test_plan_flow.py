"""Acceptance 1: a goal planned through the real openai SDK (model stand-in) and real RQ yields the
right task sub-issues, labels, links and dependency gating, a sub-goal planned by its sub-planner,
and a second plan job that creates nothing and asks no model."""

from __future__ import annotations

from typing import Any

from bot.ledger import markers
from bot.ledger.taskbody import parse_task_body
from tests.support.model_server import ModelServer, Turn
from tests.support.planner_bed import REPO, Bed, arguments, system_text, task, tool_results

MAIN_PLAN = {
    "tasks": [
        task("models", "Order model", ["shop/order.py"]),
        task("api", "Checkout API", ["shop/api.py"], ["models"]),
        task("emails", "Receipt emails", ["shop/emails.py"], ["models"]),
        task("docs", "Checkout docs", ["docs/checkout.md"]),
        task("cli", "Checkout CLI", ["shop/cli.py"]),
        task("payments", "Payments area", ["shop/payments/"], kind="subgoal"),
    ],
    "notes": ["Money is integer cents everywhere."],
}
SUB_PLAN = {
    "tasks": [
        task("gateway", "Payment gateway", ["shop/payments/gateway.py"]),
        task("refunds", "Refunds", ["shop/payments/refunds.py"], ["gateway"]),
    ]
}


def planner_policy(body: dict[str, Any], provider: str) -> Turn:
    """Read the README first, then submit the main plan or, for the sub-planner, the sub-plan."""
    if not tool_results(body):
        return Turn(tool_calls=[("read_file", {"path": "README.md"})])
    assert "A tiny shop." in tool_results(body)[0]
    plan = SUB_PLAN if system_text(body).startswith("You are the sub-planner") else MAIN_PLAN
    return Turn(tool_calls=[("submit_plan", plan)], input_tokens=1000, output_tokens=200)


def labels(bed: Bed, number: int) -> set[str]:
    return {label.name for label in bed.person().get_issue(number).labels}


def test_a_goal_becomes_gated_sub_issues_with_a_sub_goal_and_replanning_is_idempotent(
    bed: Bed, model_server: ModelServer
) -> None:
    model_server.policy(planner_policy)
    goal = bed.goal()
    bed.submit("plan", goal)
    bed.work()

    repo = bed.person()
    subs = {parse_task_body(i.body).key: i for i in repo.get_issue(goal).get_sub_issues()}  # type: ignore[union-attr]
    assert set(subs) == {"models", "api", "emails", "docs", "cli", "payments"}
    number = {key: issue.number for key, issue in subs.items()}
    for key in ("models", "docs", "cli"):
        assert labels(bed, number[key]) == {"orchestra:task", "orchestra:ready"}
    for key in ("api", "emails"):
        assert labels(bed, number[key]) == {"orchestra:task", "orchestra:waiting"}
        assert f"Depends on #{number['models']}" in subs[key].body
    assert labels(bed, number["payments"]) == {"orchestra:goal", "orchestra:working"}
    assert markers.read_data(subs["payments"].body, "goal") == {"parent": goal, "depth": 1}

    sub_tasks = {
        parse_task_body(i.body).key: i.number  # type: ignore[union-attr]
        for i in repo.get_issue(number["payments"]).get_sub_issues()
    }
    assert set(sub_tasks) == {"gateway", "refunds"}
    assert labels(bed, sub_tasks["refunds"]) == {"orchestra:task", "orchestra:waiting"}
    assert bed.implement_queue() == sorted([number["models"], number["docs"], number["cli"], sub_tasks["gateway"]])

    status = [c.body for c in repo.get_issue(goal).get_comments() if "orchestra:status" in c.body]
    assert len(status) == 1 and "Money is integer cents everywhere." in status[0]
    assert f"#{number['api']} Checkout API (after #{number['models']}) — waiting" in status[0]
    assert len(model_server.requests) == 4  # two turns for the planner, two for the sub-planner
    assert arguments(model_server.requests[-1].body, "read_file") == [{"path": "README.md"}]

    # closing the prerequisite makes its two dependants ready and enqueues them
    repo.get_issue(number["models"]).edit(state="closed")
    bed.submit("on_task_closed", number["models"])
    bed.work()
    for key in ("api", "emails"):
        assert labels(bed, number[key]) == {"orchestra:task", "orchestra:ready"}
    assert {number["api"], number["emails"]} <= set(bed.implement_queue())

    # running the plan job again creates nothing and asks no model
    issues_before = repo.get_issues(state="all").totalCount
    bed.submit("plan", goal)
    bed.submit("plan", number["payments"])
    bed.work()
    assert repo.get_issues(state="all").totalCount == issues_before
    assert len(model_server.requests) == 4
    assert len([c for c in repo.get_issue(goal).get_comments() if "orchestra:status" in c.body]) == 1
    assert repo.full_name == REPO
