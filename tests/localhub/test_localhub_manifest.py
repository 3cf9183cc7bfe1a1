"""GitHub's App manifest flow on localhub: the manifest form makes the App and redirects with a code;
the code converts once into the App's credentials (pem, secrets), with which the App authenticates
(JWT → installation token → API calls, signed webhooks), also after a restart."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import requests

from localhub.manifests import MANIFEST_APP_ID
from tests.support.localhub import LocalhubHandle, WebhookReceiver

REDIRECT = "http://127.0.0.1:9/app-created?from=manifest"


def _manifest(**extra: Any) -> dict[str, Any]:
    return {
        "name": "Orchestra Dev",
        "url": "https://example.com/orchestra",
        "redirect_url": REDIRECT,
        "description": "made by a manifest",
        "default_permissions": {"issues": "write", "contents": "write"},
        "default_events": ["issues", "issue_comment"],
        **extra,
    }


def _submit(
    localhub: LocalhubHandle,
    manifest: Any,
    login: str | None = "alice",
    path: str = "/settings/apps/new",
    state: str = "st-42",
) -> requests.Response:
    body = manifest if isinstance(manifest, str) else json.dumps(manifest)
    auth = (login, localhub.token(login)) if login else None
    return requests.post(
        f"{localhub.url}{path}?state={state}", data={"manifest": body}, auth=auth, allow_redirects=False, timeout=30
    )


def _code(answer: requests.Response) -> str:
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT.split("?")[0]
    query = parse_qs(location.query)
    assert query["from"] == ["manifest"] and query["state"] == ["st-42"]
    return query["code"][0]


def _convert(localhub: LocalhubHandle, code: str) -> requests.Response:
    return requests.post(f"{localhub.api_url}/app-manifests/{code}/conversions", timeout=10)


def _jwt(app_id: int, pem: str) -> dict[str, str]:
    now = int(time.time())
    token = jwt.encode({"iat": now - 30, "exp": now + 540, "iss": str(app_id)}, pem, algorithm="RS256")
    return {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"}


def _installation_token(localhub: LocalhubHandle, app_id: int, pem: str, repo: str = "alice/project") -> str:
    # The repository's installation, as PyGithub's GithubIntegration.get_repo_installation finds it.
    found = requests.get(f"{localhub.api_url}/repos/{repo}/installation", headers=_jwt(app_id, pem), timeout=10)
    assert found.status_code == 200, found.text
    installation = found.json()["id"]
    minted = requests.post(
        f"{localhub.api_url}/app/installations/{installation}/access_tokens", headers=_jwt(app_id, pem), timeout=10
    )
    assert minted.status_code == 201, minted.text
    return minted.json()["token"]


def test_manifest_flow_makes_an_app_that_authenticates(
    localhub: LocalhubHandle, webhook_receiver: WebhookReceiver
) -> None:
    localhub.add_user("alice")
    localhub.github("alice").get_user().create_repo("project")
    unsigned = _submit(localhub, _manifest(), login=None)
    assert unsigned.status_code == 401 and unsigned.headers["WWW-Authenticate"].startswith("Basic")

    code = _code(_submit(localhub, _manifest(hook_attributes={"url": webhook_receiver.url})))
    converted = _convert(localhub, code)
    assert converted.status_code == 201, converted.text
    app = converted.json()
    assert (app["id"], app["slug"], app["name"]) == (MANIFEST_APP_ID, "orchestra-dev", "Orchestra Dev")
    assert app["owner"]["login"] == "alice" and app["description"] == "made by a manifest"
    assert app["permissions"] == {"contents": "write", "issues": "write", "metadata": "read"}
    assert app["events"] == ["issues", "issue_comment"]
    assert app["pem"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert app["client_id"] and app["client_secret"] and app["webhook_secret"]
    assert _convert(localhub, code).status_code == 404  # a code converts once, as on GitHub

    me = requests.get(f"{localhub.api_url}/app", headers=_jwt(app["id"], app["pem"]), timeout=10)
    assert me.status_code == 200 and me.json()["slug"] == "orchestra-dev"
    token = _installation_token(localhub, app["id"], app["pem"])
    issue = localhub.github(token).get_repo("alice/project").create_issue("Opened by the App")
    assert (issue.user.login, issue.user.type) == ("orchestra-dev[bot]", "Bot")

    localhub.drain()
    opened = [d for d in webhook_receiver.events("issues") if d.json()["action"] == "opened"]
    assert len(opened) == 1 and opened[0].json()["sender"]["login"] == "orchestra-dev[bot]"
    expected = "sha256=" + hmac.new(app["webhook_secret"].encode(), opened[0].body, hashlib.sha256).hexdigest()
    assert opened[0].headers["X-Hub-Signature-256"] == expected
    assert [d.json()["action"] for d in webhook_receiver.events("installation")] == ["created"]


def test_the_app_survives_a_restart(localhub: LocalhubHandle) -> None:
    localhub.add_user("alice")
    localhub.github("alice").get_user().create_repo("project")
    app = _convert(localhub, _code(_submit(localhub, _manifest()))).json()
    localhub.restart()
    me = requests.get(f"{localhub.api_url}/app", headers=_jwt(app["id"], app["pem"]), timeout=10)
    assert me.status_code == 200 and me.json()["name"] == "Orchestra Dev"
    assert _installation_token(localhub, app["id"], app["pem"]).startswith("ghs_")

    from github import Auth, GithubIntegration  # PyGithub's App client, as the bot authenticates

    integration = GithubIntegration(base_url=localhub.api_url, auth=Auth.AppAuth(app["id"], app["pem"]))
    installation = integration.get_repo_installation("alice", "project")
    token = integration.get_access_token(installation.id).token
    assert localhub.github(token).get_repo("alice/project").create_issue("After restart").user.login == (
        "orchestra-dev[bot]"
    )


def test_organization_manifest_is_owned_by_the_organization(localhub: LocalhubHandle) -> None:
    localhub.add_user("alice")
    made = requests.post(
        f"{localhub.api_url}/orgs/acme/repos",
        json={"name": "tool"},
        headers={"Authorization": f"token {localhub.token('alice')}"},
        timeout=10,
    )
    assert made.status_code == 201, made.text  # the organization is made on the fly
    assert _submit(localhub, _manifest(), path="/organizations/nobody/settings/apps/new").status_code == 404
    code = _code(_submit(localhub, _manifest(), path="/organizations/acme/settings/apps/new"))
    assert _convert(localhub, code).json()["owner"]["login"] == "acme"


def test_bad_manifests_and_codes_are_refused(localhub: LocalhubHandle) -> None:
    localhub.add_user("alice")
    assert _submit(localhub, "{not json").status_code == 422
    no_redirect = _submit(localhub, {k: v for k, v in _manifest().items() if k != "redirect_url"})
    assert no_redirect.status_code == 422 and "redirect_url" in no_redirect.text
    assert _submit(localhub, _manifest(default_permissions={"issues": "everything"})).status_code == 422
    assert _convert(localhub, "0" * 40).status_code == 404

    code = _code(_submit(localhub, _manifest()))
    second = _submit(localhub, _manifest(name="Another"))
    assert second.status_code == 422 and "one GitHub App" in second.text
    with localhub.hub.store.write() as db:  # the code is older than GitHub's one hour
        db.execute("UPDATE app_manifest_codes SET created_at = created_at - 3601")
    assert _convert(localhub, code).status_code == 404


def test_the_form_page_is_served(localhub: LocalhubHandle) -> None:
    page = requests.get(f"{localhub.url}/settings/apps/new?state=x", timeout=10)
    assert page.status_code == 200 and 'name="manifest"' in page.text
    assert 'action="/settings/apps/new?state=x"' in page.text
