"""localhub delivers webhooks as GitHub does: signed, asynchronous, recorded, redeliverable with the
same delivery id, with GitHub's headers, to the App webhook URL and to repo hooks."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from localhub.events import signature
from tests.support.git_repos import git, make_repo
from tests.support.waiting import wait_for

SECRET = "It's a Secret to Everybody"


def _verify(delivery) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), delivery.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, delivery.headers["X-Hub-Signature-256"])


def test_signature_matches_githubs_test_vector() -> None:
    assert signature(SECRET, b"Hello, World!") == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )


def test_issue_events_are_signed_and_recorded(localhub, webhook_receiver) -> None:
    localhub.add_user("alice")
    localhub.set_app_webhook(webhook_receiver.url, SECRET)
    repo = localhub.github("alice").get_user().create_repo("hooks")
    issue = repo.create_issue("First", labels=["bug"])
    issue.create_comment("hello")
    issue.edit(state="closed")
    localhub.drain()

    events = [(d.headers["X-GitHub-Event"], d.json().get("action")) for d in webhook_receiver.deliveries]
    assert events == [("issues", "opened"), ("issues", "labeled"), ("issue_comment", "created"), ("issues", "closed")]
    for delivery in webhook_receiver.deliveries:
        assert _verify(delivery)
        assert delivery.headers["User-Agent"].startswith("GitHub-Hookshot/")
        assert delivery.headers["Content-Type"] == "application/json"
        assert delivery.headers["X-GitHub-Hook-ID"]
        assert delivery.json()["sender"]["login"] == "alice"
        assert delivery.json()["repository"]["full_name"] == "alice/hooks"
    labeled = webhook_receiver.deliveries[1].json()
    assert labeled["label"]["name"] == "bug"
    opened = webhook_receiver.deliveries[0].json()
    assert [label["name"] for label in opened["issue"]["labels"]] == ["bug"]  # as GitHub: already there

    recorded = localhub.hub.events.deliveries(0)
    assert [r["status_code"] for r in recorded] == [200, 200, 200, 200]
    guids = {d.headers["X-GitHub-Delivery"] for d in webhook_receiver.deliveries}
    assert {r["guid"] for r in recorded} == guids


def test_delivery_is_asynchronous_and_redeliverable(localhub, webhook_receiver) -> None:
    localhub.add_user("alice")
    localhub.set_app_webhook(webhook_receiver.url, SECRET)
    repo = localhub.github("alice").get_user().create_repo("slow")
    webhook_receiver.release.clear()  # the receiver hangs until released
    repo.create_issue("While the receiver hangs")  # returns although the delivery is pending
    assert webhook_receiver.deliveries == []
    webhook_receiver.release.set()
    localhub.drain()
    assert len(webhook_receiver.deliveries) == 1

    webhook_receiver.status = 500
    repo.create_issue("Receiver fails")
    localhub.drain()
    failed = localhub.hub.events.deliveries(0)[0]
    assert failed["status_code"] == 500
    assert len(webhook_receiver.deliveries) == 2  # no retry

    webhook_receiver.status = 200
    new_id = localhub.hub.events.redeliver(failed["id"])
    localhub.drain()
    again = webhook_receiver.deliveries[-1]
    assert again.headers["X-GitHub-Delivery"] == failed["guid"]
    assert again.body == webhook_receiver.deliveries[1].body
    assert _verify(again)
    redelivered = localhub.hub.events.delivery(new_id)
    assert redelivered["redelivery"] == 1 and redelivered["status_code"] == 200
    assert localhub.metrics()["webhooks"]["by_event"]["issues"] == {"500": 1, "ok": 2}


def test_push_event_lists_commits(localhub, webhook_receiver, tmp_path: Path) -> None:
    localhub.add_user("alice")
    localhub.set_app_webhook(webhook_receiver.url, SECRET)
    localhub.github("alice").get_user().create_repo("pushy")
    work = make_repo(tmp_path / "work", {"a.txt": "a\n"})
    git(work, "push", localhub.git_url("alice/pushy", "alice"), "main")
    head = git(work, "rev-parse", "HEAD").strip()
    localhub.drain()
    push = webhook_receiver.events("push")[0].json()
    assert (push["ref"], push["after"], push["created"]) == ("refs/heads/main", head, True)
    assert [c["id"] for c in push["commits"]] == [head]
    assert push["commits"][0]["added"] == ["a.txt"]
    assert push["pusher"]["name"] == "alice"
    assert "action" not in push


def test_post_receive_callbacks_see_each_ref(localhub, tmp_path: Path) -> None:
    localhub.add_user("alice")
    localhub.github("alice").get_user().create_repo("cb")
    seen: list[tuple[str, str]] = []
    localhub.hub.on_push(lambda repo, ref, old, new, pusher: seen.append((ref, pusher["login"])))
    work = make_repo(tmp_path / "work", {"a.txt": "a\n"})
    git(work, "branch", "second")
    git(work, "push", localhub.git_url("alice/cb", "alice"), "main", "second")
    wait_for(lambda: len(seen) == 2, what="two post-receive callbacks")
    assert sorted(seen) == [("refs/heads/main", "alice"), ("refs/heads/second", "alice")]


def test_repo_hook_gets_ping_and_subscribed_events(localhub, webhook_receiver) -> None:
    from localhub import hooks

    localhub.add_user("alice")
    repo = localhub.github("alice").get_user().create_repo("repohook")
    store = localhub.hub.store
    row = hooks.create_hook(store, repo.id, webhook_receiver.url, SECRET, events=["issues"])
    alice = store.user_by_login("alice")
    hooks.send_ping(localhub.hub.events, localhub.hub.shapes(), row, alice)
    repo.create_issue("Subscribed")
    repo.get_issue(1).create_comment("not subscribed")
    localhub.drain()
    assert [d.headers["X-GitHub-Event"] for d in webhook_receiver.deliveries] == ["ping", "issues"]
    assert all(d.headers["X-GitHub-Hook-ID"] == str(row["id"]) for d in webhook_receiver.deliveries)
    assert webhook_receiver.deliveries[0].json()["hook_id"] == row["id"]
    assert all(_verify(d) for d in webhook_receiver.deliveries)
    assert [d["event"] for d in localhub.hub.events.deliveries(row["id"])] == ["issues", "ping"]


def test_every_issue_action_validates_and_app_sender_is_a_bot(localhub, localhub_app, webhook_receiver) -> None:
    from github import Auth, Github, GithubIntegration

    localhub.add_user("alice")
    localhub.add_user("bob")
    localhub.set_app_webhook(webhook_receiver.url, SECRET)
    repo = localhub.github("alice").get_user().create_repo("actions")
    repo.add_to_collaborators("bob", "push")
    issue = repo.create_issue("Title", body="Body")
    issue.edit(title="New title", body="New body")
    issue.add_to_labels("x")
    issue.remove_from_labels("x")
    issue.add_to_assignees("bob")
    issue.remove_from_assignees("bob")
    issue.edit(state="closed")
    issue.edit(state="open")
    comment = issue.create_comment("c")
    comment.edit("c2")
    comment.delete()
    integration = GithubIntegration(
        auth=Auth.AppAuth(localhub_app.app_id, localhub_app.private_key_pem), base_url=localhub.api_url
    )
    token = integration.get_access_token(localhub_app.installation_id).token
    bot = Github(
        base_url=localhub.api_url,
        auth=Auth.Token(token),
        retry=None,
        seconds_between_requests=0,
        seconds_between_writes=0,
    )
    bot.get_repo("alice/actions").get_issue(issue.number).create_comment("from the bot")
    localhub.drain()

    seen = [(d.headers["X-GitHub-Event"], d.json().get("action")) for d in webhook_receiver.deliveries]
    assert seen == [
        ("issues", "opened"),
        ("issues", "edited"),
        ("issues", "labeled"),
        ("issues", "unlabeled"),
        ("issues", "assigned"),
        ("issues", "unassigned"),
        ("issues", "closed"),
        ("issues", "reopened"),
        ("issue_comment", "created"),
        ("issue_comment", "edited"),
        ("issue_comment", "deleted"),
        ("issue_comment", "created"),
    ]
    edited = webhook_receiver.deliveries[1].json()
    assert edited["changes"] == {"title": {"from": "Title"}, "body": {"from": "Body"}}
    last = webhook_receiver.deliveries[-1].json()
    assert (last["sender"]["login"], last["sender"]["type"]) == ("orchestra[bot]", "Bot")
    assert last["installation"]["id"] == localhub_app.installation_id
    assert all(_verify(d) for d in webhook_receiver.deliveries)


def test_push_events_for_force_push_and_deletion(localhub, webhook_receiver, tmp_path: Path) -> None:
    localhub.add_user("alice")
    localhub.set_app_webhook(webhook_receiver.url, SECRET)
    localhub.github("alice").get_user().create_repo("rewrite")
    remote = localhub.git_url("alice/rewrite", "alice")
    work = make_repo(tmp_path / "work", {"a.txt": "a\n"})
    git(work, "push", "-q", remote, "main", "main:topic")
    git(work, "commit", "-q", "--amend", "-m", "rewritten")
    git(work, "push", "-q", "--force", remote, "main")
    git(work, "push", "-q", remote, ":topic")
    localhub.drain()
    pushes = [d.json() for d in webhook_receiver.events("push")]
    assert [(p["ref"], p["created"], p["forced"], p["deleted"]) for p in pushes] == [
        ("refs/heads/main", True, False, False),
        ("refs/heads/topic", True, False, False),
        ("refs/heads/main", False, True, False),
        ("refs/heads/topic", False, False, True),
    ]
    assert pushes[-1]["head_commit"] is None and pushes[-1]["commits"] == []


def test_pr_issue_changes_go_to_the_pulls_hook(localhub, webhook_receiver) -> None:
    from localhub.issues import create_issue

    localhub.add_user("alice")
    localhub.set_app_webhook(webhook_receiver.url, SECRET)
    repo = localhub.github("alice").get_user().create_repo("prhook")
    store = localhub.hub.store
    row = create_issue(store, store.repo("alice", "prhook"), store.user_by_login("alice"), "A PR", "", is_pull=True)
    seen: list[tuple[str, dict]] = []
    localhub.hub.pull_issue_changes.append(lambda repo, action, issue, user, extra: seen.append((action, extra)))
    issue = repo.get_issue(row["number"])
    assert issue.pull_request is not None
    issue.add_to_labels("ready")
    issue.edit(state="closed")
    localhub.drain()
    assert [(action, sorted(extra)) for action, extra in seen] == [("labeled", ["label"]), ("closed", [])]
    assert webhook_receiver.events("issues") == []
    assert repo.create_issue("next").number == row["number"] + 1  # one number sequence
