"""Local mode survives the forge: a run waiting an hour for a person's review stays within a small
request budget, and a run against a faulty forge still finishes.

The budget is measured, not assumed: localhub meters every REST call by token
(`/_localhub/metrics`, 304s included). The run's clock is sped up once the run waits for the
person (`RunClock.speed`), so one simulated hour of waiting passes in about ten seconds; the
person's requests over it are counted and scaled to an hour (the figure is printed).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.llm.scripted import register_script, unregister_script
from bot.modes.local.run import Goal, Pacing, RunClock, run_local
from bot.modes.local.session import LocalOptions
from bot.settings import Settings
from localhub.store import token_hash
from tests.support.git_repos import make_repo
from tests.support.local_bed import PROJECT, Watching, textstats_policy
from tests.support.waiting import wait_for

#: Simulated seconds per real second once the run waits: an hour in 10 s.
SPEED = 360.0
HOUR = 3600.0


@pytest.fixture
def textstats() -> Iterator[None]:
    register_script("textstats-budget", lambda: textstats_policy)
    yield
    unregister_script("textstats-budget")


def metrics(display: Watching) -> dict[str, Any] | None:
    root = display.url.split("/you/", 1)[0]
    try:
        return requests.get(f"{root}/_localhub/metrics", timeout=5).json()  # not metered: outside /api/v3
    except requests.ConnectionError:
        return None  # the run ended and localhub with it


def waiting_for_the_person(display: Watching) -> bool:
    """The run said it waits for the person: the first PR is green and left for them."""
    return any(m.startswith("Waiting for you") and "waits for you to review and merge" in m for m in display.messages)


@pytest.mark.timeout(180)
def test_an_hour_waiting_for_a_review_costs_fewer_than_600_requests(
    tmp_path: Path, textstats: None, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path / "textstats", PROJECT)  # merge policy review: the PR waits for the person
    display, outcome, clock = Watching(), [], RunClock()
    options = LocalOptions(repo=repo, workers=2, model="scripted:textstats-budget", merge=None)
    timeout_s = 60 + HOUR  # the run gives up an hour (simulated) after it starts waiting, give or take
    runner = threading.Thread(
        target=lambda: outcome.append(
            run_local(
                options,
                Settings(),
                Goal("Count lines", "Add line_count."),
                display,
                timeout_s=timeout_s,
                pacing=Pacing(clock=clock),
            )
        )
    )
    runner.start()
    wait_for(lambda: waiting_for_the_person(display), timeout=90, what="the run to wait for the person")
    person = "pat:" + token_hash(display.api()[1]["Authorization"].split()[1])[:10]
    before, started = metrics(display), clock.now()
    assert before is not None
    clock.speed = SPEED
    last: tuple[dict[str, Any], float] = (before, started)
    while runner.is_alive():
        seen = metrics(display)
        if seen is not None:
            last = (seen, clock.now())
        time.sleep(0.2)
    runner.join()
    after, ended = last
    summary = outcome[0]

    simulated = ended - started
    spent = {
        label: after["rest"]["by_token"].get(label, 0) - count for label, count in before["rest"]["by_token"].items()
    }
    per_hour = spent[person] * HOUR / simulated
    bot = sum(n for label, n in spent.items() if label != person) * HOUR / simulated
    with capsys.disabled():
        print(
            f"\nwaiting {simulated:.0f} simulated s: the person's token {per_hour:.0f} requests/hour, "
            f"the bot's (sweeps) {bot:.0f} requests/hour"
        )
    assert "the deadline passed" in summary.problem  # it waited the whole hour without dying
    assert simulated > 0.8 * HOUR
    assert per_hour < 600
    assert bot < 600


@pytest.mark.timeout(300)
@pytest.mark.parametrize("seed", [1, pytest.param(2, marks=pytest.mark.slow), pytest.param(3, marks=pytest.mark.slow)])
def test_a_run_survives_ten_percent_forge_faults(tmp_path: Path, textstats: None, seed: int) -> None:
    repo = make_repo(tmp_path / "textstats", PROJECT)
    display, seen = Watching(), []
    options = LocalOptions(
        repo=repo,
        workers=3,
        model="scripted:textstats-budget",
        merge="auto",
        fault_rate=0.1,
        fault_seed=seed,
        fault_after_share=0.3,
    )
    runner = threading.Thread(
        target=lambda: seen.append(
            run_local(options, Settings(), Goal("Count lines", "Add line_count."), display, timeout_s=240)
        )
    )
    runner.start()
    faults: dict[str, int] = {}
    while runner.is_alive():
        found = metrics(display) if display.url else None
        faults = found["faults"] if found is not None else faults
        time.sleep(0.3)
    runner.join()
    summary = seen[0]

    assert summary.ok, summary.problem
    assert summary.tasks_done == 2 and summary.prs_merged == 2 and summary.branch == "orchestra/goal-1"
    # The forge did fail, often (a third of the faults that hit a write hit it after it applied: which
    # calls are writes depends on the threads' order, so how many is not asserted).
    assert faults.get("before", 0) + faults.get("after", 0) >= 10, faults
