"""Repo hooks over REST: creating one sends a signed `ping`; subscribed events follow; deliveries
are listed and shown with request and response; a redelivery keeps the delivery id (guid)."""

from __future__ import annotations

import hashlib
import hmac

import requests

from tests.support.localhub import LocalhubHandle, WebhookReceiver
from tests.support.waiting import wait_for

SECRET = "hook-secret-made-at-test-time"


def test_hook_deliveries_list_and_redeliver(localhub: LocalhubHandle, webhook_receiver: WebhookReceiver) -> None:
    localhub.add_user("alice")
    repo = localhub.github("alice").get_user().create_repo("hooked")
    hook = repo.create_hook(
        "web", {"url": webhook_receiver.url, "content_type": "json", "secret": SECRET}, events=["issues"], active=True
    )
    assert hook.config["secret"] == "********" and hook.events == ["issues"]
    repo.create_issue("Wake the hook")
    repo.create_label("unheard", "ededed")  # `label` is not subscribed: nothing is delivered
    localhub.drain()
    assert [d.headers["X-GitHub-Event"] for d in webhook_receiver.deliveries] == ["ping", "issues"]
    for delivery in webhook_receiver.deliveries:
        expected = "sha256=" + hmac.new(SECRET.encode(), delivery.body, hashlib.sha256).hexdigest()
        assert delivery.headers["X-Hub-Signature-256"] == expected
        assert delivery.headers["X-GitHub-Hook-ID"] == str(hook.id)
    assert [h.id for h in repo.get_hooks()] == [hook.id]

    api = f"{localhub.api_url}/repos/alice/hooked/hooks/{hook.id}/deliveries"
    auth = {"Authorization": f"token {localhub.token('alice')}"}
    listed = requests.get(api, headers=auth, timeout=10).json()
    assert [d["event"] for d in listed] == ["issues", "ping"] and listed[0]["status_code"] == 200
    first = requests.get(f"{api}/{listed[0]['id']}", headers=auth, timeout=10).json()
    assert first["request"]["payload"]["issue"]["title"] == "Wake the hook"
    assert first["request"]["headers"]["X-GitHub-Event"] == "issues"

    answer = requests.post(f"{api}/{listed[0]['id']}/attempts", headers=auth, timeout=10)
    assert answer.status_code == 202
    localhub.drain()
    again = wait_for(lambda: len(webhook_receiver.deliveries) == 3 and webhook_receiver.deliveries[2])
    assert again.headers["X-GitHub-Delivery"] == webhook_receiver.deliveries[1].headers["X-GitHub-Delivery"]
    assert again.body == webhook_receiver.deliveries[1].body
    relisted = requests.get(api, headers=auth, timeout=10).json()
    assert relisted[0]["redelivery"] is True and relisted[0]["guid"] == listed[0]["guid"]

    hook.delete()
    assert list(repo.get_hooks()) == []
    assert requests.get(api, headers=auth, timeout=10).status_code == 404
