"""The Forge verbs send the right requests, count their calls, retry safely and never duplicate a create."""

from __future__ import annotations

import base64
import json

import pytest
import responses
from github import Auth

from bot import repofiles
from bot.errors import ConfigError, ForgeUnavailable, RateLimited
from bot.forge import Forge, Permission, RetryPolicy
from bot.ledger import comments, labels
from bot.ledger.labels import State
from bot.ledger.markers import tag
from bot.repoconfig import RepoConfig

API = "http://forge.test:9000/api/v3"
REPO = f"{API}/repos/octo/cat"


def issue_json(
    number: int, *, title: str = "t", body: str = "b", labels: tuple[str, ...] = (), user: str = "ann"
) -> dict:
    return {
        "id": 1000 + number,
        "number": number,
        "title": title,
        "body": body,
        "state": "open",
        "state_reason": None,
        "labels": [{"name": n} for n in labels],
        "assignees": [],
        "user": {"login": user},
        "html_url": f"https://forge.test/octo/cat/issues/{number}",
        "url": f"{REPO}/issues/{number}",
        "pull_request": None,
    }


def comment_json(cid: int, body: str, user: str = "orchestra[bot]") -> dict:
    return {"id": cid, "body": body, "user": {"login": user}, "url": f"{REPO}/issues/comments/{cid}"}


def pull_json(number: int, head: str = "orchestra/5-x", **extra: object) -> dict:
    return {
        "number": number,
        "title": "T",
        "body": "B",
        "state": "open",
        "merged": False,
        "mergeable": True,
        "mergeable_state": "clean",
        "head": {"ref": head, "sha": "abc"},
        "base": {"ref": "main", "sha": "def"},
        "html_url": "h",
        "labels": [],
        "url": f"{REPO}/pulls/{number}",
        "node_id": f"PR_{number}",
        **extra,
    }


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def forge(sleeps: list[float]) -> Forge:
    policy = RetryPolicy(attempts=4, write_spacing_s=None, sleep=sleeps.append, clock=lambda: 1_000_000.0)
    return Forge(
        "octo/cat",
        Auth.Token("tok-123"),
        api_url=API,
        server_url="https://forge.test",
        bot_login="orchestra[bot]",
        policy=policy,
    )


@responses.activate
def test_create_issue_after_a_502_that_landed_finds_the_issue_instead_of_creating_again(forge: Forge) -> None:
    responses.post(f"{REPO}/issues", status=502)
    responses.get(f"{REPO}/issues", json=[issue_json(7, title="Task A", body="body <!-- orchestra:task {} -->")])
    issue = forge.create_issue("Task A", "body <!-- orchestra:task {} -->", ["orchestra:task"])
    assert issue.number == 7
    posts = [c for c in responses.calls if c.request.method == "POST"]
    assert len(posts) == 1
    assert forge.calls["create_issue"] == 1


@responses.activate
def test_create_issue_retries_when_the_failed_attempt_left_nothing(forge: Forge, sleeps: list[float]) -> None:
    responses.post(f"{REPO}/issues", status=503)
    responses.post(f"{REPO}/issues", status=201, json=issue_json(8, title="Task B"))
    responses.get(f"{REPO}/issues", json=[])
    assert forge.create_issue("Task B", "b").number == 8
    assert sleeps == [1.0]
    posts = [json.loads(c.request.body) for c in responses.calls if c.request.method == "POST"]
    assert posts == [{"title": "Task B", "body": "b", "labels": []}] * 2


@responses.activate
def test_server_errors_past_the_bound_raise_forge_unavailable(forge: Forge) -> None:
    responses.get(f"{REPO}/issues/3", status=500)
    with pytest.raises(ForgeUnavailable, match="HTTP 500 after 4 attempts"):
        forge.get_issue(3)
    assert len(responses.calls) == 4


@responses.activate
def test_rate_limit_waits_for_retry_after_then_succeeds(forge: Forge, sleeps: list[float]) -> None:
    responses.get(
        f"{REPO}/issues/3", status=403, headers={"retry-after": "7"}, json={"message": "secondary rate limit"}
    )
    responses.get(f"{REPO}/issues/3", json=issue_json(3))
    assert forge.get_issue(3).number == 3
    assert sleeps == [7.0]


