"""Main never red, checked by running the suite on every first-parent commit: the checker itself, and issue 12's
acceptance 1 on the vendored cachetools (`orchestra run` with the default `merge.queue: batch`, 7 tasks and a
sub-goal of 2, all touching the changelog and `__init__.py`, `size-info` wrong at first, `spill`/`trim` green
alone and red together): every task merged, none `needs-human`, exit 0, every first-parent commit green."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.scenarios import run_cachetools
from tests.scenarios.cachetools import unregister
from tests.scenarios.mainline import check_first_parents, red
from tests.support.git_repos import git, make_repo


def test_the_checker_runs_the_suite_on_each_first_parent_commit_only(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"value.txt": "1\n"})
    start = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "side")
    (repo / "value.txt").write_text("0\n")  # red, but only inside a merged branch: not a first-parent commit
    git(repo, "commit", "-qam", "side is red")
    (repo / "value.txt").write_text("2\n")
    git(repo, "commit", "-qam", "side is green again")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge side", "side")
    (repo / "value.txt").write_text("0\n")
    git(repo, "commit", "-qam", "main turns red")

    commits = check_first_parents(repo, "main", start, 'test "$(cat value.txt)" != 0')

    assert [c.subject for c in commits] == ["merge side", "main turns red"]
    assert [c.subject for c in red(commits)] == ["main turns red"]
    assert git(repo, "worktree", "list").count("\n") == 1  # its worktree is gone


@pytest.mark.slow
@pytest.mark.heavy
@pytest.mark.timeout(1500)
def test_acceptance_1_every_task_merges_and_every_first_parent_commit_passes_the_suite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = run_cachetools.main(["--dir", str(tmp_path), "--workers", "4", "--json", "--timeout", "1200"])
    finally:
        unregister()
    out, err = capsys.readouterr()
    summary = json.loads(out.strip().splitlines()[-1])
    assert code == 0, (summary.get("problem"), err[-3000:])
    assert summary["ok"] and summary["tasks"] == summary["tasks_done"] == summary["prs_merged"] == 9
    assert summary["needs_human"] == [] and summary["ci_fixes"] >= 2  # size-info, and trim after spill
    line = next(line for line in err.splitlines() if line.startswith("main: "))
    assert ", 0 red;" in line and line.startswith("main: 9 first-parent commits"), line
    print(f"\n{line}; {summary['conflicts_resolved']} conflict resolutions, {summary['ci_fixes']} CI fixes")
