"""Dispatch honours `max_parallel_tasks` (working tasks plus live implement jobs), and the steering verbs
work: `pause` stops new dispatch and `resume` restarts it, `status` rewrites the status comment,
`cancel` closes open tasks as not planned and drops their queued jobs. The plan comes from a
`scripted:` model here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.jobs import VERB_HANDLERS
from bot.llm.scripted import call, register_script, scripted_model, turns, unregister_script
from bot.llm.types import Reply
from bot.planner.context import Planner
from bot.planner.dispatch import dispatch_repository
from bot.planner.goal_jobs import dispatch_only, plan_goal
from bot.repoconfig import RepoConfig
from bot.steering import CommandContext, execute
from tests.support.planner_bed import Bed, task

PLAN = {"tasks": [task(f"t{i}", f"Task {i}", [f"t{i}.py"]) for i in range(4)]}


@pytest.fixture
def planner(bed: Bed) -> Iterator[Planner]:
    register_script("four-tasks", turns([Reply(tool_calls=[call("submit_plan", **PLAN)])]))
    planner = bed.planner(lambda: scripted_model("scripted:four-tasks"))
    planner.config = RepoConfig(max_parallel_tasks=2)
    yield planner
    unregister_script("four-tasks")


def dispatch(bed: Bed, planner: Planner) -> None:
    """The `dispatch_repo` job a goal job asks for, run with the planner's config (a cap of 2)."""
    dispatch_repository(planner.forge, planner.config, bed.executor, None)


def ctx(bed: Bed, planner: Planner, number: int, sender: str = "writer", text: str = "") -> CommandContext:
    return CommandContext(
        forge=planner.forge,
        config=planner.config,
        settings=bed.settings,
        executor=bed.executor,
        number=number,
        comment_id=99,
        sender=sender,
        text=text,
        installation_id=None,
    )


def test_dispatch_keeps_at_most_max_parallel_tasks_in_flight(bed: Bed, planner: Planner) -> None:
    goal = bed.goal()
    plan_goal(planner, goal)
    repo = bed.person()
    numbers = sorted(i.number for i in repo.get_issue(goal).get_sub_issues())
    assert all("orchestra:ready" in {lb.name for lb in repo.get_issue(n).labels} for n in numbers)
    assert bed.implement_queue() == []  # the goal's job asked for the repository's dispatch...
    assert bed.conn.exists("rq:job:dispatch_repo-acme_sshop")
    dispatch(bed, planner)  # ...which starts the ready tasks within the cap
    assert bed.implement_queue() == numbers[:2]

    dispatch(bed, planner)
    assert bed.implement_queue() == numbers[:2]  # the cap is reached by the two live jobs

    bed.executor.cancel(f"implement-acme_sshop-{numbers[0]}")  # a worker took it off the queue...
    repo.get_issue(numbers[0]).set_labels("orchestra:task", "orchestra:working")  # ...and claimed it
    dispatch(bed, planner)
    assert bed.implement_queue() == [numbers[1]]

    repo.get_issue(numbers[0]).edit(state="closed")
    dispatch(bed, planner)
    assert bed.implement_queue() == [numbers[1], numbers[2]]


def test_pause_resume_status_and_cancel(bed: Bed, planner: Planner) -> None:
    goal = bed.goal()
    assert execute(ctx(bed, planner, goal), "pause", VERB_HANDLERS) is not None
    plan_goal(planner, goal)
    repo = bed.person()
    numbers = sorted(i.number for i in repo.get_issue(goal).get_sub_issues())
    assert len(numbers) == 4 and bed.implement_queue() == []  # planned, but nothing dispatched while paused
    assert "**Paused**" in next(c.body for c in repo.get_issue(goal).get_comments() if "orchestra:status" in c.body)

    dispatch(bed, planner)
    assert bed.implement_queue() == []  # a paused goal dispatches nothing, whoever asks
    assert "Resumed" in (execute(ctx(bed, planner, goal), "resume", VERB_HANDLERS) or "")
    assert "orchestra:paused" not in {lb.name for lb in repo.get_issue(goal).labels}
    dispatch_only(planner, goal)  # the dispatch job the resume enqueued...
    dispatch(bed, planner)  # ...asks for the repository's
    assert bed.implement_queue() == numbers[:2]

    reply = execute(ctx(bed, planner, goal), "status", VERB_HANDLERS)
    assert reply == "The status comment above is up to date."
    assert "plan (version 1): 0/4 closed" in next(
        c.body for c in repo.get_issue(goal).get_comments() if "orchestra:status" in c.body
    )

    reply = execute(ctx(bed, planner, goal), "cancel", VERB_HANDLERS)
    assert reply is not None and "closed 4 open task(s) as not planned" in reply
    assert bed.implement_queue() == []
    for number in numbers:
        issue = repo.get_issue(number)
        assert (issue.state, issue.state_reason) == ("closed", "not_planned")
    goal_issue = repo.get_issue(goal)
    assert goal_issue.state == "open" and "orchestra:paused" in {lb.name for lb in goal_issue.labels}


def test_plan_on_a_planned_goal_points_to_replan_and_on_a_task_says_so(bed: Bed, planner: Planner) -> None:
    goal = bed.goal()
    plan_goal(planner, goal)
    assert "already has a plan (version 1)" in (execute(ctx(bed, planner, goal), "plan", VERB_HANDLERS) or "")
    first_task = min(i.number for i in bed.person().get_issue(goal).get_sub_issues())
    assert (
        execute(ctx(bed, planner, first_task), "replan", VERB_HANDLERS)
        == f"`/orchestra replan` works on a goal; #{first_task} is a task: run it on its goal #{goal}."
    )


def test_dispatch_is_repository_wide_oldest_goal_first_and_needs_human_frees_a_slot(bed: Bed, planner: Planner) -> None:
    older, newer = bed.goal("Older goal"), bed.goal("Newer goal")
    plan_goal(planner, newer)  # planned first, but its goal is the newer one
    plan_goal(planner, older)
    repo = bed.person()
    first = sorted(i.number for i in repo.get_issue(older).get_sub_issues())
    second = sorted(i.number for i in repo.get_issue(newer).get_sub_issues())
    dispatch(bed, planner)
    assert bed.implement_queue() == first[:2]  # the cap of 2, the older goal first

    for number in first[:2]:  # both workers claim, then give up: their tasks need a person
        bed.executor.cancel(f"implement-acme_sshop-{number}")
        repo.get_issue(number).set_labels("orchestra:task", "orchestra:needs-human")
    dispatch(bed, planner)  # what the implement jobs' end asks for
    assert bed.implement_queue() == first[2:]  # the freed slots go to the oldest goal's ready tasks

    repo.get_issue(older).add_to_labels("orchestra:paused")  # a paused goal dispatches nothing...
    for number in first[2:]:
        bed.executor.cancel(f"implement-acme_sshop-{number}")
    dispatch(bed, planner)
    assert bed.implement_queue() == second[:2]  # ...and leaves its slots to the others