@responses.activate
def test_rate_limit_without_retry_after_waits_until_reset(forge: Forge, sleeps: list[float]) -> None:
    reset = str(1_000_000 + 120)
    responses.get(f"{REPO}/issues/3", status=429, headers={"x-ratelimit-reset": reset, "x-ratelimit-remaining": "0"})
    responses.get(f"{REPO}/issues/3", json=issue_json(3))
    forge.get_issue(3)
    assert sleeps == [121.0]


@responses.activate
def test_rate_limit_longer_than_the_bound_raises_rate_limited(forge: Forge) -> None:
    responses.get(f"{REPO}/issues/3", status=403, headers={"retry-after": "3600"}, json={"message": "rate limit"})
    with pytest.raises(RateLimited):
        forge.get_issue(3)


@responses.activate
def test_plain_403_is_not_retried(forge: Forge) -> None:
    responses.get(f"{REPO}/issues/3", status=403, json={"message": "Resource not accessible by integration"})
    with pytest.raises(Exception, match="403"):
        forge.get_issue(3)
    assert len(responses.calls) == 1


@responses.activate
def test_upsert_comment_edits_the_bots_tagged_comment_in_place(forge: Forge) -> None:
    responses.get(
        f"{REPO}/issues/5/comments",
        json=[
            comment_json(1, f"{tag('status')}\nold", user="mallory"),
            comment_json(2, f"{tag('status')}\nold"),
        ],
    )
    responses.get(f"{REPO}/issues/5/comments/2", json=comment_json(2, f"{tag('status')}\nold"))
    responses.patch(f"{REPO}/issues/comments/2", json=comment_json(2, f"{tag('status')}\nnew"))
    result = comments.upsert(forge, 5, "status", "new")
    assert result.id == 2 and result.body.endswith("new")
    assert not [c for c in responses.calls if c.request.method == "POST"]


@responses.activate
def test_upsert_comment_posts_once_when_there_is_none(forge: Forge) -> None:
    responses.get(f"{REPO}/issues/5/comments", json=[comment_json(1, f"{tag('status')}\nby a person", user="ann")])
    responses.post(f"{REPO}/issues/5/comments", status=201, json=comment_json(9, f"{tag('status')}\nhello"))
    comments.upsert(forge, 5, "status", "hello")
    post = next(c for c in responses.calls if c.request.method == "POST")
    assert json.loads(post.request.body)["body"] == f"{tag('status')}\nhello"


@responses.activate
def test_set_state_leaves_exactly_one_state_label(forge: Forge) -> None:
    responses.get(f"{REPO}/issues/5", json=issue_json(5, labels=("orchestra:task", "orchestra:ready", "bug")))
    responses.put(f"{REPO}/issues/5/labels", json=[])
    labels.set_state(forge, 5, State.WORKING, RepoConfig())
    put = next(c for c in responses.calls if c.request.method == "PUT")
    assert sorted(json.loads(put.request.body)) == ["bug", "orchestra:task", "orchestra:working"]


@responses.activate
def test_set_state_is_idempotent(forge: Forge) -> None:
    responses.get(f"{REPO}/issues/5", json=issue_json(5, labels=("orchestra:task", "orchestra:working")))
    labels.set_state(forge, 5, State.WORKING, RepoConfig())
    assert [c.request.method for c in responses.calls] == ["GET"]


@responses.activate
def test_ensure_labels_creates_only_missing_labels_once_per_process(forge: Forge) -> None:
    responses.get(f"{REPO}/labels", json=[{"name": "zz:goal", "color": "fff"}])
    responses.post(f"{REPO}/labels", status=201, json={"name": "x", "color": "fff"})
    config = RepoConfig(label_prefix="zz")
    labels.ensure(forge, config)
    labels.ensure(forge, config)
    created = [json.loads(c.request.body)["name"] for c in responses.calls if c.request.method == "POST"]
    assert "zz:goal" not in created and "zz:task" in created and "zz:needs-human" in created
    assert "zz:queued" in created  # the merge queue's mark on a PR
    assert len(created) == 8


@responses.activate
def test_open_or_update_pr_updates_the_existing_pr_for_the_head(forge: Forge) -> None:
    responses.get(f"{REPO}/pulls", json=[pull_json(11)])
    responses.patch(f"{REPO}/pulls/11", json=pull_json(11, body="new"))
    pr = forge.open_or_update_pr("orchestra/5-x", "main", "T", "new")
    assert pr.number == 11
    assert not [c for c in responses.calls if c.request.method == "POST"]
    assert responses.calls[0].request.params["head"] == "octo:orchestra/5-x"


