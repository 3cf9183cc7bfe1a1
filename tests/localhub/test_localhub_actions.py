"""Local CI as GitHub Actions: each run is a workflow run whose one job shares its id with the `ci`
check run of the App `github-actions`; the job has steps, a log in GitHub's format behind a
302 to a short-lived URL, and `workflow_run` / `workflow_job` events."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from github.Repository import Repository

from tests.support.git_repos import git, make_repo
from tests.support.localhub import LocalhubHandle, WebhookReceiver

CI = "python3 check.py"
GOOD = "print('checking'); print('all good')\n"
BAD = "print('checking'); assert 1 + 1 == 3, 'arithmetic is broken'\n"
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z ")


@pytest.fixture
def repo(localhub: LocalhubHandle, tmp_path: Path, webhook_receiver: WebhookReceiver) -> tuple[Repository, Path]:
    """`alice/app` with the CI command `python3 check.py`, a clone, and the App webhook set."""
    localhub.add_user("alice")
    localhub.import_repo(make_repo(tmp_path / "src", {"check.py": GOOD}), "alice/app", ci=CI)
    localhub.set_app_webhook(webhook_receiver.url, "s3cret")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", localhub.git_url("alice/app", "alice"), str(clone))
    return localhub.github("alice").get_repo("alice/app"), clone


def push_branch(clone: Path, branch: str, text: str) -> str:
    git(clone, "checkout", "-q", "-B", branch, "origin/main")
    (clone / "check.py").write_text(text)
    git(clone, "commit", "-q", "-am", f"{branch}: change check.py")
    git(clone, "push", "-q", "origin", branch)
    return git(clone, "rev-parse", "HEAD").strip()


def test_failing_run_exposes_its_job_log_through_a_302(repo: tuple[Repository, Path], localhub: LocalhubHandle) -> None:
    gh_repo, clone = repo
    sha = push_branch(clone, "bad", BAD)
    pr = gh_repo.create_pull(title="Bad", body="", head="bad", base="main")
    assert localhub.hub.ci.drain(60)

    [check] = list(gh_repo.get_commit(sha).get_check_runs())
    assert (check.name, check.conclusion, check.app.slug, check.app.id) == ("ci", "failure", "github-actions", 15368)
    [run] = list(gh_repo.get_workflow_runs(head_sha=sha))
    assert (run.event, run.status, run.conclusion, run.head_branch) == ("pull_request", "completed", "failure", "bad")
    assert [p.number for p in run.pull_requests] == [pr.number]
    [job] = list(run.jobs())
    assert job.id == check.id and job.name == "ci" and job.conclusion == "failure"
    assert [(s.name, s.conclusion) for s in job.steps] == [
        ("Set up job", "success"),
        (f"Run {CI}", "failure"),
        ("Complete job", "success"),
    ]

    location = job.logs_url()  # PyGithub reads the Location of the 302
    assert location.startswith(localhub.url + "/_localhub/")
    log = requests.get(location, timeout=10)  # no credentials, as GitHub's signed URL
    assert log.status_code == 200 and log.headers["Content-Type"].startswith("text/plain")
    text = log.content.decode("utf-8-sig")
    lines = text.splitlines()
    assert all(LINE.match(line) for line in lines), lines
    body = [LINE.sub("", line) for line in lines]
    start = body.index(f"##[group]Run {CI}")
    assert body[start + 1] == CI and "##[endgroup]" in body[start:]
    assert "AssertionError: arithmetic is broken" in body
    assert "##[error]Process completed with exit code 1." in body
    assert body.index("AssertionError: arithmetic is broken") < body.index(
        "##[error]Process completed with exit code 1."
    )

    tampered = requests.get(location.replace("signature=", "signature=0"), timeout=10)
    assert tampered.status_code == 403


def test_runs_are_listed_with_github_filters(repo: tuple[Repository, Path], localhub: LocalhubHandle) -> None:
    gh_repo, clone = repo
    main_sha = push_branch(clone, "main", GOOD + "# on main\n")
    bad_sha = push_branch(clone, "bad", BAD)
    gh_repo.create_pull(title="Bad", body="", head="bad", base="main")
    assert localhub.hub.ci.drain(60)
    runs = list(gh_repo.get_workflow_runs())
    assert [(r.head_sha, r.event) for r in runs] == [(bad_sha, "pull_request"), (main_sha, "push")]
    assert [r.head_sha for r in gh_repo.get_workflow_runs(branch="main")] == [main_sha]
    assert [r.head_sha for r in gh_repo.get_workflow_runs(status="failure")] == [bad_sha]
    assert [r.head_sha for r in gh_repo.get_workflow_runs(status="completed", event="push")] == [main_sha]
    assert gh_repo.get_workflow_run(runs[1].id).conclusion == "success"
    assert gh_repo.get_workflow_runs(head_sha="0" * 40).totalCount == 0


def test_workflow_events_follow_the_run(
    repo: tuple[Repository, Path], localhub: LocalhubHandle, webhook_receiver: WebhookReceiver
) -> None:
    gh_repo, clone = repo
    push_branch(clone, "main", GOOD + "# on main\n")
    assert localhub.hub.ci.drain(60)
    localhub.drain()
    runs = [d.json() for d in webhook_receiver.events("workflow_run")]
    jobs = [d.json() for d in webhook_receiver.events("workflow_job")]
    assert [r["action"] for r in runs] == ["requested", "in_progress", "completed"]
    assert [j["action"] for j in jobs] == ["queued", "in_progress", "completed"]
    assert runs[-1]["workflow_run"]["conclusion"] == "success" and runs[-1]["workflow"]["name"] == "CI"
    assert runs[-1]["sender"]["login"] == "alice"  # the pusher caused the run
    done = jobs[-1]["workflow_job"]
    assert done["run_id"] == runs[-1]["workflow_run"]["id"] and done["conclusion"] == "success"
    assert done["check_run_url"].endswith(f"/check-runs/{done['id']}")
    assert [s["status"] for s in done["steps"]] == ["completed"] * 3


def test_a_push_to_a_merge_queue_branch_runs_ci_as_an_on_push_workflow_would(
    repo: tuple[Repository, Path], localhub: LocalhubHandle
) -> None:
    gh_repo, clone = repo
    queued = push_branch(clone, "orchestra/queue/main", BAD)
    other = push_branch(clone, "feature", BAD)  # no PR, not the default branch: no run
    assert localhub.hub.ci.drain(60)

    [run] = list(gh_repo.get_workflow_runs(head_sha=queued))
    assert (run.event, run.head_branch, run.conclusion) == ("push", "orchestra/queue/main", "failure")
    assert list(gh_repo.get_workflow_runs(head_sha=other)) == []
