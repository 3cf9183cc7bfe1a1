"""GitHub's merge queue on localhub: PRs are queued through GraphQL (PyGithub's requester, at
`/api/graphql`), each gets a `gh-readonly-queue/main/pr-<n>-<sha>` group built on the one before,
local CI runs on the group heads, and green groups fast-forward `main`; a red group drops its PR
and the queue goes on without it. Direct merges are refused while the queue rule applies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from github import Github, GithubException
from github.PullRequest import PullRequest
from github.Repository import Repository

from tests.support.git_repos import git, make_repo
from tests.support.localhub import LocalhubHandle, WebhookReceiver
from tests.support.waiting import wait_for

# a.txt and b.txt each pass alone but not together (a semantic conflict only the queue sees).
CHECK = "import os\nassert not (os.path.exists('a.txt') and os.path.exists('b.txt')), 'a and b clash'\n"
ENQUEUE = "mergeQueueEntry { id state position }"
PR_QUERY = """query($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) { pullRequest(number: $number) {
    id isInMergeQueue mergeStateStatus autoMergeRequest { mergeMethod enabledBy { login } }
    mergeQueueEntry { state position headCommit { oid } enqueuer { login } } } } }"""


@pytest.fixture
def setup(
    localhub: LocalhubHandle, tmp_path: Path, webhook_receiver: WebhookReceiver
) -> Iterator[tuple[Repository, Path]]:
    """`alice/app` whose CI runs check.py, a merge queue ruleset on main requiring `ci`, a clone."""
    localhub.add_user("alice")
    gate = tmp_path / "gate"
    gate.touch()
    command = f"while [ ! -e {gate} ]; do sleep 0.05; done; python3 check.py"
    localhub.import_repo(make_repo(tmp_path / "src", {"check.py": CHECK}), "alice/app", ci=command)
    localhub.set_app_webhook(webhook_receiver.url, "s3cret")
    localhub.require_merge_queue("alice/app", checks=("ci",))
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", localhub.git_url("alice/app", "alice"), str(clone))
    yield localhub.github("alice").get_repo("alice/app"), clone
    gate.touch()  # let waiting CI runs finish, so the hub stops at once


def open_pr(gh_repo: Repository, clone: Path, name: str) -> PullRequest:
    git(clone, "checkout", "-q", "-B", name, "origin/main")
    (clone / f"{name}.txt").write_text(f"{name}\n")
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", f"Add {name}.txt")
    git(clone, "push", "-q", "origin", name)
    return gh_repo.create_pull(title=f"Add {name}", body="", head=name, base="main")


def enqueue(gh: Github, pr: PullRequest) -> dict[str, Any]:
    _, data = gh.requester.graphql_named_mutation("enqueuePullRequest", {"pullRequestId": pr.node_id}, ENQUEUE)
    return data


def merged(gh_repo: Repository, number: int) -> bool:
    return gh_repo.get_pull(number).merged


def test_two_prs_land_fast_forward_after_ci_on_their_group_heads(
    setup: tuple[Repository, Path], localhub: LocalhubHandle, webhook_receiver: WebhookReceiver, tmp_path: Path
) -> None:
    gh_repo, clone = setup
    gh = localhub.github("alice")
    old_main = gh_repo.get_branch("main").commit.sha
    first, second = open_pr(gh_repo, clone, "a"), open_pr(gh_repo, clone, "c")
    assert localhub.hub.ci.drain(60)  # the PRs' own required checks pass first

    (tmp_path / "gate").unlink()  # the first group's CI waits until both PRs are queued
    entry = enqueue(gh, first)["mergeQueueEntry"]
    assert entry["position"] == 1 and entry["state"] in ("AWAITING_CHECKS", "MERGEABLE")
    assert enqueue(gh, second)["mergeQueueEntry"]["position"] == 2
    (tmp_path / "gate").touch()
    wait_for(
        lambda: merged(gh_repo, first.number) and merged(gh_repo, second.number),
        timeout=60,
        what="both PRs merged by the queue",
    )

    main = gh_repo.get_branch("main").commit.sha
    assert git(clone, "fetch", "-q", "origin") == ""
    assert git(clone, "merge-base", "--is-ancestor", old_main, main) == ""  # fast-forward only
    landed = gh_repo.get_pull(second.number)
    assert landed.merge_commit_sha == main and landed.merged_by.login == "github-merge-queue[bot]"
    assert not [b.name for b in gh_repo.get_branches() if b.name.startswith("gh-readonly-queue/")]
    runs = list(gh_repo.get_workflow_runs(event="merge_group"))
    assert {r.head_branch for r in runs} == {
        f"gh-readonly-queue/main/pr-{pr.number}-{pr.head.sha}" for pr in (first, second)
    }

    localhub.drain()
    groups = [d.json() for d in webhook_receiver.events("merge_group")]
    assert sorted((g["action"], g.get("reason") or "") for g in groups) == [
        ("checks_requested", ""),
        ("checks_requested", ""),
        ("destroyed", "merged"),
        ("destroyed", "merged"),
    ]
    requested = [g["merge_group"] for g in groups if g["action"] == "checks_requested"]
    assert requested[0]["base_ref"] == "refs/heads/main" and requested[0]["base_sha"] == old_main
    assert requested[1]["base_sha"] == requested[0]["head_sha"]  # the second group is built on the first
    assert requested[1]["head_sha"] == main
    actions = [(d.json()["action"], d.json()["number"]) for d in webhook_receiver.events("pull_request")]
    assert ("enqueued", first.number) in actions and ("closed", second.number) in actions
    pushed = {d.json()["ref"] for d in webhook_receiver.events("push")}
    assert f"refs/heads/gh-readonly-queue/main/pr-{first.number}-{first.head.sha}" in pushed


def test_a_red_group_drops_the_breaking_pr_and_lands_the_other(
    setup: tuple[Repository, Path], localhub: LocalhubHandle, webhook_receiver: WebhookReceiver
) -> None:
    gh_repo, clone = setup
    gh = localhub.github("alice")
    good, breaking = open_pr(gh_repo, clone, "a"), open_pr(gh_repo, clone, "b")
    assert localhub.hub.ci.drain(60)
    enqueue(gh, good)
    enqueue(gh, breaking)  # fine alone, red on top of `a`
    wait_for(lambda: merged(gh_repo, good.number), timeout=60, what="the good PR merged")
    assert localhub.hub.ci.drain(60)
    localhub.drain()

    still = gh_repo.get_pull(breaking.number)
    assert still.state == "open" and not still.merged
    dequeued = [d.json() for d in webhook_receiver.events("pull_request") if d.json()["action"] == "dequeued"]
    assert [(d["number"], d["reason"]) for d in dequeued] == [(breaking.number, "CI_FAILURE")]
    destroyed = [
        (g["merge_group"]["head_ref"].rsplit("/", 1)[-1], g["reason"])
        for g in (d.json() for d in webhook_receiver.events("merge_group"))
        if g["action"] == "destroyed"
    ]
    assert (f"pr-{breaking.number}-{breaking.head.sha}", "dequeued") in destroyed
    assert (f"pr-{good.number}-{good.head.sha}", "merged") in destroyed
    answer = localhub.graphql("alice", PR_QUERY, {"owner": "alice", "name": "app", "number": breaking.number})
    assert answer["data"]["repository"]["pullRequest"]["isInMergeQueue"] is False


def test_direct_merges_are_refused_under_the_queue_rule(
    setup: tuple[Repository, Path], localhub: LocalhubHandle
) -> None:
    gh_repo, clone = setup
    pr = open_pr(gh_repo, clone, "a")
    assert localhub.hub.ci.drain(60)
    with pytest.raises(GithubException) as refused:
        pr.merge()
    assert refused.value.status == 405
    assert refused.value.data["message"] == (
        "Repository rule violations found\n\nChanges must be made through the merge queue"
    )


def test_auto_merge_joins_the_queue_once_the_prs_checks_pass(
    setup: tuple[Repository, Path], localhub: LocalhubHandle, tmp_path: Path
) -> None:
    gh_repo, clone = setup
    (tmp_path / "gate").unlink()  # CI waits until the gate exists again
    pr = open_pr(gh_repo, clone, "a")
    pr.enable_automerge(merge_method="SQUASH")  # PyGithub's own GraphQL call
    state = localhub.graphql("alice", PR_QUERY, {"owner": "alice", "name": "app", "number": pr.number})
    node = state["data"]["repository"]["pullRequest"]
    assert node["id"] == pr.node_id and node["isInMergeQueue"] is False and node["mergeQueueEntry"] is None
    assert node["autoMergeRequest"] == {"mergeMethod": "SQUASH", "enabledBy": {"login": "alice"}}
    assert gh_repo.get_pull(pr.number).raw_data["auto_merge"]["merge_method"] == "squash"
    (tmp_path / "gate").touch()
    wait_for(lambda: merged(gh_repo, pr.number), timeout=60, what="auto-merge through the queue")


def test_graphql_errors_carry_githubs_type(
    setup: tuple[Repository, Path], localhub: LocalhubHandle, tmp_path: Path
) -> None:
    gh_repo, clone = setup
    (tmp_path / "gate").unlink()
    pr = open_pr(gh_repo, clone, "a")  # its `ci` cannot finish: required checks not passed yet
    gh = localhub.github("alice")
    with pytest.raises(GithubException) as unready:
        enqueue(gh, pr)
    assert unready.value.data["errors"][0]["type"] == "UNPROCESSABLE"
    missing = localhub.graphql("alice", 'query { node(id: "MDpQUjk5OTk") { id } }')
    assert missing["errors"][0]["type"] == "NOT_FOUND" and missing["data"] == {"node": None}
    localhub.add_user("mallory")
    forbidden = localhub.graphql(
        "mallory",
        "mutation($id: ID!) { enqueuePullRequest(input: {pullRequestId: $id}) { clientMutationId } }",
        {"id": pr.node_id},
    )
    assert forbidden["errors"][0]["type"] == "FORBIDDEN"
    (tmp_path / "gate").touch()


def test_dequeue_and_a_push_take_prs_out_of_the_queue(
    setup: tuple[Repository, Path], localhub: LocalhubHandle, webhook_receiver: WebhookReceiver, tmp_path: Path
) -> None:
    gh_repo, clone = setup
    gh = localhub.github("alice")
    first, second = open_pr(gh_repo, clone, "a"), open_pr(gh_repo, clone, "c")
    assert localhub.hub.ci.drain(60)
    (tmp_path / "gate").unlink()  # group CI now waits: the entries stay queued
    enqueue(gh, first)
    enqueue(gh, second)
    _, data = gh.requester.graphql_named_mutation("dequeuePullRequest", {"id": first.node_id}, ENQUEUE)
    assert data["mergeQueueEntry"]["position"] == 1
    git(clone, "checkout", "-q", "c")
    (clone / "c.txt").write_text("changed\n")
    git(clone, "commit", "-q", "-am", "Change c.txt")
    git(clone, "push", "-q", "origin", "c")
    (tmp_path / "gate").touch()
    assert localhub.hub.ci.drain(60)
    localhub.drain()
    dequeued = [
        (d.json()["number"], d.json()["reason"])
        for d in webhook_receiver.events("pull_request")
        if d.json()["action"] == "dequeued"
    ]
    assert dequeued == [(first.number, "MANUAL"), (second.number, "UNKNOWN_REMOVAL_REASON")]
    assert not (gh_repo.get_pull(first.number).merged or gh_repo.get_pull(second.number).merged)
    assert not [b.name for b in gh_repo.get_branches() if b.name.startswith("gh-readonly-queue/")]
