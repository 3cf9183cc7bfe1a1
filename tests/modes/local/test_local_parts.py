"""The parts of local mode and the demo that need no running stack: counters read from PR bodies,
the goal text, model specs per role, CI command detection, the demo resolver's merge of both
sides, the plain and terminal progress displays, the demo plan passing the planner's own checks,
and the command line's errors for a missing model or repository."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from rich.console import Console

from bot.cli import main
from bot.ledger import markers
from bot.modes.demo.plan import demo_plan
from bot.modes.demo.policy import file_text, union
from bot.modes.local.progress import PlainDisplay, RichDisplay, make_display, summary_line
from bot.modes.local.run import goal_from_text
from bot.modes.local.session import role_models
from bot.modes.local.snapshot import Snapshot, TaskRow, read_attempts
from bot.modes.local.userrepo import default_state_dir, detect_ci_command, read_config
from bot.planner.plan_schema import Rules, parse_plan
from bot.repoconfig import RepoConfig
from bot.settings import RoleModels
from tests.support.git_repos import make_repo


def test_attempts_marker_gives_fixes_conflicts_tokens_and_cost() -> None:
    body = markers.write_data(
        "Closes #3",
        "attempts",
        {
            "ci_fix": 2,
            "conflict": 1,
            "usage": {
                "worker": {"input_tokens": 100, "output_tokens": 20, "cost_usd": 0.5},
                "ci_fix": {"input_tokens": 10, "output_tokens": 5, "cost_usd": 0.25},
            },
        },
    )
    assert read_attempts(body) == (2, 1, 135, 0.75)
    assert read_attempts("no marker") == (0, 0, 0, 0.0)


def test_snapshot_counts_and_plain_lines() -> None:
    snapshot = Snapshot(
        1,
        "g",
        tasks=(
            TaskRow(2, "a", "A", "done", 5, "merged", ci_fixes=1),
            TaskRow(3, "b", "B", "review", 6, "open", conflicts=2),
            TaskRow(4, "c", "C", "needs-human"),
        ),
        tokens=1234,
        cost_usd=0.5,
    )
    assert (snapshot.prs_merged, snapshot.prs_open, snapshot.ci_fixes, snapshot.conflicts_resolved) == (1, 1, 1, 2)
    assert [t.number for t in snapshot.needs_human()] == [4]
    line = summary_line(snapshot)
    assert "1 review, 1 needs-human, 1 done" in line and "1 merged" in line and "tokens: 1,234 ($0.5000)" in line
    out = io.StringIO()
    display = PlainDisplay(out)
    display.update(snapshot)
    display.update(snapshot)  # unchanged: not printed twice
    assert out.getvalue().count("tasks:") == 1
    assert make_display(json_output=True, stream=out).__class__.__name__ == "QuietDisplay"
    assert isinstance(make_display(json_output=False, stream=io.StringIO()), PlainDisplay)


def test_goal_text_first_line_is_the_title() -> None:
    goal = goal_from_text("# Add caching\n\nCache the API answers.\n")
    assert (goal.title, goal.body) == ("Add caching", "Cache the API answers.")
    assert goal_from_text("Just a title").body == "Just a title"


def test_model_for_every_role_and_planner_override() -> None:
    models = role_models(RoleModels(), "openai:gpt-5.2", "anthropic:claude-sonnet-4-5")
    assert models.worker == models.ci_fix == models.conflict == "openai:gpt-5.2"
    assert models.planner == "anthropic:claude-sonnet-4-5"
    assert role_models(RoleModels(worker="openai:x"), None, None).worker == "openai:x"


def test_ci_command_script_then_config_then_detected(tmp_path: Path) -> None:
    script = make_repo(tmp_path / "a", {".localhub/ci.sh": "true\n", "pyproject.toml": ""})
    assert detect_ci_command(script, RepoConfig()) == (None, ".localhub/ci.sh")  # localhub runs the script
    configured = make_repo(tmp_path / "b", {".github/orchestra.yml": "test_command: make check\n", "setup.py": ""})
    assert detect_ci_command(configured, read_config(configured))[0] == "make check"
    python = make_repo(tmp_path / "c", {"pyproject.toml": "", "x.py": ""})
    assert detect_ci_command(python, RepoConfig())[0] == "python3 -m pytest -q"
    assert detect_ci_command(make_repo(tmp_path / "d", {"package.json": "{}"}), RepoConfig())[0] == "npm test"
    assert detect_ci_command(make_repo(tmp_path / "e", {"notes.txt": ""}), RepoConfig())[0] == "true"
    assert default_state_dir(python) == python / ".git" / "orchestra"


def test_demo_resolver_keeps_both_sides_of_a_conflict() -> None:
    conflicted = (
        "from a import length\n<<<<<<< HEAD\nfrom a import duration\n\nMODULES = [\n    length,\n"
        "    duration,\n=======\nfrom a import mass\n\nMODULES = [\n    length,\n    mass,\n"
        ">>>>>>> origin/main\n]\n"
    )
    assert union(conflicted) == (
        "from a import length\nfrom a import mass\nfrom a import duration\n\n"
        "MODULES = [\n    length,\n    mass,\n    duration,\n]\n"
    )
    assert file_text("x.py (lines 1-2 of 2)\n1\tone\n2\t\ttwo") == "one\n\ttwo\n"


def test_demo_plan_passes_the_planners_checks() -> None:
    config = RepoConfig.model_validate({"planner": {"min_tasks": 5}})
    plan = parse_plan(demo_plan(), Rules(bounds=config.planner))
    assert len(plan.tasks) >= 5
    assert any(task.depends_on for task in plan.tasks)


def test_run_without_a_model_says_how_to_name_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in [n for n in os.environ if n.startswith("ORCHESTRA_MODEL")]:
        monkeypatch.delenv(name)
    repo = make_repo(tmp_path / "r", {"a.txt": "a\n"})
    assert main(["run", "--repo", str(repo), "--goal", "Do it"]) == 2
    assert "no model: pass --model SPEC" in capsys.readouterr().err
    assert main(["run", "--repo", str(tmp_path / "missing"), "--goal", "x", "--model", "scripted:demo"]) == 2
    assert "no such directory" in capsys.readouterr().err


def test_terminal_display_shows_tasks_totals_and_the_pages_url() -> None:
    out = io.StringIO()
    display = RichDisplay(Console(file=out, force_terminal=True, width=140))
    display.serving("http://127.0.0.1:9/you/r/issues?state=all")
    snapshot = Snapshot(1, "Count lines", tasks=(TaskRow(2, "a", "Add line_count", "review", 7, "open", ci_fixes=1),))
    display.update(snapshot)
    display.close()
    text = out.getvalue()
    assert "Goal #1: Count lines" in text and "Add line_count" in text and "#7 open" in text
    assert "CI fixes: 1" in text and "localhub pages: http://127.0.0.1:9/you/r/issues?state=all" in text


def test_unpriced_calls_reach_the_snapshot_the_summary_and_its_json() -> None:
    from bot.forge.types import Issue, PullSummary
    from bot.ledger import attempts
    from bot.ledger.taskbody import TaskSpec, render_task_body
    from bot.llm.types import Usage
    from bot.modes.local.result import RunSummary
    from bot.modes.local.snapshot import _snapshot

    spec = TaskSpec(goal=1, key="a", title="Task A", objective="o")
    task = Issue(
        id=2, number=2, title="Task A", body=render_task_body(spec), labels=["orchestra:task", "orchestra:review"]
    )
    goal = Issue(id=1, number=1, title="Goal", labels=["orchestra:goal"])
    used = Usage(input_tokens=700, output_tokens=50, calls=2, unpriced_calls=2, unpriced_tokens=750)
    body = attempts.write("Closes #2", attempts.Attempts().add_usage("worker", used))
    pull = PullSummary(number=5, title="t", head_ref="orchestra/2-task-a", base_ref="main", state="open", body=body)
    planner = Usage(input_tokens=100, output_tokens=10, cost_usd=0.02, calls=1)
    snapshot = _snapshot(RepoConfig(), goal, [goal, task], [pull], {1}, {1: planner})
    assert (snapshot.unpriced_calls, snapshot.unpriced_tokens, snapshot.tokens) == (2, 750, 860)
    summary = RunSummary(
        ok=True,
        goal=1,
        goal_url="u",
        tasks=1,
        tasks_done=0,
        prs_merged=0,
        conflicts_resolved=0,
        ci_fixes=0,
        duration_s=1.0,
        tokens=snapshot.tokens,
        cost_usd=snapshot.cost_usd,
        branch=None,
        commit=None,
        localhub_url="l",
        state_dir="s",
        unpriced_calls=snapshot.unpriced_calls,
        unpriced_tokens=snapshot.unpriced_tokens,
    )
    assert summary.as_json()["unpriced_calls"] == 2 and summary.as_json()["unpriced_tokens"] == 750
    assert "2 calls unpriced (750 tokens): their model is not in the price table" in summary.text()
