"""Every verb checks what it was given — a goal, a task, an orchestra pull request or another issue — and
answers clearly where it does not apply, changing nothing; `/orchestra retry` on a goal (what its failure
comments recommend) retries the goal's tasks that need a person, never runs a worker on the goal itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.errors import AgentFailed, UnexpectedFailure
from bot.jobs import VERB_HANDLERS
from bot.ledger import labels
from bot.ledger.failures import report_failure
from bot.ledger.labels import State
from bot.llm.scripted import call, register_script, scripted_model, turns, unregister_script
from bot.llm.types import Reply
from bot.planner.context import Planner
from bot.planner.goal_jobs import plan_goal
from bot.settings import Settings
from bot.steering import CommandContext, execute
from tests.support.planner_bed import Bed, task
from tests.support.worker_bed import Recorder

PLAN = {"tasks": [task(f"t{i}", f"Task {i}", [f"t{i}.py"]) for i in range(4)]}


@pytest.fixture
def planner(bed: Bed) -> Iterator[Planner]:
    register_script("four-targets", turns([Reply(tool_calls=[call("submit_plan", **PLAN)])]))
    yield bed.planner(lambda: scripted_model("scripted:four-targets"))
    unregister_script("four-targets")


def _ctx(planner: Planner, number: int, recorder: Recorder, text: str = "") -> CommandContext:
    return CommandContext(
        forge=planner.forge,
        config=planner.config,
        settings=Settings(),
        executor=recorder,
        number=number,
        comment_id=7,
        sender="writer",
        text=text,
        installation_id=None,
    )


def _planned(bed: Bed, planner: Planner) -> tuple[int, list[int]]:
    goal = bed.goal()
    plan_goal(planner, goal)
    return goal, sorted(i.number for i in bed.person().get_issue(goal).get_sub_issues())


def test_retry_on_a_goal_retries_its_stuck_tasks_not_the_goal(bed: Bed, planner: Planner) -> None:
    goal, tasks = _planned(bed, planner)
    forge, config = planner.forge, planner.config
    report_failure(forge, config, tasks[0], AgentFailed("the agent gave up"), step="implement")  # needs-human
    labels.set_state(forge, tasks[1], State.WORKING, config)  # a job died on it after a failure comment
    report_failure(forge, config, tasks[1], UnexpectedFailure("KeyError in `implement`"), step="implement")
    labels.set_state(forge, tasks[2], State.WORKING, config)  # a worker is on it: not stuck
    recorder = Recorder()
    reply = execute(_ctx(planner, goal, recorder), "retry", VERB_HANDLERS)
    assert reply is not None and reply.startswith("Retrying:")
    assert [(job.kind, job.args["number"]) for job in recorder.submitted] == [
        ("implement", tasks[0]),
        ("implement", tasks[1]),
    ]
    assert f"#{tasks[0]}" in reply and f"#{tasks[1]}" in reply and f"#{tasks[2]}" not in reply
    assert "orchestra:ready" in forge.get_issue(tasks[0]).labels
    assert "orchestra:working" in forge.get_issue(tasks[2]).labels


def test_retry_on_a_goal_with_nothing_stuck_says_so(bed: Bed, planner: Planner) -> None:
    goal, _tasks = _planned(bed, planner)
    recorder = Recorder()
    reply = execute(_ctx(planner, goal, recorder), "retry", VERB_HANDLERS)
    assert reply is not None and reply.startswith(f"Nothing to retry under goal #{goal}")
    assert recorder.submitted == []


def test_retry_on_a_goal_whose_planning_failed_plans_it_again(bed: Bed, planner: Planner) -> None:
    goal = bed.goal()
    labels.set_state(planner.forge, goal, State.NEEDS_HUMAN, planner.config)
    recorder = Recorder()
    reply = execute(_ctx(planner, goal, recorder), "retry", VERB_HANDLERS)
    assert reply == f"Retrying:\n- #{goal}: planning again"
    assert [job.kind for job in recorder.submitted] == ["plan", "dispatch"]
    assert "orchestra:needs-human" not in planner.forge.get_issue(goal).labels


@pytest.mark.parametrize(
    ("verb", "where", "answer"),
    [
        ("fix", "goal", "`/orchestra fix` works on an orchestra pull request; #{n} is a goal, so nothing changed."),
        ("fix", "task", "`/orchestra fix` works on an orchestra pull request; #{n} is a task, so nothing changed."),
        ("status", "task", "`/orchestra status` works on a goal; #{n} is a task: run it on its goal #{goal}."),
        ("cancel", "task", "`/orchestra cancel` works on a goal; #{n} is a task: run it on its goal #{goal}."),
        (
            "replan",
            "issue",
            "`/orchestra replan` works on a goal; #{n} is an issue that is not a goal or task. "
            "`/orchestra plan` makes it a goal.",
        ),
        (
            "pause",
            "issue",
            "`/orchestra pause` works on a goal or a task; #{n} is an issue that is not a goal or "
            "task. `/orchestra plan` makes it a goal.",
        ),
        (
            "retry",
            "issue",
            "`/orchestra retry` works on a goal, a task or an orchestra pull request; #{n} is an "
            "issue that is not a goal or task. `/orchestra plan` makes it a goal.",
        ),
        (
            "plan",
            "task",
            "`/orchestra plan` works on a goal or an issue that is not a goal or task; #{n} is a task: "
            "run it on its goal #{goal}.",
        ),
    ],
)
def test_a_verb_where_it_does_not_apply_is_answered_and_changes_nothing(
    bed: Bed, planner: Planner, verb: str, where: str, answer: str
) -> None:
    goal, tasks = _planned(bed, planner)
    number = {"goal": goal, "task": tasks[0], "issue": bed.person().create_issue("Just a bug", "b").number}[where]
    before = planner.forge.get_issue(number).labels
    recorder = Recorder()
    reply = execute(_ctx(planner, number, recorder, text="do it"), verb, VERB_HANDLERS)
    assert reply == answer.format(n=number, goal=goal)
    assert recorder.submitted == [] and planner.forge.get_issue(number).labels == before
