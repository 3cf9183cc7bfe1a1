"""Workers as processes (`rq worker` with OrchestraWorker) on a private Redis, against localhub and the model
stand-in, with the webhook app routing CI results and pushes: tasks become PRs that say `Closes #n`, pass
CI and merge under policy `auto`; conflicts and CI failures are fixed by the workers themselves; a
worker killed mid-task is replaced without a second PR; and no token leaks anywhere."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from rq.job import Job

from bot.queue.kinds import job_id
from tests.support.model_server import Turn
from tests.support.waiting import wait_for
from tests.support.worker_bed import REPO, Bed, finish, steps, write

pytestmark = pytest.mark.slow


def _merged(bed: Bed, task: int) -> bool:
    issue = bed.forge().get_issue(task)
    return issue.state == "closed"


def _prs(bed: Bed) -> list:
    return list(bed.owner_repo().get_pulls(state="all"))


def test_four_tasks_four_workers_four_merged_prs(bed: Bed) -> None:
    tasks = {}
    for letter in "abcd":
        number = bed.add_task(f"Add item {letter}", [f"test -f items/{letter}.txt"], [f"items/{letter}.txt"])
        tasks[letter] = number
        turns = [write(f"items/{letter}.txt", f"item {letter}\n"), finish(f"Added items/{letter}.txt")]
        if letter == "a":  # one agent looks at its sandbox's environment (checked for tokens below)
            turns.insert(0, Turn(tool_calls=[("run", {"command": "env; git config --list --show-origin"})]))
        bed.script(number, "worker", steps(*turns))
    bed.start_pool(4)
    report = bed.reconcile()
    assert len(report.new) == 4
    for number in tasks.values():
        wait_for(lambda n=number: _merged(bed, n), timeout=150, what=f"task #{number} closed by its merged PR")

    prs = _prs(bed)
    assert len(prs) == 4
    for pr in prs:
        assert pr.merged
        task = int(pr.head.ref.split("/")[1].split("-")[0])
        assert f"Closes #{task}" in pr.body
        assert "orchestra:attempts" in pr.body
    # Merged branches are deleted (just after the merge closed the task).
    wait_for(lambda: [b.name for b in bed.owner_repo().get_branches()] == ["main"], timeout=20, what="branches deleted")
    main = bed.owner_repo().get_branch("main").commit.sha
    files = {c.path for c in bed.owner_repo().get_contents("items", ref=main)}
    assert {f"items/{x}.txt" for x in "abcd"} <= files
    forge = bed.forge()
    for number in tasks.values():
        comments = [c.body for c in forge.list_comments(number)]
        assert any("orchestra:claim" in c for c in comments)
        assert any("orchestra:handoff" in c and "Pull request: #" in c for c in comments)
    # The planner is woken: a `handoff` job for the goal was enqueued.
    assert bed.conn.exists(f"rq:job:{job_id('handoff', {'repo': REPO, 'number': bed.goal})}")
    # The sandbox's environment had no token (the env output went back to the model).
    env_outputs = [
        m.get("content", "")
        for r in bed.model.requests
        for m in r.body.get("messages", [])
        if m.get("role") == "tool" and "PATH=" in str(m.get("content"))
    ]
    assert env_outputs, "the agent's `env` command ran"
    assert bed.leak_report() == []


def test_second_task_resolves_its_conflict_and_both_changes_land(bed: Bed) -> None:
    resolved = "[app]\nname = demo\nsize = 2\nmode = fast\n"
    first = bed.add_task("Grow size", ["grep -q 'size = 2' config.ini"], ["config.ini"])
    second = bed.add_task("Add mode", ["grep -q 'mode = fast' config.ini"], ["config.ini"])
    # Both agents start from the same main: each one's first model call waits until the other has asked.
    started = {first: threading.Event(), second: threading.Event()}

    def together(task: int, other: int, content: str, summary: str) -> Callable[[int, dict], Turn]:
        then = steps(write("config.ini", content), finish(summary))

        def pick(step: int, body: dict) -> Turn:
            started[task].set()
            started[other].wait(60)
            return then(step, body)

        return pick

    bed.script(first, "worker", together(first, second, "[app]\nname = demo\nsize = 2\n", "size 2"))
    bed.script(second, "worker", together(second, first, "[app]\nname = demo\nsize = 1\nmode = fast\n", "mode"))
    for task in (first, second):
        bed.script(task, "conflict", steps(write("config.ini", resolved), finish("kept both: size 2 and mode fast")))
    bed.start_workers(2)
    bed.reconcile()
    for task in (first, second):
        wait_for(lambda t=task: _merged(bed, t), timeout=150, what=f"task #{task} merged")

    repo = bed.owner_repo()
    main = repo.get_branch("main").commit.sha
    assert repo.get_contents("config.ini", ref=main).decoded_content.decode() == resolved
    conflict_prompts = bed.prompts("conflict")
    assert len(conflict_prompts) == 1
    prompt = conflict_prompts[0]
    assert "<<<<<<<" in prompt and "Intent 2" in prompt
    assert ("Grow size" in prompt) and ("Add mode" in prompt)  # both intents: this task and the landed one
    wait_for(lambda: bed.forge().check_state(main).state == "success", timeout=90, what="CI green on main")
    assert len(_prs(bed)) == 2


def test_failed_ci_is_fixed_with_the_failing_output_in_the_prompt(bed: Bed) -> None:
    task = bed.add_task("Add item c", ["test -f items/c.txt"], ["items/c.txt"])
    bed.script(task, "worker", steps(write("items/c.txt", "item c BROKEN\n"), finish("Added c")))
    bed.script(task, "ci_fix", steps(write("items/c.txt", "item c\n"), finish("Removed the BROKEN word CI rejects")))
    bed.start_workers(2)
    bed.reconcile()
    wait_for(lambda: _merged(bed, task), timeout=150, what="task merged after the CI fix")

    fix_prompts = bed.prompts("ci_fix")
    assert len(fix_prompts) == 1
    assert "items/c.txt: found BROKEN (ci-marker-7f3a)" in fix_prompts[0]
    (pr,) = _prs(bed)
    assert pr.merged
    assert '"ci_fix":1' in pr.body
    main = bed.owner_repo().get_branch("main").commit.sha
    assert bed.owner_repo().get_contents("items/c.txt", ref=main).decoded_content == b"item c\n"


def test_worker_killed_mid_task_is_replaced_and_one_pr_exists(bed: Bed) -> None:
    task = bed.add_task("Add item k", ["test -f items/k.txt"], ["items/k.txt"])
    reached, release = threading.Event(), threading.Event()
    finished = steps(write("items/k.txt", "item k\n"), finish("Added k"))
    first_call = {"done": False}

    def pick(step: int, body: dict) -> Turn:
        if not first_call["done"]:
            first_call["done"] = True
            reached.set()
            release.wait(60)  # the first worker dies while waiting for this answer
        return finished(step, body)

    bed.script(task, "worker", pick)
    bed.start_workers(2)
    bed.reconcile()
    wait_for(reached.is_set, timeout=90, what="the first worker asked the model")
    jid = job_id("implement", {"repo": REPO, "number": task})
    owner = Job.fetch(jid, connection=bed.conn).worker_name
    assert owner in bed.workers
    bed.kill_worker(owner)
    release.set()

    wait_for(lambda: _merged(bed, task), timeout=150, what="another worker completed the task")
    prs = _prs(bed)
    assert len(prs) == 1 and prs[0].merged
    claim = next(c.body for c in bed.forge().list_comments(task) if "orchestra:claim" in c.body)
    assert "attempt 2" in claim and owner not in claim
    assert bed.leak_report() == []
