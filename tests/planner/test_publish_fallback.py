"""When the forge refuses sub-issue links, tasks are listed in a bot-owned task list in the goal's body
(the person's text kept), found again from there, and a second publish creates nothing new."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from github.GithubException import GithubException

from bot.ledger import markers
from bot.ledger.goaltree import find_tasks
from bot.llm.scripted import call, register_script, scripted_model, turns, unregister_script
from bot.llm.types import Reply
from bot.planner.goal_jobs import plan_goal
from tests.support.planner_bed import Bed, task

PLAN = {"tasks": [task("a", "Task A", ["a.py"]), task("b", "Task B", ["b.py"], ["a"])]}


@pytest.fixture
def script() -> Iterator[str]:
    register_script("two-tasks", turns([Reply(tool_calls=[call("submit_plan", **PLAN)])]))
    yield "scripted:two-tasks"
    unregister_script("two-tasks")


def test_refused_links_fall_back_to_a_task_list_in_the_goal_body(
    bed: Bed, script: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    planner = bed.planner(lambda: scripted_model(script))

    def refuse(parent: int, child_id: int) -> None:
        raise GithubException(404, {"message": "Not Found"}, None)

    monkeypatch.setattr(planner.forge, "add_sub_issue", refuse)
    goal = bed.goal(body="Customers can pay.")
    plan_goal(planner, goal)
    body = bed.person().get_issue(goal).body
    assert body.startswith("Customers can pay.")
    tasks = find_tasks(planner.forge, planner.config, goal)
    assert [t.key for t in tasks] == ["a", "b"]
    assert markers.read_section(body, "tasks") == "\n".join(f"- [ ] #{t.number}" for t in tasks)
    assert f"Depends on #{tasks[0].number}" in tasks[1].issue.body

    plan_goal(planner, goal)
    assert bed.person().get_issues(state="all").totalCount == 3