@responses.activate
def test_open_pr_after_an_ambiguous_failure_finds_the_pr(forge: Forge) -> None:
    responses.get(f"{REPO}/pulls", json=[])
    responses.post(f"{REPO}/pulls", status=502)
    responses.get(f"{REPO}/pulls", json=[pull_json(12)])
    assert forge.open_or_update_pr("orchestra/5-x", "main", "T", "B").number == 12
    assert len([c for c in responses.calls if c.request.method == "POST"]) == 1


@responses.activate
def test_merge_pr_reports_a_refusal_as_false(forge: Forge) -> None:
    responses.put(f"{REPO}/pulls/11/merge", status=405, json={"message": "not mergeable"})
    assert forge.merge_pr(11, "squash") is False


@responses.activate
def test_check_state_collects_failures_with_output_and_annotations(forge: Forge) -> None:
    runs = {
        "total_count": 2,
        "check_runs": [
            {
                "id": 1,
                "name": "tests",
                "status": "completed",
                "conclusion": "failure",
                "output": {
                    "title": "2 failed",
                    "summary": "sum",
                    "text": "trace",
                    "annotations_count": 1,
                    "annotations_url": f"{REPO}/check-runs/1/annotations",
                },
                "url": f"{REPO}/check-runs/1",
            },
            {
                "id": 2,
                "name": "lint",
                "status": "completed",
                "conclusion": "success",
                "output": {"annotations_count": 0},
                "url": f"{REPO}/check-runs/2",
            },
        ],
    }
    responses.get(f"{REPO}/commits/abc/check-runs", json=runs)
    responses.get(
        f"{REPO}/check-runs/1/annotations",
        json=[{"path": "a.py", "start_line": 3, "annotation_level": "failure", "message": "boom"}],
    )
    responses.get(
        f"{REPO}/commits/abc/statuses",
        json=[
            {"context": "ci/legacy", "state": "error", "description": "crashed"},
            {"context": "ci/legacy", "state": "pending", "description": "older"},
        ],
    )
    state = forge.check_state("abc")
    assert state.state == "failure"
    assert [f.name for f in state.failures] == ["tests", "ci/legacy"]
    assert state.failures[0].title == "2 failed" and state.failures[0].annotations == ["a.py:3: failure: boom"]
    assert responses.calls[0].request.params["filter"] == "latest"


@responses.activate
def test_check_state_pending_then_success(forge: Forge) -> None:
    run = {"id": 1, "name": "t", "status": "in_progress", "conclusion": None, "url": f"{REPO}/check-runs/1"}
    responses.get(f"{REPO}/commits/s1/check-runs", json={"total_count": 1, "check_runs": [run]})
    responses.get(f"{REPO}/commits/s1/statuses", json=[])
    responses.get(f"{REPO}/commits/s2/check-runs", json={"total_count": 0, "check_runs": []})
    responses.get(f"{REPO}/commits/s2/statuses", json=[{"context": "c", "state": "success"}])
    assert forge.check_state("s1").state == "pending"
    assert forge.check_state("s2").state == "success"


@responses.activate
@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"permission": "write", "role_name": "maintain"}, Permission.MAINTAIN),
        ({"permission": "read", "role_name": "read"}, Permission.READ),
        ({"permission": "admin"}, Permission.ADMIN),
    ],
)
def test_permission_reads_the_role(forge: Forge, answer: dict, expected: Permission) -> None:
    responses.get(f"{REPO}/collaborators/ann/permission", json=answer)
    assert forge.permission("ann") == expected
    assert expected.can_write == (expected in {Permission.ADMIN, Permission.MAINTAIN, Permission.WRITE})


@responses.activate
def test_permission_of_a_stranger_is_none(forge: Forge) -> None:
    responses.get(f"{REPO}/collaborators/zed/permission", status=404, json={"message": "Not Found"})
    assert forge.permission("zed") == Permission.NONE


