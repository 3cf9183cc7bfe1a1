"""The run's HTML report: `orchestra demo` writes one self-contained file (no script, nothing fetched) whose
timeline, graph, PRs, events and usage Chromium renders; it was read from the forge in a few list calls; and
hostile titles and comment lines render as text."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.ledger.attempts import RoleUsage
from bot.llm.types import Usage
from bot.modes.demo.run import run_demo
from bot.modes.local.progress import QuietDisplay
from bot.modes.local.report import read_history, render_report
from bot.modes.local.report.history import Event, GoalHistory, PullHistory, RunHistory, TaskHistory
from bot.modes.local.session import BOT
from localhub.server import HubConfig, LocalHub
from tests.support.browser import Browser, distinct_colours, dominant_share

#: The only URL a self-contained report may hold: SVG's namespace, which is a name, never fetched.
SVG_NS = "http://www.w3.org/2000/svg"


def assert_self_contained(html: str) -> None:
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    # No element that runs or fetches, no attribute that fetches; `url(#id)` (an SVG marker) is in the page.
    assert not re.search(
        r"<(script|link|iframe|object|embed|img|image|use)\b|<[^<>]*\s(src|href)\s*=|@import|url\((?!#)",
        html,
        re.IGNORECASE,
    )
    assert set(re.findall(r"\w+://[^\s\"'<>)]+", html)) <= {SVG_NS}


def page(browser: Browser, path: Path, name: str, height: int = 1600) -> tuple[str, Path]:
    """The DOM Chromium built from the report, and a screenshot that is not blank."""
    url = path.resolve().as_uri()
    png = browser.screenshot(url, name, width=1400, height=height)
    assert distinct_colours(png) > 40 and dominant_share(png) < 0.9, f"{png} looks blank"
    return browser.dom(url), png


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_the_demo_writes_a_report_of_its_run(tmp_path: Path, browser: Browser) -> None:
    summary = run_demo(QuietDisplay(), directory=tmp_path / "demo", timeout_s=200)
    assert summary.ok, summary.problem
    report = Path(summary.report)
    assert report == Path(summary.state_dir) / "report.html" and report.is_file()
    assert summary.as_json()["report"] == str(report) and str(report) in summary.text()
    html = report.read_text(encoding="utf-8")
    assert_self_contained(html)

    dom, png = page(browser, report, "demo-report.png")
    for section in ("summary", "graph", "timeline", "prs", "usage", "events", "tasks"):
        assert f'id="{section}"' in dom
    # The graph: a node per task, each done, with the CLI task after the three unit tasks.
    assert len(re.findall(r'<g class="node state-done" data-task="\d+"', dom)) == summary.tasks == 5
    assert dom.count('class="edge"') >= 4
    # The timeline: a row per task under the worker thread that claimed it, the merges, the conflicts and CI fix.
    assert len(re.findall(r'<g class="task-row" data-task="\d+"', dom)) == 5
    workers = re.findall(r'<g class="worker" data-worker="([^"]+)"', dom)
    assert len(workers) >= 2 and all("/orchestra-job_" in w for w in workers)
    assert dom.count('<g class="mark merged">') == 5
    assert dom.count('<g class="mark conflict_resolved">') == summary.conflicts_resolved >= 1
    assert dom.count('<g class="mark ci_fixed">') == summary.ci_fixes >= 1
    assert dom.count('<g class="mark ci_failed">') >= 1  # the failing check run of the CI-fixed head
    # The PRs, every event, tokens per task and role (the planner's record and the PR bodies' usage).
    assert len(re.findall(r'<tr class="pr" data-pr="\d+"', dom)) == summary.prs_merged
    assert 'class="event conflict_resolved"' in dom and 'class="event ci_fixed"' in dom
    assert "planner of #1" in dom and re.search(r"<th class=\"num\">ci_fix</th>", dom)
    assert f"{summary.tokens:,}" in dom  # the usage table's total is the summary's

    # Bounded reads: serve the run's localhub again and count the REST calls of one reading.
    hub = LocalHub(HubConfig(state_dir=Path(summary.state_dir) / "localhub")).start()
    try:
        from github import Auth

        from bot.forge.client import Forge

        token = (Path(summary.state_dir) / "you.token").read_text().strip()
        forge = Forge("you/unitconv", Auth.Token(token), api_url=hub.api_url, server_url=hub.url, bot_login=BOT)
        before = hub.metrics.snapshot()["rest"]["total"]
        history = read_history(forge, "orchestra", summary.goal, BOT)
        calls = hub.metrics.snapshot()["rest"]["total"] - before
    finally:
        hub.stop()
    assert calls == history.requests == 3 + summary.ci_fixes  # issues, pulls, comments; a check-run list per fix
    assert len(history.tasks) == 5 and {t.pr_state for t in history.tasks} == {"merged"}


def hostile_history() -> RunHistory:
    """A goal with a sub-goal, every state, a failure and titles that try to be markup."""
    t0 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)

    def at(seconds: int) -> datetime:
        return t0 + timedelta(seconds=seconds)

    evil = '<img src=x onerror="document.title=1">"]</svg><script>alert(1)</script>'
    states = ["done", "review", "working", "ready", "waiting", "needs-human", "paused", "not planned"]
    tasks = [
        TaskHistory(
            2 + i,
            f"Task {state} {evil if i == 0 else ''}",
            f"k{i}",
            1,
            state,
            at(1),
            depends_on=(2,) if i in (1, 2) else (),
        )
        for i, state in enumerate(states)
    ]
    tasks[0].worker, tasks[0].pr, tasks[0].pr_state = "host:1/<b>job</b>", 20, "merged"
    tasks[0].usage = {"worker": RoleUsage(input_tokens=900, output_tokens=100, cost_usd=0.25)}
    tasks[0].events += [
        Event(at(2), "claimed", 2, "by host:1/<b>job</b>"),
        Event(at(30), "pr_opened", 2, "PR #20", 20),
        Event(at(40), "ci_failed", 2, "check ci failure", 20),
        Event(at(50), "ci_fixed", 2, evil, 20),
        Event(at(60), "merged", 2, "PR #20", 20),
    ]
    tasks[5].worker = "host:1/job_2"
    tasks[5].events += [Event(at(5), "claimed", 7, "by host:1/job_2"), Event(at(20), "failure", 7, evil)]
    tasks.append(TaskHistory(12, "Sub-goal: export", "export", 1, "working", at(1), subgoal=True))
    tasks.append(TaskHistory(13, "Export as CSV", "csv", 12, "ready", at(70)))
    goals = [
        GoalHistory(1, f"Goal {evil}", "open", t0, None, None, Usage(input_tokens=500, output_tokens=50)),
        GoalHistory(12, "Sub-goal: export", "open", at(1), None, 1),
    ]
    pulls = [PullHistory(20, 2, f"PR {evil}", "merged", at(30), at(60))]
    return RunHistory("acme/app", goals, tasks, pulls, requests=3)


def test_a_report_shows_hostile_text_as_text_every_state_and_a_subgoal(tmp_path: Path, browser: Browser) -> None:
    summary = {
        "ok": False,
        "goal": 1,
        "tasks": 10,
        "tasks_done": 1,
        "prs_merged": 1,
        "conflicts_resolved": 0,
        "ci_fixes": 1,
        "duration_s": 75.0,
        "tokens": 1650,
        "cost_usd": 0.25,
        "branch": None,
        "commit": None,
        "problem": '#7 needs a person <script>alert("p")</script>',
    }
    html = render_report(hostile_history(), summary, datetime(2025, 6, 2, 10, 0, tzinfo=UTC))
    assert_self_contained(html)
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")

    dom, _png = page(browser, path, "hostile-report.png", height=1800)
    # Nothing a title or a comment says became an element; all of it is shown as text.
    assert not re.search(r"<(script|img|b)[\s>]", dom, re.IGNORECASE)
    assert "&lt;img src=x onerror=" in dom and "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert re.search(r"<title>Agent Orchestra report — goal #1: Goal &lt;img", dom)
    # Every state has its colour class in the graph; the sub-goal has its own band and a double border.
    for name in ("done", "review", "working", "ready", "waiting", "needsHuman", "paused", "notPlanned"):
        assert f'class="node state-{name}"' in dom
    assert "Sub-goal #12: Sub-goal: export" in dom and dom.count('fill="none" stroke=') == 1
    assert '<g class="mark failure">' in dom and '<g class="mark ci_failed">' in dom
    assert 'id="result"' in dom and "not finished" in dom and "needs a person &lt;script&gt;" in dom
