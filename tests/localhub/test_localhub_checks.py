"""Checks on localhub: local CI posts a green `ci` check run for a good push and a red one holding
the failing output for a bad one (which makes the PR `unstable`); Apps create and update check
runs (tokens of people get GitHub's 403); commit statuses roll up into the combined status."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from github import Auth, Github, GithubException
from github.Repository import Repository

from localhub.ci import CiJob
from tests.support.git_repos import git, make_repo
from tests.support.localhub import LocalhubApp, LocalhubHandle
from tests.support.waiting import wait_for

CI = "python3 check.py"
GOOD = "print('checking'); assert 1 + 1 == 2; print('all good')\n"
BAD = "print('checking'); assert 1 + 1 == 3, 'arithmetic is broken'\n"


@pytest.fixture
def repo(localhub: LocalhubHandle, tmp_path: Path) -> tuple[Repository, Path]:
    """`alice/app` imported with the CI command `python3 check.py`; a clone with push access."""
    localhub.add_user("alice")
    work = make_repo(tmp_path / "src", {"check.py": GOOD})
    localhub.import_repo(work, "alice/app", ci=CI)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", localhub.git_url("alice/app", "alice"), str(clone))
    return localhub.github("alice").get_repo("alice/app"), clone


def push_branch(clone: Path, branch: str, text: str) -> str:
    git(clone, "checkout", "-q", "-B", branch, "origin/main")
    (clone / "check.py").write_text(text)
    git(clone, "commit", "-q", "-am", f"{branch}: change check.py")
    git(clone, "push", "-q", "origin", branch)
    return git(clone, "rev-parse", "HEAD").strip()


def test_ci_reports_green_and_red_check_runs(repo: tuple[Repository, Path], localhub: LocalhubHandle) -> None:
    gh_repo, clone = repo
    good_sha = push_branch(clone, "good", GOOD + "# touched\n")
    bad_sha = push_branch(clone, "bad", BAD)
    good_pr = gh_repo.create_pull(title="Good", body="", head="good", base="main")
    bad_pr = gh_repo.create_pull(title="Bad", body="", head="bad", base="main")
    assert localhub.hub.ci.drain(60)

    [green] = list(gh_repo.get_commit(good_sha).get_check_runs())
    assert (green.name, green.status, green.conclusion) == ("ci", "completed", "success")
    assert "all good" in green.output.text and green.app.slug == "github-actions"
    [red] = list(gh_repo.get_commit(bad_sha).get_check_runs(filter="latest"))
    assert red.conclusion == "failure" and "exit code 1" in red.output.title
    assert "AssertionError: arithmetic is broken" in red.output.text
    [suite] = list(gh_repo.get_commit(bad_sha).get_check_suites())
    assert suite.status == "completed" and suite.conclusion == "failure"

    def state(pr_number: int) -> str | None:
        pr = gh_repo.get_pull(pr_number)
        return pr.mergeable_state if pr.mergeable is not None else None

    assert wait_for(lambda: state(good_pr.number), what="good PR state") == "clean"
    assert wait_for(lambda: state(bad_pr.number), what="bad PR state") == "unstable"


def test_ci_runs_on_pushes_to_the_default_branch_only_with_a_pr_elsewhere(
    repo: tuple[Repository, Path], localhub: LocalhubHandle
) -> None:
    gh_repo, clone = repo
    lonely = push_branch(clone, "lonely", GOOD + "# no PR for this one\n")
    main = push_branch(clone, "main", GOOD + "# on main\n")
    assert localhub.hub.ci.drain(60)
    assert gh_repo.get_commit(lonely).get_check_runs().totalCount == 0
    [run] = list(gh_repo.get_commit(main).get_check_runs())
    assert run.conclusion == "success"


def app_client(localhub: LocalhubHandle, app: LocalhubApp) -> Github:
    auth = Auth.AppAuth(app.app_id, app.private_key_pem).get_installation_auth(app.installation_id)
    return Github(
        base_url=localhub.api_url, auth=auth, retry=None, seconds_between_requests=0, seconds_between_writes=0
    )


def test_apps_create_and_update_check_runs(
    repo: tuple[Repository, Path], localhub: LocalhubHandle, localhub_app: LocalhubApp
) -> None:
    sha = localhub.github("alice").get_repo("alice/app").get_branch("main").commit.sha
    as_app = app_client(localhub, localhub_app).get_repo("alice/app")
    run = as_app.create_check_run(name="lint", head_sha=sha, status="in_progress")
    assert run.status == "in_progress" and run.conclusion is None
    run.edit(
        status="completed",
        conclusion="failure",
        output={"title": "2 problems", "summary": "lint failed", "text": "E501 line too long"},
    )
    runs = {r.name: r for r in as_app.get_commit(sha).get_check_runs()}
    assert runs["lint"].conclusion == "failure" and runs["lint"].output.text == "E501 line too long"
    with pytest.raises(GithubException) as refused:
        localhub.github("alice").get_repo("alice/app").create_check_run(name="x", head_sha=sha)
    assert refused.value.status == 403


def test_statuses_roll_up_into_the_combined_status(repo: tuple[Repository, Path], localhub: LocalhubHandle) -> None:
    gh_repo, _ = repo
    commit = gh_repo.get_commit(gh_repo.get_branch("main").commit.sha)
    assert commit.get_combined_status().state == "pending"  # no status at all yet
    commit.create_status("pending", context="deploy")
    commit.create_status("success", context="lint", description="fine")
    assert commit.get_combined_status().state == "pending"
    commit.create_status("success", context="deploy")
    combined = commit.get_combined_status()
    assert combined.state == "success" and combined.total_count == 2
    commit.create_status("failure", context="lint")
    assert commit.get_combined_status().state == "failure"
    listed = requests.get(
        f"{localhub.api_url}/repos/alice/app/commits/{commit.sha}/statuses",
        headers={"Authorization": f"token {localhub.token('alice')}"},
        timeout=10,
    )
    assert [s["state"] for s in listed.json()] == ["failure", "success", "success", "pending"]
    with pytest.raises(GithubException) as bad:
        commit.create_status("purple")
    assert bad.value.status == 422


def test_ci_left_unfinished_by_a_stopped_server_is_cancelled(
    repo: tuple[Repository, Path], localhub: LocalhubHandle
) -> None:
    gh_repo, _ = repo
    sha = gh_repo.get_branch("main").commit.sha
    row = localhub.hub.store.repo("alice", "app")
    git_dir = localhub.hub.pulls.git_dir(row)
    localhub.hub.workflows.ci_queued(CiJob(row["id"], git_dir, sha, "main", CI))  # queued, never run
    localhub.restart()
    [run] = list(localhub.github("alice").get_repo("alice/app").get_commit(sha).get_check_runs())
    assert (run.status, run.conclusion, run.output.title) == ("completed", "cancelled", "CI was cancelled")
