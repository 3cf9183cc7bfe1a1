"""Acceptance 2: invalid plans go back to the model with the reason, and a later valid plan succeeds;
past `max_plan_attempts` the goal gets a needs-human comment quoting the error and nothing is created."""

from __future__ import annotations

from typing import Any

from tests.support.model_server import ModelServer, Turn
from tests.support.planner_bed import Bed, task, tool_results

CYCLE = {"tasks": [task("a", "Task A", ["a.py"], ["b"]), task("b", "Task B", ["b.py"], ["a"])]}
OVERLAP = {"tasks": [task("a", "Task A", ["shop/"]), task("b", "Task B", ["shop/cart.py"])]}
VALID = {"tasks": [task("a", "Task A", ["shop/"]), task("b", "Task B", ["shop/cart.py"], ["a"])]}


def test_two_invalid_plans_then_a_valid_one_publishes_the_valid_plan(bed: Bed, model_server: ModelServer) -> None:
    plans = [CYCLE, OVERLAP, VALID]

    def policy(body: dict[str, Any], provider: str) -> Turn:
        return Turn(tool_calls=[("submit_plan", plans[len(tool_results(body))])])

    model_server.policy(policy)
    goal = bed.goal()
    bed.submit("plan", goal)
    bed.work()
    results = tool_results(model_server.requests[-1].body)
    assert "dependencies form a cycle: a -> b -> a" in results[0]
    assert "tasks 'a' and 'b' both own" in results[1] and "neither depends on the other" in results[1]
    titles = sorted(i.title for i in bed.person().get_issue(goal).get_sub_issues())
    assert titles == ["Task A", "Task B"]
    assert "orchestra:needs-human" not in {label.name for label in bed.person().get_issue(goal).labels}


def test_invalid_past_the_bound_leaves_a_needs_human_comment_with_the_error(
    bed: Bed, model_server: ModelServer
) -> None:
    model_server.policy(lambda body, provider: Turn(tool_calls=[("submit_plan", CYCLE)]))
    goal = bed.goal()
    bed.submit("plan", goal)
    bed.work()
    assert len(model_server.requests) == 3  # max_plan_attempts defaults to 3
    issue = bed.person().get_issue(goal)
    comments = [c.body for c in issue.get_comments()]
    failure = [c for c in comments if "The planner could not produce a valid plan." in c]
    assert len(failure) == 1
    assert "dependencies form a cycle: a -> b -> a" in failure[0] and "/orchestra plan" in failure[0]
    assert "orchestra:needs-human" in {label.name for label in issue.labels}
    assert issue.get_sub_issues().totalCount == 0
    assert bed.person().get_issues(state="all").totalCount == 1


def test_after_a_needs_human_failure_a_new_plan_job_plans_and_clears_the_label(
    bed: Bed, model_server: ModelServer
) -> None:
    model_server.policy(lambda body, provider: Turn(tool_calls=[("submit_plan", CYCLE)]))
    goal = bed.goal()
    bed.submit("plan", goal)
    bed.work()
    model_server.policy(lambda body, provider: Turn(tool_calls=[("submit_plan", VALID)]))
    bed.submit("plan", goal)  # what `/orchestra plan` enqueues once the goal is clarified
    bed.work()
    issue = bed.person().get_issue(goal)
    assert issue.get_sub_issues().totalCount == 2
    assert "orchestra:needs-human" not in {label.name for label in issue.labels}
