"""localhub as GitHub: the issue events list names who labelled, assigned, renamed, closed, reopened and merged
(each answer checked against GitHub's schema by the fixture); bodies over 65,536 characters get GitHub's 422;
a file over 1 MB comes back from the contents API without content (`encoding: none`), which the bot's forge
turns into a clear error instead of a crash."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from github import Auth, GithubException

from bot import repofiles
from bot.errors import ConfigError
from bot.forge.client import Forge
from bot.forge.limits import FileTooLarge
from bot.forge.retry import RetryPolicy
from tests.support.git_repos import git
from tests.support.localhub import LocalhubHandle
from tests.support.waiting import wait_for

BIG = 65_537


@pytest.fixture
def hub(localhub: LocalhubHandle, git_repo_factory: Callable[..., Path]) -> LocalhubHandle:
    localhub.add_user("alice")
    localhub.add_user("trish")
    localhub.import_repo(
        git_repo_factory(
            {
                "README.md": "# app\n",
                "big.txt": "x" * (1024 * 1024 + 1),
                ".github/orchestra.yml": "# " + "y" * 70_000 + "\n",
            }
        ),
        "alice/app",
    )
    store = localhub.hub.store
    repo = store.repo("alice", "app")
    with store.write() as db:
        db.execute(
            "INSERT INTO collaborators(repo_id, user_id, permission) VALUES (?,?,?)",
            (repo["id"], store.user_by_login("trish")["id"], "triage"),
        )
    return localhub


def _forge(hub: LocalhubHandle, login: str = "alice") -> Forge:
    return Forge(
        "alice/app",
        Auth.Token(hub.token(login)),
        api_url=hub.api_url,
        server_url=hub.url,
        bot_login=login,
        policy=RetryPolicy(write_spacing_s=None, scale=0.001),
    )


def test_the_events_list_says_who_did_what(hub: LocalhubHandle) -> None:
    alice = hub.github("alice").get_repo("alice/app")
    issue = alice.create_issue("Goal", "text", labels=["kind:goal"])
    trish = hub.github("trish").get_repo("alice/app").get_issue(issue.number)
    trish.add_to_labels("urgent")
    trish.remove_from_labels("kind:goal")
    issue.edit(title="Goal, renamed", body="new text")  # the body edit is no event; the title is `renamed`
    issue.add_to_assignees("alice")
    issue.edit(state="closed", state_reason="not_planned")
    issue.edit(state="open")
    events = _forge(hub).issue_events(issue.number)
    assert [(e.event, e.actor, e.label) for e in events] == [
        ("labeled", "alice", "kind:goal"),
        ("labeled", "trish", "urgent"),
        ("unlabeled", "trish", "kind:goal"),
        ("renamed", "alice", ""),
        ("assigned", "alice", ""),
        ("closed", "alice", ""),
        ("reopened", "alice", ""),
    ]
    assert all(e.created_at.endswith("Z") for e in events)
    raw = hub.github("alice").get_repo("alice/app").get_issue(issue.number).get_events()
    renamed = next(e for e in raw if e.event == "renamed")
    assert renamed.rename == {"from": "Goal", "to": "Goal, renamed"}


def test_a_merged_pull_request_lists_merged_and_closed(hub: LocalhubHandle, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", hub.git_url("alice/app", "alice"), str(clone))
    git(clone, "checkout", "-q", "-b", "feature")
    (clone / "f.txt").write_text("f\n")
    git(clone, "add", "-A")
    git(clone, "-c", "user.name=A", "-c", "user.email=a@example.com", "commit", "-q", "-m", "f")
    git(clone, "push", "-q", "origin", "feature")
    repo = hub.github("alice").get_repo("alice/app")
    pr = repo.create_pull(title="F", body="", head="feature", base="main")
    wait_for(lambda: repo.get_pull(pr.number).mergeable is not None, timeout=15, what="mergeability")
    sha = repo.get_pull(pr.number).merge(merge_method="squash").sha
    events = [(e.event, e.commit_id) for e in repo.get_issue(pr.number).get_events()]
    assert events == [("merged", sha), ("closed", sha)]


@pytest.mark.parametrize("where", ["issue", "edit", "comment", "comment edit", "pull"])
def test_bodies_over_65536_characters_get_githubs_422(hub: LocalhubHandle, where: str) -> None:
    repo = hub.github("alice").get_repo("alice/app")
    issue = repo.create_issue("Fits", "x" * 65_536)  # exactly the limit is accepted
    comment = issue.create_comment("short")
    act = {
        "issue": lambda: repo.create_issue("Too long", "x" * BIG),
        "edit": lambda: issue.edit(body="x" * BIG),
        "comment": lambda: issue.create_comment("x" * BIG),
        "comment edit": lambda: comment.edit("x" * BIG),
        "pull": lambda: repo.create_pull(title="T", body="x" * BIG, head="main", base="main"),
    }[where]
    with pytest.raises(GithubException) as info:
        act()
    assert info.value.status == 422
    error = info.value.data["errors"][0]
    if where.startswith("comment"):
        assert error == {
            "resource": "IssueComment",
            "field": "data",
            "code": "unprocessable",
            "message": "Body is too long (maximum is 65536 characters)",
        }
    else:
        assert error == {
            "resource": "Issue",
            "field": "body",
            "code": "custom",
            "message": "body is too long (maximum is 65536 characters)",
        }
    assert repo.get_issue(issue.number).body == "x" * 65_536


def test_a_file_over_1_mb_has_no_content_and_the_forge_says_so(hub: LocalhubHandle) -> None:
    content = hub.github("alice").get_repo("alice/app").get_contents("big.txt")
    assert not isinstance(content, list)
    assert (content.encoding, content.content, content.size) == ("none", "", 1024 * 1024 + 1)
    forge = _forge(hub)
    with pytest.raises(FileTooLarge, match=r"^big\.txt: 1,048,577 bytes; the limit is 1,048,576 bytes$"):
        forge.read_file("big.txt")
    assert forge.read_file("README.md") == "# app\n"


def test_a_config_over_its_limit_is_one_clear_line(hub: LocalhubHandle) -> None:
    with pytest.raises(ConfigError) as info:
        repofiles.read_config(_forge(hub))
    assert str(info.value) == ".github/orchestra.yml: 70,003 bytes; the orchestra reads at most 65,536 bytes of it"
