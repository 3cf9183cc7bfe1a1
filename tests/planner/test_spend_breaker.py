"""The spend breaker: when a goal's (or the day's) cap on tokens or dollars is reached the dispatcher starts
no new work, the goal says so and is labelled paused; a reader's `/orchestra resume` changes nothing, a
writer's continues (the cap then counts from there), and so does a raised cap. The accounts are on the forge
(the planner's record), so losing Redis loses none of them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.jobs import VERB_HANDLERS
from bot.ledger.record import load_record, utc_day
from bot.llm.scripted import call, register_script, scripted_model, turns, unregister_script
from bot.llm.types import Reply
from bot.planner.context import Planner
from bot.planner.dispatch import dispatch_repository
from bot.planner.goal_jobs import dispatch_only, plan_goal
from bot.repoconfig import RepoConfig, parse_repo_config
from bot.steering import CommandContext, execute
from tests.support.planner_bed import Bed, task

PLAN = {"tasks": [task(f"t{i}", f"Task {i}", [f"t{i}.py"]) for i in range(3)]}


@pytest.fixture
def planner(bed: Bed) -> Iterator[Planner]:
    register_script("three-tasks", turns([Reply(tool_calls=[call("submit_plan", **PLAN)])]))
    yield bed.planner(lambda: scripted_model("scripted:three-tasks"))
    unregister_script("three-tasks")


def capped(text: str) -> RepoConfig:
    return parse_repo_config("max_parallel_tasks: 2\n" + text)


def ctx(bed: Bed, planner: Planner, number: int, sender: str) -> CommandContext:
    return CommandContext(
        forge=planner.forge,
        config=planner.config,
        settings=bed.settings,
        executor=bed.executor,
        number=number,
        comment_id=7,
        sender=sender,
        text="",
        installation_id=None,
    )


def labels(bed: Bed, number: int) -> set[str]:
    return {label.name for label in bed.person().get_issue(number).labels}


def breaker_text(bed: Bed, goal: int) -> str:
    return next(c.body for c in bed.person().get_issue(goal).get_comments() if "orchestra:spend-breaker" in c.body)


def test_a_goal_cap_stops_new_work_until_a_writer_resumes(bed: Bed, planner: Planner) -> None:
    planner.config = capped("budgets: {goal: {tokens: 1}}")  # the planner's own tokens reach it
    goal = bed.goal()
    plan_goal(planner, goal)
    spent = load_record(planner.forge, goal).spend
    assert spent.tokens > 0 and spent.days[utc_day()].tokens == spent.tokens  # counted on the forge, by UTC day
    dispatch_repository(planner.forge, planner.config, bed.executor, None)
    assert bed.implement_queue() == []  # no new work starts
    assert "orchestra:paused" in labels(bed, goal)
    assert f"**Spend cap reached**: this goal used {spent.tokens:,} tokens of its cap of 1" in breaker_text(bed, goal)

    bed.conn.flushall()  # Redis lost: the accounts are on the forge
    dispatch_repository(planner.forge, planner.config, bed.executor, None)
    assert bed.implement_queue() == []

    execute(ctx(bed, planner, goal, "reader"), "resume", VERB_HANDLERS)  # read access: nothing changes
    dispatch_repository(planner.forge, planner.config, bed.executor, None)
    assert "orchestra:paused" in labels(bed, goal) and bed.implement_queue() == []

    reply = execute(ctx(bed, planner, goal, "writer"), "resume", VERB_HANDLERS)
    assert reply is not None and "Resumed past the spend cap" in reply
    dispatch_only(planner, goal)
    dispatch_repository(planner.forge, planner.config, bed.executor, None)
    assert "orchestra:paused" not in labels(bed, goal)
    assert len(bed.implement_queue()) == 2  # the cap counts from the spend at the resume
    assert "@writer resumed this goal" in breaker_text(bed, goal)


def test_a_raised_cap_continues_and_a_day_cap_names_the_utc_date(bed: Bed, planner: Planner) -> None:
    planner.config = capped("budgets: {day: {tokens: 1}}")
    goal = bed.goal()
    plan_goal(planner, goal)
    dispatch_repository(planner.forge, planner.config, bed.executor, None)
    assert bed.implement_queue() == [] and "orchestra:paused" in labels(bed, goal)
    assert "the repository used" in breaker_text(bed, goal) and f"on {utc_day()} (UTC)" in breaker_text(bed, goal)

    planner.config = capped("budgets: {day: {tokens: 100000000}}")  # a person raised the cap
    dispatch_repository(planner.forge, planner.config, bed.executor, None)
    assert "orchestra:paused" not in labels(bed, goal)
    assert len(bed.implement_queue()) == 2
    assert "no longer reached" in breaker_text(bed, goal)


def test_without_caps_nothing_is_read_or_stopped(bed: Bed, planner: Planner) -> None:
    planner.config = capped("")
    goal = bed.goal()
    plan_goal(planner, goal)
    dispatch_repository(planner.forge, planner.config, bed.executor, None)
    assert len(bed.implement_queue()) == 2 and "orchestra:paused" not in labels(bed, goal)
