"""Main never red, with worker processes on RQ, the webhook app and localhub's CI: two tasks each green alone
and red together (one raises a value and updates its own test, the other adds a test built on the old
value). Through the orchestra's queue (`batch`) or GitHub's merge queue (a ruleset), every first-parent
commit of main passed CI as that exact tree, and the PR that breaks the combination is fixed by its own
worker — its CI-fix prompt carries the failing output and what landed before it — and then lands. With
`merge.queue: off` the same two PRs turn main red (the scenario can fail)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.git_repos import git
from tests.support.model_server import Turn
from tests.support.waiting import wait_for
from tests.support.worker_bed import CONFIG, REPO, Bed, finish, steps, write

pytestmark = pytest.mark.slow

RAISE = "Raise the value to 2"
BUILD = "Add a test that builds on the value"


def _push_main(bed: Bed, files: dict[str, str], message: str) -> None:
    clone = bed.root / f"person-{uuid.uuid4().hex[:6]}"
    git(bed.root, "clone", "-q", bed.hub.git_url(REPO, "acme"), str(clone))
    for path, text in files.items():
        (clone / path).write_text(text)
    git(clone, "commit", "-qam", message)
    git(clone, "push", "-q", "origin", "HEAD:main")


def _first_parents(bed: Bed, since: str) -> list[str]:
    clone = bed.root / f"look-{uuid.uuid4().hex[:6]}"
    git(bed.root, "clone", "-q", bed.hub.git_url(REPO, "acme"), str(clone))
    return git(clone, "rev-list", "--first-parent", f"{since}..origin/main").split()


def _together(
    started: dict[int, threading.Event], task: int, other: int, then: Callable[[int, dict[str, Any]], Turn]
) -> Callable[[int, dict[str, Any]], Turn]:
    """Both agents start from the same main: each one's first model call waits until the other has asked."""

    def pick(step: int, body: dict[str, Any]) -> Turn:
        started[task].set()
        started[other].wait(60)
        return then(step, body)

    return pick


@pytest.mark.timeout(420)
@pytest.mark.parametrize("mode", ["batch", "github", "off"])
def test_two_tasks_green_alone_red_together_never_turn_main_red(bed: Bed, mode: str) -> None:
    if mode == "off":
        _push_main(
            bed,
            {".github/orchestra.yml": CONFIG.replace("  method: squash\n", "  method: squash\n  queue: off\n")},
            "Merge each PR on its own checks",
        )
    if mode == "github":
        bed.hub.require_merge_queue(REPO, checks=("ci",))
    start = bed.forge().branch_sha("main")
    raising = bed.add_task(RAISE, ["sh ci.sh"], ["value.txt", "expect/base.txt"])
    building = bed.add_task(BUILD, ["sh ci.sh"], ["expect/b.txt"])
    started = {raising: threading.Event(), building: threading.Event()}
    bed.script(
        raising,
        "worker",
        _together(
            started,
            raising,
            building,
            steps(
                write("value.txt", "2\n"),
                write("expect/base.txt", "2\n"),
                finish("value.txt holds 2; its test says so"),
            ),
        ),
    )
    bed.script(
        building,
        "worker",
        _together(
            started,
            building,
            raising,
            steps(write("expect/b.txt", "1\n"), finish("expect/b.txt states the value it builds on")),
        ),
    )
    for task in (raising, building):  # whichever lands second adapts: its test follows the raised value
        bed.script(
            task, "ci_fix", steps(write("expect/b.txt", "2\n"), finish("expect/b.txt follows the value that landed"))
        )
    before = bed.rest_calls()
    bed.start_workers(2)
    bed.reconcile()

    forge = bed.owner_forge()  # the test's own polling is not counted as the bot's
    for task in (raising, building):
        wait_for(lambda t=task: forge.get_issue(t).state == "closed", timeout=300, what=f"task #{task} landed")
    print(
        f"\n[{mode}] the bot's REST calls from dispatch to both PRs landed: {bed.rest_calls() - before} "
        f"({(bed.rest_calls() - before) / 2:.0f} per PR; one CI fix in batch/github mode)"
    )
    if mode == "off":  # both merged on their own green checks: main is red

        def concluded() -> Any:
            state = forge.check_state(forge.branch_sha("main"))
            return state if "ci" in state.seen and state.state != "pending" else None

        state = wait_for(concluded, timeout=90, what="CI concluded on the tip of main")
        assert state.state == "failure" and "ci-marker-9b1c" in state.failures[0].text
        return
    main = forge.branch_sha("main")

    landed = _first_parents(bed, start)
    assert landed
    for sha in landed:  # every commit the orchestra put on main passed CI as that exact tree
        state = forge.check_state(sha)
        assert state.state == "success" and "ci" in state.seen, (sha, state)
    assert bed.owner_repo().get_contents("expect/b.txt", ref=main).decoded_content == b"2\n"
    assert bed.owner_repo().get_contents("value.txt", ref=main).decoded_content == b"2\n"
    (prompt,) = bed.prompts("ci_fix")  # one fix: the PR that broke the combination, by its own worker
    assert "expect/b.txt: expects 1 but value.txt holds 2 (ci-marker-9b1c)" in prompt
    assert "Why it fails although its own checks passed" in prompt
    fixed, other = (building, RAISE) if f"task #{building}" in prompt else (raising, BUILD)
    assert other in prompt.split("What landed before it", 1)[1]  # what landed before it, by its title
    pulls = {pr.number: pr for pr in bed.owner_repo().get_pulls(state="all")}
    assert len(pulls) == 2 and all(pr.merged for pr in pulls.values())
    fixed_pr = next(pr for pr in pulls.values() if pr.head.ref.startswith(f"orchestra/{fixed}-"))
    assert '"ci_fix":1' in fixed_pr.body
