"""Acceptance 3: `/orchestra replan` from a writer changes the plan as asked (obsolete task closed as not
planned, new task added, working task kept, the request comment edited with what changed); from a
read-only user nothing changes and one polite reply is posted."""

from __future__ import annotations

from typing import Any

from bot.queue.kinds import JobRequest
from tests.support.model_server import ModelServer, Turn
from tests.support.planner_bed import REPO, Bed, system_text, task

FIRST = {"tasks": [task("a", "Task A", ["a.py"]), task("b", "Task B", ["b.py"]), task("w", "Task W", ["w.py"])]}
REVISION = {
    "tasks": [task("c", "Task C", ["c.py"], ["a"])],
    "obsolete": [{"key": "b", "reason": "B is no longer wanted"}],
}


def policy(body: dict[str, Any], provider: str) -> Turn:
    replanning = "Guidance from a person" in system_text(body)
    if replanning:
        assert "Drop B, add C after A." in system_text(body) and "`b` #" in system_text(body)
    return Turn(tool_calls=[("submit_plan", REVISION if replanning else FIRST)])


def command(bed: Bed, goal: int, login: str, text: str) -> None:
    comment = bed.hub.github(login).get_repo(REPO).get_issue(goal).create_comment(f"/orchestra replan {text}")
    bed.executor.submit(
        JobRequest.make(
            "command",
            repo=REPO,
            number=goal,
            comment_id=comment.id,
            verb="replan",
            text=text,
            sender=login,
            installation_id=None,
        )
    )
    bed.work()


def test_replan_from_a_writer_changes_the_plan_and_from_a_reader_nothing(bed: Bed, model_server: ModelServer) -> None:
    model_server.policy(policy)
    goal = bed.goal()
    bed.submit("plan", goal)
    bed.work()
    repo = bed.person()
    numbers = {i.title: i.number for i in repo.get_issue(goal).get_sub_issues()}
    repo.get_issue(numbers["Task W"]).set_labels("orchestra:task", "orchestra:working")  # a worker claimed it

    command(bed, goal, "reader", "Drop everything.")
    assert len(model_server.requests) == 1
    replies = [c.body for c in repo.get_issue(goal).get_comments() if "@reader" in c.body]
    assert len(replies) == 1 and "only people with write access" in replies[0]
    assert all(repo.get_issue(n).state == "open" for n in numbers.values())

    command(bed, goal, "writer", "Drop B, add C after A.")
    assert len(model_server.requests) == 2
    b = repo.get_issue(numbers["Task B"])
    assert (b.state, b.state_reason) == ("closed", "not_planned")
    assert "B is no longer wanted" in [c.body for c in b.get_comments()][-1]
    subs = {i.title: i for i in repo.get_issue(goal).get_sub_issues()}
    assert set(subs) == {"Task A", "Task B", "Task W", "Task C"}
    assert f"Depends on #{numbers['Task A']}" in subs["Task C"].body
    assert subs["Task W"].state == "open" and subs["Task A"].state == "open"
    answer = [c.body for c in repo.get_issue(goal).get_comments() if "@writer" in c.body]
    assert len(answer) == 1
    assert (
        f"Plan version 2: added #{subs['Task C'].number} Task C; closed as not planned #{numbers['Task B']}"
        in answer[0]
    )
