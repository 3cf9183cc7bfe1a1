"""The webhooks of the PR flow, each validated against GitHub's official schema by the receiver:
pull_request opened/synchronize/edited/closed(merged), push of the merge, issues closed by a
closing keyword, check_run created/completed, check_suite completed, status, reviews, comments."""

from __future__ import annotations

from pathlib import Path

from tests.support.git_repos import git, make_repo
from tests.support.localhub import LocalhubHandle, WebhookReceiver

SECRET = "It's a Secret to Everybody"


def test_pr_life_cycle_events(localhub: LocalhubHandle, webhook_receiver: WebhookReceiver, tmp_path: Path) -> None:
    localhub.add_user("alice")
    localhub.add_user("bob")
    localhub.set_app_webhook(webhook_receiver.url, SECRET)
    work = make_repo(tmp_path / "src", {"app.py": "x = 1\n"})
    localhub.import_repo(work, "alice/app", ci="echo checking; test -f app.py")
    repo = localhub.github("alice").get_repo("alice/app")
    repo.add_to_collaborators("bob", "push")
    issue = repo.create_issue("Make x two")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", localhub.git_url("alice/app", "alice"), str(clone))
    git(clone, "checkout", "-q", "-b", "two")
    (clone / "app.py").write_text("x = 2\n")
    git(clone, "commit", "-q", "-am", "x is two")
    git(clone, "push", "-q", "origin", "two")
    pr = repo.create_pull(title="x = 2", body=f"Resolves #{issue.number}", head="two", base="main")
    (clone / "notes.md").write_text("why\n")
    git(clone, "add", "notes.md")
    git(clone, "commit", "-q", "-m", "notes")
    git(clone, "push", "-q", "origin", "two")
    pr.edit(body=f"Resolves #{issue.number}\n\nWith notes.")
    bob_pr = localhub.github("bob").get_repo("alice/app").get_pull(pr.number)
    bob_pr.create_review(body="ok", event="APPROVE")
    bob_pr.create_review_comment("nice", repo.get_commit(pr.head.sha), "notes.md", line=1, side="RIGHT")
    repo.get_commit(pr.head.sha).create_status("success", context="lint")
    assert localhub.hub.ci.drain(60)
    pr.merge(merge_method="squash")
    assert localhub.hub.ci.drain(60)
    localhub.drain()

    seen = [(d.headers["X-GitHub-Event"], d.json().get("action")) for d in webhook_receiver.deliveries]
    for expected in [
        ("pull_request", "opened"),
        ("pull_request", "synchronize"),
        ("pull_request", "edited"),
        ("pull_request_review", "submitted"),
        ("pull_request_review_comment", "created"),
        ("status", None),
        ("check_run", "created"),
        ("check_run", "completed"),
        ("check_suite", "completed"),
        ("pull_request", "closed"),
        ("issues", "closed"),
    ]:
        assert expected in seen, expected
    closed = [d.json() for d in webhook_receiver.events("pull_request") if d.json()["action"] == "closed"][0]
    assert closed["pull_request"]["merged"] is True and closed["sender"]["login"] == "alice"
    issue_closed = [d.json() for d in webhook_receiver.events("issues") if d.json()["action"] == "closed"][0]
    assert issue_closed["issue"]["number"] == issue.number
    assert issue_closed["issue"]["state_reason"] == "completed"
    sync = [d.json() for d in webhook_receiver.events("pull_request") if d.json()["action"] == "synchronize"][0]
    assert sync["after"] == git(clone, "rev-parse", "HEAD").strip()
    pushes = [d.json() for d in webhook_receiver.events("push") if d.json()["ref"] == "refs/heads/main"]
    assert pushes and pushes[-1]["after"] == repo.get_branch("main").commit.sha
    completed = [d.json() for d in webhook_receiver.events("check_run") if d.json()["action"] == "completed"]
    assert {c["check_run"]["conclusion"] for c in completed} == {"success"}
    assert "checking" in completed[0]["check_run"]["output"]["text"]


def test_issue_api_changes_to_a_pr_emit_pull_request(
    localhub: LocalhubHandle, webhook_receiver: WebhookReceiver, tmp_path: Path
) -> None:
    localhub.add_user("alice")
    localhub.set_app_webhook(webhook_receiver.url, SECRET)
    work = make_repo(tmp_path / "src", {"app.py": "x = 1\n"})
    git(work, "checkout", "-q", "-b", "two")
    (work / "app.py").write_text("x = 2\n")
    git(work, "commit", "-q", "-am", "x is two")
    localhub.import_repo(work, "alice/app")
    repo = localhub.github("alice").get_repo("alice/app")
    pr = repo.create_pull(title="x = 2", body="", head="two", base="main")
    as_issue = repo.get_issue(pr.number)
    as_issue.add_to_labels("orchestra:review")
    as_issue.add_to_assignees("alice")
    as_issue.edit(state="closed")
    as_issue.edit(state="open")
    localhub.drain()
    seen = [d.json()["action"] for d in webhook_receiver.events("pull_request")]
    assert seen == ["opened", "labeled", "assigned", "closed", "reopened"]
    assert webhook_receiver.events("issues") == []
    closed = webhook_receiver.events("pull_request")[3].json()
    assert closed["pull_request"]["merged"] is False and closed["pull_request"]["state"] == "closed"
