"""Acceptance 4, a plan people approve (`planning.approval: required`): the planner posts the plan (tasks,
owned paths, dependencies, an estimate) and files and dispatches nothing; a reader's `/orchestra approve`
changes nothing (no task on the forge, no job, no model request on the stand-in); a writer's approve files
the tasks and dispatches them."""

from __future__ import annotations

from typing import Any

from bot.ledger.record import load_record
from bot.queue.kinds import JobRequest
from tests.support.git_repos import git
from tests.support.model_server import ModelServer, Turn
from tests.support.planner_bed import REPO, Bed, task

PLAN = {
    "tasks": [
        task("models", "Order model", ["shop/order.py"]),
        task("api", "Checkout API", ["shop/api.py"], ["models"]),
    ],
    "notes": ["Money is integer cents."],
}
APPROVAL = ".github/orchestra.yml"


def policy(body: dict[str, Any], provider: str) -> Turn:
    return Turn(tool_calls=[("submit_plan", PLAN)], input_tokens=500, output_tokens=50)


def _require_approval(bed: Bed) -> None:
    clone = bed.tmp / "clone"
    git(bed.tmp, "clone", "-q", bed.hub.git_url(REPO, "acme"), str(clone))
    (clone / APPROVAL).write_text("max_parallel_tasks: 10\nplanning:\n  approval: required\n")
    git(clone, "commit", "-qam", "Plans wait for approval")
    git(clone, "push", "-q", "origin", "HEAD:main")


def _command(bed: Bed, number: int, login: str, verb: str) -> None:
    comment = bed.hub.github(login).get_repo(REPO).get_issue(number).create_comment(f"/orchestra {verb}")
    bed.executor.submit(
        JobRequest.make(
            "command",
            repo=REPO,
            number=number,
            comment_id=comment.id,
            verb=verb,
            text="",
            sender=login,
            installation_id=None,
        )
    )
    bed.work()


def _tasks(bed: Bed, goal: int) -> list[int]:
    return sorted(i.number for i in bed.person().get_issue(goal).get_sub_issues())


def _comments(bed: Bed, number: int) -> list[str]:
    return [c.body for c in bed.person().get_issue(number).get_comments()]


def test_nothing_is_filed_or_dispatched_until_a_writer_approves(bed: Bed, model_server: ModelServer) -> None:
    _require_approval(bed)
    model_server.policy(policy)
    goal = bed.goal()
    bed.submit("plan", goal)
    bed.work()

    plan = next(b for b in _comments(bed, goal) if "orchestra:plan-approval" in b)
    assert "### Plan to approve (version 1): 2 task(s)" in plan
    assert "`api` Checkout API — owns `shop/api.py`; after `models`; size s" in plan
    assert "**Estimate**: 2 small; about 20 agent steps in all." in plan and "Money is integer cents." in plan
    status = next(b for b in _comments(bed, goal) if "orchestra:status" in b)
    assert "**Waiting for approval**" in status
    assert _tasks(bed, goal) == [] and bed.implement_queue() == []
    asked = len(model_server.requests)
    assert asked == 1

    bed.submit("plan", goal)  # a second plan job (a sweep, a redelivery) asks no model and files nothing
    bed.work()
    assert _tasks(bed, goal) == [] and len(model_server.requests) == asked

    _command(bed, goal, "reader", "approve")  # read access: nothing changes but one notice
    assert _tasks(bed, goal) == [] and bed.implement_queue() == [] and len(model_server.requests) == asked
    assert load_record(bed.forge(), goal).plan_approval is None
    assert any("only people with write access" in b and "@reader" in b for b in _comments(bed, goal))

    _command(bed, goal, "writer", "approve")
    numbers = _tasks(bed, goal)
    assert len(numbers) == 2
    assert bed.implement_queue() == numbers[:1]  # the model first; the API waits for it
    assert len(model_server.requests) == asked  # approving publishes the recorded plan, no new planning
    record = load_record(bed.forge(), goal)
    assert record.plan_approval is not None and record.plan_approval.by == "writer"
    assert "Approved by @writer" in next(b for b in _comments(bed, goal) if "orchestra:plan-approval" in b)

    _command(bed, goal, "writer", "approve")  # twice is harmless
    assert _tasks(bed, goal) == numbers
    assert any("Nothing waits for approval here" in b for b in _comments(bed, goal))


def test_without_the_setting_a_plan_is_published_at_once(bed: Bed, model_server: ModelServer) -> None:
    model_server.policy(policy)
    goal = bed.goal()
    bed.submit("plan", goal)
    bed.work()
    assert len(_tasks(bed, goal)) == 2
    assert not any("orchestra:plan-approval" in b for b in _comments(bed, goal))


def test_a_local_run_waits_for_an_approval_instead_of_calling_the_goal_stuck(
    bed: Bed, model_server: ModelServer
) -> None:
    from bot import repofiles
    from bot.modes.local.snapshot import take_snapshot
    from bot.modes.local.verdict import judge

    _require_approval(bed)
    model_server.policy(policy)
    goal = bed.goal()
    bed.submit("plan", goal)
    bed.work()
    forge = bed.forge()
    config = repofiles.read_config(forge)
    verdict = judge(forge, config, take_snapshot(forge, config, goal))
    assert not verdict.is_stuck
    assert verdict.waiting == [f"#{goal} (the goal): its plan waits for your `/orchestra approve`"]
