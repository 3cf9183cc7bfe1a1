"""Required checks on localhub, as GitHub gates merges: classic branch protection and rulesets make
a PR `blocked` (and its merge a 405 naming the check) until every required check run or commit
status has succeeded on its head; a failing check that is not required only makes it `unstable`."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from github import GithubException
from github.PullRequest import PullRequest
from github.Repository import Repository

from tests.support.git_repos import git, make_repo
from tests.support.localhub import LocalhubHandle, WebhookReceiver
from tests.support.waiting import wait_for

CI = "python3 check.py"
GOOD = "print('all good')\n"
BAD = "raise SystemExit('broken')\n"


@pytest.fixture
def repo(localhub: LocalhubHandle, tmp_path: Path, webhook_receiver: WebhookReceiver) -> tuple[Repository, Path]:
    """`alice/app` (CI `python3 check.py`), bob with write access, a clone, the App webhook set."""
    localhub.add_user("alice")
    localhub.add_user("bob")
    localhub.import_repo(make_repo(tmp_path / "src", {"check.py": GOOD}), "alice/app", ci=CI)
    localhub.github("alice").get_repo("alice/app").add_to_collaborators("bob", "push")
    localhub.set_app_webhook(webhook_receiver.url, "s3cret")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", localhub.git_url("alice/app", "alice"), str(clone))
    return localhub.github("alice").get_repo("alice/app"), clone


def open_pr(gh_repo: Repository, clone: Path, branch: str, text: str, localhub: LocalhubHandle) -> PullRequest:
    git(clone, "checkout", "-q", "-B", branch, "origin/main")
    (clone / f"{branch}.txt").write_text(branch)
    (clone / "check.py").write_text(text)
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", f"{branch}: change")
    git(clone, "push", "-q", "origin", branch)
    pr = gh_repo.create_pull(title=branch, body="", head=branch, base="main")
    assert localhub.hub.ci.drain(60)
    return pr


def state(gh_repo: Repository, number: int) -> str:
    def known() -> str | None:
        pr = gh_repo.get_pull(number)
        return pr.mergeable_state if pr.mergeable is not None else None

    return wait_for(known, what=f"mergeability of #{number}")


def merge_refusal(pr: PullRequest) -> tuple[int, str]:
    with pytest.raises(GithubException) as refused:
        pr.merge()
    return refused.value.status, refused.value.data["message"]


def test_protected_branch_blocks_a_pr_until_its_required_checks_pass(
    repo: tuple[Repository, Path], localhub: LocalhubHandle, webhook_receiver: WebhookReceiver
) -> None:
    gh_repo, clone = repo
    localhub.protect_branch("alice/app", "main", ["ci", "lint"])
    branch = gh_repo.get_branch("main")
    assert branch.protected and branch.get_required_status_checks().contexts == ["ci", "lint"]
    pr = open_pr(gh_repo, clone, "feature", GOOD, localhub)
    head = gh_repo.get_commit(pr.head.sha)

    assert state(gh_repo, pr.number) == "blocked"  # ci passed, lint never reported
    assert merge_refusal(pr) == (405, 'Required status check "lint" is expected.')
    head.create_status("failure", context="lint")
    assert merge_refusal(pr) == (405, 'Required status check "lint" is failing.')
    head.create_status("success", context="lint")
    head.create_status("failure", context="optional-deploy")  # not required: only `unstable`
    assert state(gh_repo, pr.number) == "unstable"
    assert pr.merge().merged
    gh_repo.get_commit(gh_repo.get_branch("main").commit.sha).create_status("success", context="post-merge")
    localhub.drain()
    [status] = [d.json() for d in webhook_receiver.events("status") if d.json()["context"] == "post-merge"]
    assert [(b["name"], b["protected"]) for b in status["branches"]] == [("main", True)]


def test_a_failing_required_check_run_is_named(repo: tuple[Repository, Path], localhub: LocalhubHandle) -> None:
    gh_repo, clone = repo
    localhub.protect_branch("alice/app", "main", ["ci"])
    pr = open_pr(gh_repo, clone, "broken", BAD, localhub)
    assert state(gh_repo, pr.number) == "blocked"
    assert merge_refusal(pr) == (405, 'Required status check "ci" is failing.')


def test_admins_bypass_protection_unless_it_is_enforced_for_them(
    repo: tuple[Repository, Path], localhub: LocalhubHandle
) -> None:
    gh_repo, clone = repo
    localhub.protect_branch("alice/app", "main", ["lint"], enforce_admins=False)
    first = open_pr(gh_repo, clone, "first", GOOD, localhub)
    as_bob = localhub.github("bob").get_repo("alice/app")
    assert merge_refusal(as_bob.get_pull(first.number)) == (405, 'Required status check "lint" is expected.')
    assert first.merge().merged  # alice is an admin and admins are not held by this protection

    localhub.protect_branch("alice/app", "main", ["lint"], enforce_admins=True)
    second = open_pr(gh_repo, clone, "second", GOOD, localhub)
    assert merge_refusal(second) == (405, 'Required status check "lint" is expected.')


def test_protection_is_read_and_removed_by_admins_only(repo: tuple[Repository, Path], localhub: LocalhubHandle) -> None:
    gh_repo, _ = repo
    branch = gh_repo.get_branch("main")
    with pytest.raises(GithubException) as missing:
        branch.get_protection()
    assert (missing.value.status, missing.value.data["message"]) == (404, "Branch not protected")
    branch.edit_protection(strict=True, contexts=["ci"], enforce_admins=True)
    protection = gh_repo.get_branch("main").get_protection()
    assert protection.required_status_checks.strict and protection.enforce_admins
    as_bob = localhub.github("bob").get_repo("alice/app").get_branch("main")
    with pytest.raises(GithubException) as forbidden:
        as_bob.get_protection()
    assert forbidden.value.status == 403
    bad = requests.put(
        f"{localhub.api_url}/repos/alice/app/branches/main/protection",
        timeout=10,
        headers={"Authorization": f"token {localhub.token('alice')}"},
        json={"required_status_checks": None, "enforce_admins": True},
    )
    assert bad.status_code == 422 and "weren't supplied" in bad.json()["message"]
    gh_repo.get_branch("main").remove_protection()
    assert not gh_repo.get_branch("main").protected


def test_strict_protection_holds_back_a_pr_behind_its_base(
    repo: tuple[Repository, Path], localhub: LocalhubHandle
) -> None:
    gh_repo, clone = repo
    localhub.protect_branch("alice/app", "main", ["ci"], strict=True)
    first = open_pr(gh_repo, clone, "first", GOOD, localhub)
    second = open_pr(gh_repo, clone, "second", GOOD, localhub)
    assert state(gh_repo, first.number) == "clean"
    assert first.merge().merged
    assert state(gh_repo, second.number) == "behind"
    assert merge_refusal(second)[0] == 405


def test_ruleset_required_checks_gate_merges_and_are_listed_for_the_branch(
    repo: tuple[Repository, Path], localhub: LocalhubHandle
) -> None:
    gh_repo, clone = repo
    ruleset = localhub.add_ruleset(
        "alice/app",
        [
            {
                "type": "required_status_checks",
                "parameters": {
                    "strict_required_status_checks_policy": False,
                    "required_status_checks": [{"context": "ci"}, {"context": "lint"}],
                },
            }
        ],
    )
    auth = {"Authorization": f"token {localhub.token('bob')}"}
    rules = requests.get(f"{localhub.api_url}/repos/alice/app/rules/branches/main", headers=auth, timeout=10).json()
    assert [(r["type"], r["ruleset_id"], r["ruleset_source"]) for r in rules] == [
        ("required_status_checks", ruleset["id"], "alice/app")
    ]
    assert [c["context"] for c in rules[0]["parameters"]["required_status_checks"]] == ["ci", "lint"]
    other = requests.get(f"{localhub.api_url}/repos/alice/app/rules/branches/other", headers=auth, timeout=10)
    assert other.json() == []

    pr = open_pr(gh_repo, clone, "feature", GOOD, localhub)
    assert state(gh_repo, pr.number) == "blocked"
    assert merge_refusal(pr) == (405, 'Repository rule violations found\n\nRequired status check "lint" is expected.')
    gh_repo.get_commit(pr.head.sha).create_status("success", context="lint")
    assert state(gh_repo, pr.number) == "clean"
    assert pr.merge().merged


def test_rulesets_are_managed_by_admins_and_disabled_ones_do_not_apply(
    repo: tuple[Repository, Path], localhub: LocalhubHandle
) -> None:
    gh_repo, clone = repo
    created = localhub.add_ruleset(
        "alice/app",
        [
            {
                "type": "required_status_checks",
                "parameters": {
                    "strict_required_status_checks_policy": False,
                    "required_status_checks": [{"context": "lint"}],
                },
            }
        ],
        include=("refs/heads/ma*",),
    )
    url = f"{localhub.api_url}/repos/alice/app/rulesets"
    alice, bob = ({"Authorization": f"token {localhub.token(u)}"} for u in ("alice", "bob"))
    listed = requests.get(url, headers=bob, timeout=10).json()
    assert [(r["id"], r["enforcement"]) for r in listed] == [(created["id"], "active")] and "rules" not in listed[0]
    refused = requests.post(url, headers=bob, timeout=10, json={"name": "x", "enforcement": "active"})
    assert refused.status_code == 403
    unknown = requests.post(
        url, headers=alice, timeout=10, json={"name": "x", "enforcement": "active", "rules": [{"type": "teleport"}]}
    )
    assert unknown.status_code == 422 and "/rules/0" in unknown.json()["message"]

    pr = open_pr(gh_repo, clone, "feature", GOOD, localhub)
    assert state(gh_repo, pr.number) == "blocked"
    changed = requests.put(f"{url}/{created['id']}", headers=alice, timeout=10, json={"enforcement": "disabled"})
    assert changed.status_code == 200 and changed.json()["enforcement"] == "disabled"
    assert state(gh_repo, pr.number) == "clean"
    assert requests.delete(f"{url}/{created['id']}", headers=alice, timeout=10).status_code == 204
    assert requests.get(f"{url}/{created['id']}", headers=alice, timeout=10).status_code == 404


def test_required_approvals_block_until_a_writer_approves(
    repo: tuple[Repository, Path], localhub: LocalhubHandle
) -> None:
    gh_repo, clone = repo
    localhub.protect_branch("alice/app", "main", [], approvals=1)
    reviews = gh_repo.get_branch("main").get_protection().required_pull_request_reviews
    assert reviews.required_approving_review_count == 1
    pr = open_pr(gh_repo, clone, "feature", GOOD, localhub)
    assert state(gh_repo, pr.number) == "blocked"
    assert merge_refusal(pr) == (405, "At least 1 approving review is required by reviewers with write access.")
    localhub.github("bob").get_repo("alice/app").get_pull(pr.number).create_review(event="APPROVE")
    assert state(gh_repo, pr.number) == "clean"
    assert pr.merge().merged
