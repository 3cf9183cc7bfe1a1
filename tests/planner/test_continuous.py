"""Acceptance 4 and 5: a worker's handoff that reports a finding makes the planner add a follow-up task
(once: the handoff is recorded as processed); when the last task closes the goal gets its summary
comment and is closed."""

from __future__ import annotations

from typing import Any

from bot.ledger.record import handoff_comment
from tests.support.model_server import ModelServer, Turn
from tests.support.planner_bed import Bed, system_text, task

FIRST = {"tasks": [task("a", "Task A", ["a.py"]), task("b", "Task B", ["b.py"], ["a"])]}
FOLLOW_UP = {"tasks": [task("fix-rounding", "Fix cart rounding", ["shop/cart.py"])]}


def policy(body: dict[str, Any], provider: str) -> Turn:
    if "### Handoff" in system_text(body):
        assert "the cart rounds half-cents down" in system_text(body)
        return Turn(tool_calls=[("submit_plan", FOLLOW_UP)], input_tokens=500, output_tokens=50)
    return Turn(tool_calls=[("submit_plan", FIRST)], input_tokens=800, output_tokens=100)


def planned(bed: Bed, model_server: ModelServer) -> tuple[int, dict[str, int]]:
    model_server.policy(policy)
    goal = bed.goal()
    bed.submit("plan", goal)
    bed.work()
    return goal, {i.title: i.number for i in bed.person().get_issue(goal).get_sub_issues()}


def test_a_handoff_with_a_finding_adds_a_follow_up_task_once(bed: Bed, model_server: ModelServer) -> None:
    goal, numbers = planned(bed, model_server)
    repo = bed.person()
    repo.get_issue(numbers["Task A"]).set_labels("orchestra:task", "orchestra:review")
    report = "Implemented A.\n\n**Findings**\n- the cart rounds half-cents down"
    bed.forge().comment(numbers["Task A"], handoff_comment(numbers["Task A"], report))
    bed.submit("handoff", goal)
    bed.work()

    subs = {i.title: i for i in repo.get_issue(goal).get_sub_issues()}
    assert set(subs) == {"Task A", "Task B", "Fix cart rounding"}
    follow_up = subs["Fix cart rounding"]
    assert {label.name for label in follow_up.labels} == {"orchestra:task", "orchestra:ready"}
    assert follow_up.number in bed.implement_queue()
    status = next(c.body for c in repo.get_issue(goal).get_comments() if "orchestra:status" in c.body)
    assert "plan (version 2)" in status and f"added #{follow_up.number} Fix cart rounding" in status
    assert "planner 1,450" in status  # the planner's tokens over both runs

    bed.submit("handoff", goal)  # the same handoff again: already folded in
    bed.work()
    assert len(model_server.requests) == 2
    assert repo.get_issues(state="all").totalCount == 4


def test_when_the_last_task_closes_the_goal_gets_its_summary_and_closes(bed: Bed, model_server: ModelServer) -> None:
    goal, numbers = planned(bed, model_server)
    repo = bed.person()
    repo.get_issue(numbers["Task A"]).edit(state="closed")
    bed.submit("on_task_closed", numbers["Task A"])
    bed.work()
    assert repo.get_issue(goal).state == "open"
    assert {label.name for label in repo.get_issue(numbers["Task B"]).labels} == {"orchestra:task", "orchestra:ready"}

    repo.get_issue(numbers["Task B"]).edit(state="closed")
    bed.submit("on_task_closed", numbers["Task B"])
    bed.work()
    issue = repo.get_issue(goal)
    assert (issue.state, issue.state_reason) == ("closed", "completed")
    summary = [c.body for c in issue.get_comments() if "Goal complete" in c.body]
    assert len(summary) == 1
    assert "tasks: 2 done, 0 closed as not planned, 2 in all" in summary[0]
    assert (
        "tokens: 900 (planner 900" in summary[0]
        and "cost: $" in summary[0]
        and "time since planning began" in summary[0]
    )


def test_a_finished_sub_goal_closes_itself_and_then_its_parent(bed: Bed, model_server: ModelServer) -> None:
    main = {"tasks": [task("a", "Task A", ["a.py"]), task("area", "Area", ["area/"], kind="subgoal")]}
    sub = {"tasks": [task("g", "Task G", ["area/g.py"])]}

    def two_levels(body: dict[str, Any], provider: str) -> Turn:
        return Turn(
            tool_calls=[("submit_plan", sub if system_text(body).startswith("You are the sub-planner") else main)]
        )

    model_server.policy(two_levels)
    goal = bed.goal()
    bed.submit("plan", goal)
    bed.work()
    repo = bed.person()
    numbers = {i.title: i.number for i in repo.get_issue(goal).get_sub_issues()}
    g = next(i.number for i in repo.get_issue(numbers["Area"]).get_sub_issues())
    for number in (numbers["Task A"], g):
        repo.get_issue(number).edit(state="closed")
        bed.submit("on_task_closed", number)
        bed.work()
    for number in (numbers["Area"], goal):
        issue = repo.get_issue(number)
        assert (issue.state, issue.state_reason) == ("closed", "completed")
        assert any("Goal complete" in c.body for c in issue.get_comments())


def test_several_handoffs_fold_into_one_planning_run(bed: Bed, model_server: ModelServer) -> None:
    goal, numbers = planned(bed, model_server)
    repo = bed.person()
    seen: list[str] = []

    def fold(body: dict[str, Any], provider: str) -> Turn:
        seen.append(system_text(body))
        return Turn(tool_calls=[("submit_plan", {"tasks": []})])

    model_server.policy(fold)
    for title in ("Task A", "Task B"):
        repo.get_issue(numbers[title]).set_labels("orchestra:task", "orchestra:review")
        report = f"Finished {title}.\n\n**Concerns**\n- {title} has no error handling yet"
        bed.forge().comment(numbers[title], handoff_comment(numbers[title], report))
        bed.submit("handoff", goal)  # the second submission finds the first still queued
    bed.work()
    assert len(seen) == 1
    assert "Finished Task A" in seen[0] and "Finished Task B" in seen[0]
    assert repo.get_issues(state="all").totalCount == 3


def test_a_handoff_that_only_says_it_is_done_costs_no_planning_run(bed: Bed, model_server: ModelServer) -> None:
    """A summary and notes say the task was done as asked: recorded as folded in, no planner call; the
    goal still completes when its last task closes."""
    goal, numbers = planned(bed, model_server)
    repo = bed.person()
    calls = len(model_server.requests)
    for title in ("Task A", "Task B"):
        repo.get_issue(numbers[title]).set_labels("orchestra:task", "orchestra:review")
        report = f"Finished {title}.\n\n**Notes**\n- {title} reuses the helper in util.py"
        bed.forge().comment(numbers[title], handoff_comment(numbers[title], report))
        bed.submit("handoff", goal)
        bed.work()
    assert len(model_server.requests) == calls  # no planning pass
    status = next(c.body for c in repo.get_issue(goal).get_comments() if "orchestra:status" in c.body)
    assert "plan (version 1)" in status
    for title in ("Task A", "Task B"):
        repo.get_issue(numbers[title]).edit(state="closed")
        bed.submit("on_task_closed", numbers[title])
        bed.work()
    assert repo.get_issue(goal).state == "closed"  # every handoff counted as folded in
    assert len(model_server.requests) == calls
