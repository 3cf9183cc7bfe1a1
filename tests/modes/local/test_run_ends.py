"""`orchestra run` ends: a ready task never starves, a run that needs a person says so and exits 1 quickly,
and labels tell the truth — end to end on localhub with scripted models.

(a) A sub-goal's task becomes ready while every slot of `max_parallel_tasks: 2` is taken by two
    tasks of the parent goal; those two then go to `needs-human`. The freed slots start the
    sub-goal's task (dispatch is repository-wide), its dependant follows, and the run ends with
    exit 1 naming the two stuck tasks — before this change the sub-goal's task stayed `ready`
    for ever and the run sat until its timeout.
(b) A task that needs a person, and its dependant: the run exits 1 within 30 s of the last
    movement, naming `#2 needs-human: <why>` and `#3 waiting on #2 (needs-human)`.
(c) The same with the merge queue on (`merge.policy: auto`, the default `merge.queue: batch`): one task
    lands through the queue, another needs a person and a third waits on it — exit 1 within 30 s of
    the last movement, naming both, and the landed work on the result branch as a queue commit.
(d) Every closed task of a run carries no state label (read from localhub's store afterwards).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.llm.scripted import call, register_script, unregister_script
from bot.llm.types import Message, Reply, ToolSpec
from bot.modes.demo.policy import Turn, finish, reply
from bot.modes.local.run import Goal, run_local
from bot.modes.local.session import LocalOptions
from bot.settings import Settings
from localhub.store import Store
from tests.support.git_repos import git, make_repo
from tests.support.local_bed import (
    PLAN,
    PROJECT,
    Watching,
    labels_of_closed,
    textstats_policy,
)

STARVE_PROJECT = {
    **PROJECT,
    ".github/orchestra.yml": (
        "test_command: python3 -m unittest discover -s tests -t .\nmax_parallel_tasks: 2\nmerge:\n  policy: auto\n"
    ),
}
TOP_PLAN = {
    "tasks": [
        {"key": "a1", "title": "Try a1", "objective": "Try a1.", "owned_paths": ["a1.py"]},
        {"key": "a2", "title": "Try a2", "objective": "Try a2.", "owned_paths": ["a2.py"]},
        {
            "key": "area",
            "title": "The area",
            "objective": "Everything under area/.",
            "owned_paths": ["area/"],
            "kind": "subgoal",
        },
    ]
}
SUB_PLAN = {
    "tasks": [
        {
            "key": "s1",
            "title": "Add area/s1.txt",
            "objective": "Add area/s1.txt.",
            "owned_paths": ["area/s1.txt"],
            "acceptance_commands": ["test -f area/s1.txt"],
        },
        {
            "key": "s2",
            "title": "Add area/s2.txt",
            "objective": "Add area/s2.txt.",
            "owned_paths": ["area/s2.txt"],
            "acceptance_commands": ["test -f area/s2.txt"],
            "depends_on": ["s1"],
        },
    ]
}


def subgoal_dispatched(display: Watching) -> bool:
    """The sub-goal is planned and its job concluded: its status comment exists and `s1` is ready."""
    if not display.url or not any("state in " in m for m in display.messages):
        return False
    api, headers = display.api()
    issues = requests.get(
        f"{api}/repos/you/textstats/issues?state=all&per_page=100", headers=headers, timeout=10
    ).json()
    area = next((i for i in issues if i["title"] == "The area"), None)
    s1 = next((i for i in issues if i["title"] == "Add area/s1.txt"), None)
    if area is None or s1 is None or "orchestra:ready" not in {label["name"] for label in s1["labels"]}:
        return False
    notes = requests.get(
        f"{api}/repos/you/textstats/issues/{area['number']}/comments", headers=headers, timeout=10
    ).json()
    return any("orchestra:status" in c["body"] and "plan (version 1)" in c["body"] for c in notes)


def starving_policy(display: Watching) -> Any:
    def policy(messages: list[Message], tools: list[ToolSpec]) -> Reply:
        turn = Turn(messages, tools)
        if "submit_plan" in turn.tools:
            if turn.request.startswith("Revise"):
                return reply("nothing to add", call("submit_plan", tasks=[]))
            sub = turn.system.startswith("You are the sub-planner")
            return reply("plan", call("submit_plan", **(SUB_PLAN if sub else TOP_PLAN)))
        if turn.key in ("a1", "a2"):
            # Hold both slots until the sub-goal's task is ready and its goal's dispatch found no slot.
            deadline = time.monotonic() + 60
            while not subgoal_dispatched(display) and time.monotonic() < deadline:
                time.sleep(0.2)
            return finish("cannot do this", "blocked", concerns=[f"{turn.key} needs a decision"])
        if turn.step == 0:
            path = f"area/{turn.key}.txt"
            return reply("change", call("write_file", path=path, content=f"{turn.key}\n"))
        if turn.step == 1:
            return reply("verify", *(call("run", command=c) for c in turn.acceptance))
        return finish(f"done: {turn.key}")

    return policy


QUEUED_PLAN = {
    "tasks": [
        PLAN["tasks"][0],
        {
            "key": "decide",
            "title": "Decide the counting rules",
            "objective": "Needs a decision.",
            "owned_paths": ["RULES.md"],
        },
        {
            "key": "apply",
            "title": "Apply the counting rules",
            "objective": "After the decision.",
            "owned_paths": ["textstats/rules.py"],
            "depends_on": ["decide"],
        },
    ]
}


def queued_blocked_policy(messages: list[Message], tools: list[ToolSpec]) -> Reply:
    """Plans line-count (done, lands through the queue), `decide` (blocked) and `apply` after it."""
    turn = Turn(messages, tools)
    if "submit_plan" in turn.tools:
        if turn.request.startswith("Revise"):
            return reply("nothing to add", call("submit_plan", tasks=[]))
        return reply("plan", call("submit_plan", **QUEUED_PLAN))
    if turn.key == "line-count":
        return textstats_policy(messages, tools)
    return finish("cannot do this", "blocked", concerns=["the counting rules need a decision"])


def chain_blocked_policy(messages: list[Message], tools: list[ToolSpec]) -> Reply:
    """Plans line-count and the README task after it; the first cannot be done."""
    if "submit_plan" in {t.name for t in tools}:
        return reply("plan", call("submit_plan", **PLAN))
    return finish("cannot do this", "blocked", concerns=["the task needs a decision"])


@pytest.fixture
def models() -> Iterator[Watching]:
    display = Watching()
    register_script("starving", lambda: starving_policy(display))
    register_script("chain-blocked", lambda: chain_blocked_policy)
    register_script("textstats-ends", lambda: textstats_policy)
    register_script("queued-blocked", lambda: queued_blocked_policy)
    yield display
    for name in ("starving", "chain-blocked", "textstats-ends", "queued-blocked"):
        unregister_script(name)


@pytest.mark.timeout(240)
def test_a_task_that_became_ready_while_every_slot_was_taken_runs_when_slots_free(
    tmp_path: Path, models: Watching
) -> None:
    repo = make_repo(tmp_path / "textstats", STARVE_PROJECT)
    options = LocalOptions(repo=repo, workers=4, model="scripted:starving", merge=None)

    summary = run_local(options, Settings(), Goal("Starve", "Two tasks, and an area."), models, timeout_s=200)

    assert not summary.ok
    assert "deadline" not in summary.problem
    assert summary.tasks_done == 2 and summary.prs_merged == 2  # s1 ran once a1/a2 freed their slots; s2 after it
    by_title = numbers_by_title(summary.state_dir)
    assert sorted(summary.needs_human) == sorted([by_title["Try a1"], by_title["Try a2"]])
    for title in ("Try a1", "Try a2"):
        assert f"#{by_title[title]} needs-human: The agent could not complete this task" in summary.problem
    last_move = models.moves[-1][0]
    assert time.monotonic() - last_move < 45  # ended soon after the last movement (plus the summary's reads)
    closed = labels_of_closed(summary.state_dir)
    for number in (by_title["Add area/s1.txt"], by_title["Add area/s2.txt"], by_title["The area"]):
        assert closed[number] & {"orchestra:review", "orchestra:working", "orchestra:ready"} == set(), closed


def numbers_by_title(state_dir: str) -> dict[str, int]:
    store = Store(Path(state_dir) / "localhub")
    try:
        rows = store.all(
            "SELECT i.number, i.title FROM issues i WHERE NOT EXISTS (SELECT 1 FROM pulls p WHERE p.issue_id = i.id)"
        )  # not the PRs, which share titles
        return {row["title"]: int(row["number"]) for row in rows}
    finally:
        store.close()


@pytest.mark.timeout(120)
def test_a_run_that_needs_a_person_exits_1_within_30_s_of_the_last_movement_naming_each_issue(
    tmp_path: Path, models: Watching
) -> None:
    repo = make_repo(tmp_path / "textstats", PROJECT)
    options = LocalOptions(repo=repo, workers=2, model="scripted:chain-blocked", merge=None)
    done: list[float] = []

    summary = run_local(options, Settings(), Goal("Count lines", "Add line_count."), models, timeout_s=100)
    done.append(time.monotonic())

    assert not summary.ok and summary.needs_human == [2]
    assert (
        "#2 needs-human: The agent could not complete this task — the agent did not finish task #2" in summary.problem
    )
    assert "#3 waiting on #2 (needs-human)" in summary.problem
    last_move = models.moves[-1][0]
    assert done[0] - last_move < 30, f"exited {done[0] - last_move:.1f}s after the last movement"
    print(f"\nexited {done[0] - last_move:.1f}s after the last movement")


@pytest.mark.timeout(150)
def test_with_the_merge_queue_on_a_run_that_needs_a_person_exits_1_within_30_s_naming_each_issue(
    tmp_path: Path, models: Watching
) -> None:
    repo = make_repo(tmp_path / "textstats", PROJECT)
    options = LocalOptions(repo=repo, workers=2, model="scripted:queued-blocked", merge="auto")  # queue: batch

    summary = run_local(
        options, Settings(), Goal("Count lines", "Add line_count and the rules."), models, timeout_s=130
    )
    done = time.monotonic()

    assert not summary.ok and summary.tasks_done == 1 and summary.prs_merged == 1
    by_title = numbers_by_title(summary.state_dir)
    decide, apply = by_title["Decide the counting rules"], by_title["Apply the counting rules"]
    assert summary.needs_human == [decide]
    assert f"#{decide} needs-human: The agent could not complete this task" in summary.problem
    assert f"#{apply} waiting on #{decide} (needs-human)" in summary.problem
    hub_repo = Path(summary.state_dir) / "localhub" / "git" / "you" / "textstats.git"
    subjects = git(hub_repo, "log", "--first-parent", "--format=%s", "main").splitlines()
    assert subjects[0].startswith("Merge queue: #") and subjects[0].endswith(" into main")  # landed by the queue
    last_move = models.moves[-1][0]
    assert done - last_move < 30, f"exited {done - last_move:.1f}s after the last movement"
    print(f"\nwith the queue on: exited {done - last_move:.1f}s after the last movement")


@pytest.mark.timeout(120)
def test_closed_tasks_carry_no_state_label(tmp_path: Path, models: Watching) -> None:
    repo = make_repo(tmp_path / "textstats", PROJECT)
    options = LocalOptions(repo=repo, workers=2, model="scripted:textstats-ends", merge="auto")
    summary = run_local(options, Settings(), Goal("Count lines", "Add line_count."), models, timeout_s=100)

    assert summary.ok and summary.tasks_done == 2
    closed = labels_of_closed(summary.state_dir)
    tasks = [number for number, names in closed.items() if "orchestra:task" in names]
    assert len(tasks) == 2
    for number in tasks:
        assert closed[number] == {"orchestra:task"}, f"#{number} closed with {closed[number]}"
    assert closed[1] == {"orchestra:goal"}  # the goal too: closed, no state
