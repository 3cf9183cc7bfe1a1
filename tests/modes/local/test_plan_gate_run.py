"""`orchestra run --plan-only` prints the plan and stops (exit 0, no task filed, no worker model call);
`orchestra run --approve` asks once (y/N): no files and starts nothing, yes approves for the person and the
goal runs to its end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.modes.local.progress import QuietDisplay
from bot.modes.local.run import Goal, run_local
from bot.modes.local.session import LocalOptions
from bot.settings import Settings
from tests.support.git_repos import make_repo
from tests.support.local_bed import PROJECT, run_json

AUTO = {**PROJECT, ".github/orchestra.yml": PROJECT[".github/orchestra.yml"].replace("policy: review", "policy: auto")}


@pytest.mark.timeout(120)
def test_plan_only_prints_the_plan_and_files_nothing(
    tmp_path: Path,
    scripted_models: None,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo = make_repo(tmp_path / "textstats", AUTO)
    code, summary = run_json(
        capsys,
        "run",
        "--repo",
        str(repo),
        "--goal",
        "Count lines\n\nAdd line_count.",
        "--model",
        "scripted:textstats",
        "--plan-only",
        "--json",
    )
    assert code == 0, summary
    assert summary["ok"] and summary["tasks"] == 0 and summary["prs_merged"] == 0
    assert "### Plan to approve (version 1): 2 task(s)" in summary["plan"]
    assert "`line-count` Add line_count — owns `textstats/lines.py`, `tests/test_lines.py`" in summary["plan"]
    assert summary["branch"] is None


@pytest.mark.timeout(180)
def test_approve_asks_once_and_a_no_starts_nothing_a_yes_runs_the_goal(tmp_path: Path, scripted_models: None) -> None:  # noqa: F811
    asked: list[str] = []

    def answer(value: bool) -> Any:
        def confirm(question: str) -> bool:
            asked.append(question)
            return value

        return confirm

    options = LocalOptions(
        repo=make_repo(tmp_path / "no", AUTO), workers=2, model="scripted:textstats", plan_approval=True
    )
    refused = run_local(
        options,
        Settings.from_env({}),
        Goal("Count lines", "Add line_count."),
        QuietDisplay(),
        timeout_s=60,
        confirm=answer(False),
    )
    assert not refused.ok and refused.tasks == 0 and "the plan was not approved" in refused.problem
    assert asked == ["Approve this plan? [y/N]"]

    options = LocalOptions(
        repo=make_repo(tmp_path / "yes", AUTO), workers=2, model="scripted:textstats", plan_approval=True
    )
    done = run_local(
        options,
        Settings.from_env({}),
        Goal("Count lines", "Add line_count."),
        QuietDisplay(),
        timeout_s=120,
        confirm=answer(True),
    )
    assert done.ok and done.tasks == 2 and done.prs_merged == 2, done.problem
    assert len(asked) == 2
