"""`orchestra run` end to end on a fresh copy of a small real Python project, with a scripted model.

Proves acceptance 2 of issue 8: the goal is planned and worked through the real flow (localhub
webhooks → webhook app → jobs → planner/workers → PRs → local CI → merge), branch
`orchestra/goal-1` appears in the user's repository with the merged work, and the user's
checked-out branch, HEAD, index and working tree (including uncommitted edits and untracked
files) are exactly as they were. Also: a run whose only task cannot be done ends non-zero
naming the task and localhub's page.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.cli import main
from bot.modes.demo.example import make_demo_repo
from bot.modes.demo.plan import GOAL_BODY, GOAL_TITLE
from bot.modes.local.run import Goal, run_local
from bot.modes.local.session import LocalOptions
from bot.settings import Settings
from tests.support.git_repos import git, make_repo
from tests.support.local_bed import LINES, PROJECT, Recorder, run_json, user_state
from tests.support.waiting import wait_for


@pytest.mark.timeout(120)
def test_run_brings_the_merged_work_back_as_a_branch_and_touches_nothing_else(
    tmp_path: Path, scripted_models: None, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path / "textstats", PROJECT)
    (repo / "README.md").write_text("# textstats\n\nmy uncommitted edit\n")
    (repo / "notes.txt").write_text("untracked\n")
    git(repo, "status", "--porcelain")  # let git refresh the index now, not during the comparison
    before = user_state(repo)

    code, summary = run_json(
        capsys,
        "run",
        "--repo",
        str(repo),
        "--goal",
        "Count lines\n\nAdd line_count.",
        "--model",
        "scripted:textstats",
        "--merge",
        "auto",
        "--workers",
        "3",
        "--json",
    )

    assert code == 0, summary
    assert user_state(repo) == before
    assert summary["ok"] and summary["goal"] == 1 and summary["branch"] == "orchestra/goal-1"
    assert summary["tasks"] == 2 and summary["prs_merged"] == 2
    assert summary["tokens"] > 0 and summary["duration_s"] > 0
    assert {"conflicts_resolved", "ci_fixes", "cost_usd"} <= set(summary)
    assert git(repo, "rev-parse", "orchestra/goal-1").strip() == summary["commit"]
    assert git(repo, "show", "orchestra/goal-1:textstats/lines.py") == LINES
    assert "## Usage" in git(repo, "show", "orchestra/goal-1:README.md")
    git(repo, "merge-base", "--is-ancestor", before["head"], "orchestra/goal-1")
    assert Path(summary["state_dir"]).is_relative_to(repo / ".git" / "orchestra")

    # A second run numbers its goal 1 again (fresh localhub): the first result is kept, not overwritten.
    code, second = run_json(
        capsys, "run", "--repo", str(repo), "--goal", "Count lines again", "--model", "scripted:textstats", "--json"
    )
    assert code == 0 and second["branch"] == "orchestra/goal-1-2"
    assert git(repo, "rev-parse", "orchestra/goal-1").strip() == summary["commit"]
    assert user_state(repo) == before


@pytest.mark.timeout(120)
def test_a_task_that_needs_a_person_ends_the_run_non_zero_naming_it(
    tmp_path: Path, scripted_models: None, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path / "textstats", PROJECT)

    code = main(["run", "--repo", str(repo), "--goal", "Count lines", "--model", "scripted:blocked"])

    captured = capsys.readouterr()
    assert code == 1
    assert "nothing can move without a person" in captured.err
    assert "#2 needs-human: The agent could not complete this task" in captured.err
    assert "http://127.0.0.1:" in captured.err and "/you/textstats/issues/1" in captured.err
    assert "orchestra/goal-1" not in git(repo, "branch", "--list")


@pytest.mark.slow
@pytest.mark.timeout(480)  # the run's own deadline below, and the stop of its workers
def test_run_with_redis_uses_rq_worker_processes(
    tmp_path: Path, redis_conn: Any, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # The demo's project and model: `scripted:demo` is registered in every worker process too.
    repo = make_demo_repo(tmp_path)
    code, summary = run_json(
        capsys,
        "run",
        "--repo",
        str(repo),
        "--goal",
        f"{GOAL_TITLE}\n\n{GOAL_BODY}",
        "--model",
        "scripted:demo",
        "--redis",
        redis_url,
        "--workers",
        "3",
        "--json",
        # A bound, not a wait: the run ends when the goal closes (about a minute
        # alone); a machine shared with other runs may take several times that.
        "--timeout",
        "420",
    )

    assert code == 0, json.dumps(summary)
    assert summary["prs_merged"] == summary["tasks"] >= 5
    assert "unitconv/__main__.py" in git(repo, "ls-tree", "-r", "--name-only", "orchestra/goal-1")
    logs = sorted((Path(summary["state_dir"]) / "workers").glob("worker-*.log"))
    assert len(logs) == 3
    assert any("Job OK" in log.read_text() or "Successfully completed" in log.read_text() for log in logs)


@pytest.mark.timeout(120)
def test_review_policy_waits_for_the_person_to_merge(tmp_path: Path, scripted_models: None) -> None:
    repo = make_repo(tmp_path / "textstats", PROJECT)  # its config says `merge.policy: review`
    display, outcome = Recorder(), []
    options = LocalOptions(repo=repo, workers=2, model="scripted:textstats", merge=None)
    runner = threading.Thread(
        target=lambda: outcome.append(
            run_local(options, Settings(), Goal("Count lines", "Add line_count."), display, timeout_s=100)
        )
    )
    runner.start()
    hint = wait_for(
        lambda: next((m for m in display.messages if "curl -X PUT" in m), None), timeout=30, what="the merge hint"
    )
    token_file = Path(hint.split("$(cat ", 1)[1].split(")", 1)[0])
    api = hint.rsplit(" ", 1)[1].split("/pulls/", 1)[0]
    headers = {"Authorization": f"token {token_file.read_text().strip()}"}
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"

    def merge_green_prs() -> bool:
        try:
            for pull in requests.get(f"{api}/pulls", headers=headers, timeout=10).json():
                runs = requests.get(
                    f"{api}/commits/{pull['head']['sha']}/check-runs", headers=headers, timeout=10
                ).json()["check_runs"]
                if runs and all(run["conclusion"] == "success" for run in runs):
                    requests.put(f"{api}/pulls/{pull['number']}/merge", headers=headers, timeout=10)
        except requests.ConnectionError:  # the run ended (and localhub with it) while we looked
            pass
        return not runner.is_alive()

    wait_for(merge_green_prs, timeout=100, interval=0.3, what="the run to end after the person merged")
    summary = outcome[0]
    assert summary.ok and summary.prs_merged == 2 and summary.branch == "orchestra/goal-1"