@responses.activate
def test_repo_config_defaults_when_missing_and_names_the_file_when_invalid(forge: Forge) -> None:
    first, second = "a" * 40, "b" * 40
    responses.get(REPO, json={"full_name": "octo/cat", "default_branch": "trunk", "url": REPO})
    responses.get(f"{REPO}/branches/trunk", json={"name": "trunk", "commit": {"sha": first}})
    responses.get(f"{REPO}/contents/.github/orchestra.yml", status=404, json={"message": "Not Found"})
    assert repofiles.read_config(forge) == RepoConfig()
    assert responses.calls[-1].request.params["ref"] == first  # read at the branch's head commit
    responses.replace(
        responses.GET,
        f"{REPO}/contents/.github/orchestra.yml",
        json={
            "type": "file",
            "encoding": "base64",
            "name": "orchestra.yml",
            "path": ".github/orchestra.yml",
            "content": base64.b64encode(b"bogus_key: 1\n").decode(),
        },
    )
    assert repofiles.read_config(forge) == RepoConfig()  # the same commit: known, not read again
    assert sum("/contents/" in call.request.url for call in responses.calls) == 1
    responses.replace(responses.GET, f"{REPO}/branches/trunk", json={"name": "trunk", "commit": {"sha": second}})
    later = Forge(
        "octo/cat",
        Auth.Token("tok-123"),
        api_url=API,
        server_url="https://forge.test",
        bot_login="orchestra[bot]",
        policy=forge.policy,
    )
    with pytest.raises(ConfigError, match=r"\.github/orchestra\.yml:bogus_key"):
        repofiles.read_config(later)  # a later job sees the branch moved and reads the new commit
    assert responses.calls[-1].request.params["ref"] == second
    assert forge.calls["read_file"] == 2 and later.calls["read_file"] == 1
    assert sum(call.request.url.rstrip("/") == REPO for call in responses.calls) == 1  # the default branch: once


def test_git_credentials_travel_in_a_header_not_the_url(forge: Forge) -> None:
    assert forge.git_remote_url() == "https://forge.test/octo/cat.git"
    header = forge.git_auth_header()
    assert base64.b64decode(header.removeprefix("Basic ")) == b"x-access-token:tok-123"
    assert forge.git_env()["GIT_CONFIG_VALUE_0"] == f"Authorization: {header}"


@responses.activate
def test_a_repeated_read_is_conditional_and_a_304_answers_from_the_cache(forge: Forge) -> None:
    responses.get(f"{REPO}/issues/5", json=issue_json(5, labels=("orchestra:task",)), headers={"ETag": '"v1"'})
    responses.get(f"{REPO}/issues/5", status=304, headers={"ETag": '"v1"'})
    first = forge.get_issue(5)
    second = forge.get_issue(5)
    assert second == first and second.labels == ["orchestra:task"]
    assert "If-None-Match" not in responses.calls[0].request.headers
    assert responses.calls[1].request.headers["If-None-Match"] == '"v1"'


@responses.activate
def test_upsert_comment_that_raced_another_job_keeps_only_the_oldest(forge: Forge) -> None:
    mine = f"{tag('status')}\nfresh"
    responses.get(f"{REPO}/issues/5/comments", json=[])
    responses.post(f"{REPO}/issues/5/comments", status=201, json=comment_json(9, mine))
    responses.get(
        f"{REPO}/issues/5/comments", json=[comment_json(3, f"{tag('status')}\nother job"), comment_json(9, mine)]
    )
    responses.delete(f"{REPO}/issues/comments/9", status=204)
    responses.patch(f"{REPO}/issues/comments/3", json=comment_json(3, mine))
    kept = comments.upsert(forge, 5, "status", "fresh")
    assert kept.id == 3 and kept.body == mine
    assert [c.request.method for c in responses.calls] == ["GET", "POST", "GET", "DELETE", "PATCH"]


@responses.activate
def test_a_listed_issue_is_read_from_its_listing_not_fetched_again(forge: Forge) -> None:
    """A sub-issue listing gives lazy PyGithub objects: a plain issue has no `pull_request` key, and
    reading that attribute would GET the issue once more (one request per listed issue)."""
    responses.get(
        f"{REPO}/issues/7/sub_issues",
        json=[
            {
                "id": 70 + n,
                "number": n,
                "title": f"Task {n}",
                "body": "b",
                "state": "open",
                "state_reason": None,
                "labels": [{"name": "orchestra:task"}],
                "assignees": [],
                "user": {"login": "orchestra[bot]"},
                "html_url": f"https://forge.test/octo/cat/issues/{n}",
                "url": f"{REPO}/issues/{n}",
            }
            for n in (8, 9)
        ],
    )
    subs = forge.list_sub_issues(7)
    assert [(i.number, i.labels, i.is_pull, i.author) for i in subs] == [
        (8, ["orchestra:task"], False, "orchestra[bot]"),
        (9, ["orchestra:task"], False, "orchestra[bot]"),
    ]
    assert [call.request.url.split("?")[0] for call in responses.calls] == [f"{REPO}/issues/7/sub_issues"]
