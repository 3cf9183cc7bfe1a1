"""localhub authenticates as GitHub: 401 with GitHub's body for missing or bad credentials, git
pushes need write access, and App mode goes JWT -> installation token -> API calls as a Bot."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github import Auth, BadCredentialsException, GithubException, GithubIntegration

from tests.support.git_repos import git, make_repo


def test_missing_and_bad_credentials_get_401(localhub) -> None:
    resp = requests.get(f"{localhub.api_url}/user", timeout=10)
    assert resp.status_code == 401
    assert resp.json()["message"] == "Requires authentication"
    assert "documentation_url" in resp.json()
    bad = requests.get(f"{localhub.api_url}/user", headers={"Authorization": "token nope"}, timeout=10)
    assert bad.status_code == 401
    assert bad.json()["message"] == "Bad credentials"
    assert bad.headers["X-RateLimit-Limit"] == "60"
    with pytest.raises(BadCredentialsException):
        _ = localhub.github("not-a-token").get_user().login


def test_push_needs_write_access(localhub, tmp_path: Path) -> None:
    localhub.add_user("alice")
    localhub.add_user("bob")
    repo = localhub.github("alice").get_user().create_repo("guarded")
    work = make_repo(tmp_path / "work", {"a.txt": "a\n"})
    with pytest.raises(AssertionError, match="403"):
        git(work, "push", localhub.git_url("alice/guarded", "bob"), "main")
    with pytest.raises(AssertionError):
        git(work, "push", localhub.git_url("alice/guarded"), "main")  # anonymous: 401 challenge
    assert localhub.hub.store.repo("alice", "guarded")["pushed_at"] is None

    repo.add_to_collaborators("bob", "pull")
    with pytest.raises(AssertionError, match="403"):
        git(work, "push", localhub.git_url("alice/guarded", "bob"), "main")
    repo.add_to_collaborators("bob", "push")
    git(work, "push", localhub.git_url("alice/guarded", "bob"), "main")
    assert repo.get_branch("main").commit.sha == git(work, "rev-parse", "HEAD").strip()
    # anyone may clone a public repository
    git(tmp_path, "clone", "-q", localhub.git_url("alice/guarded"), str(tmp_path / "clone"))
    assert (tmp_path / "clone" / "a.txt").read_text() == "a\n"


def test_collaborator_permissions_gate_writes(localhub) -> None:
    localhub.add_user("alice")
    localhub.add_user("carol")
    localhub.github("alice").get_user().create_repo("perm")
    as_carol = localhub.github("carol").get_repo("alice/perm")
    assert as_carol.permissions.push is False
    with pytest.raises(GithubException) as refused:
        as_carol.create_label("x", "ededed")
    assert refused.value.status == 403
    issue = as_carol.create_issue("Outsider report", labels=["ignored"])  # labels silently dropped
    assert issue.labels == []
    assert localhub.github("alice").get_repo("alice/perm").get_collaborator_permission("carol") == "read"  # public


def _jwt(private_pem: str, app_id: int, iat: int, exp: int) -> str:
    return jwt.encode({"iat": iat, "exp": exp, "iss": str(app_id)}, private_pem, algorithm="RS256")


def test_app_jwt_to_installation_token_to_api_calls(localhub, localhub_app) -> None:
    localhub.add_user("alice")
    localhub.github("alice").get_user().create_repo("apprepo")
    integration = GithubIntegration(
        auth=Auth.AppAuth(localhub_app.app_id, localhub_app.private_key_pem), base_url=localhub.api_url
    )
    installation = integration.get_repo_installation("alice", "apprepo")
    assert installation.id == localhub_app.installation_id
    token = integration.get_access_token(installation.id)
    assert token.token and token.expires_at.timestamp() > time.time() + 3000
    issue = localhub.github(token.token).get_repo("alice/apprepo").create_issue("Filed by the App")
    assert (issue.user.login, issue.user.type) == ("orchestra[bot]", "Bot")
    app_auth = Auth.AppAuth(localhub_app.app_id, localhub_app.private_key_pem)
    inst_auth = app_auth.get_installation_auth(localhub_app.installation_id)
    from github import Github

    gh = Github(
        base_url=localhub.api_url, auth=inst_auth, retry=None, seconds_between_requests=0, seconds_between_writes=0
    )
    assert gh.get_repo("alice/apprepo").get_issue(issue.number).title == "Filed by the App"


def test_expired_forged_or_stale_credentials_get_401(localhub, localhub_app) -> None:
    now = int(time.time())
    url = f"{localhub.api_url}/app"
    good = _jwt(localhub_app.private_key_pem, localhub_app.app_id, now - 60, now + 300)
    assert requests.get(url, headers={"Authorization": f"Bearer {good}"}, timeout=10).status_code == 200
    expired = _jwt(localhub_app.private_key_pem, localhub_app.app_id, now - 1200, now - 600)
    other_key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    forged = _jwt(other_key, localhub_app.app_id, now - 60, now + 300)
    wrong_app = _jwt(localhub_app.private_key_pem, 999, now - 60, now + 300)
    too_long = _jwt(localhub_app.private_key_pem, localhub_app.app_id, now - 60, now + 3600)
    for bad in (expired, forged, wrong_app, too_long):
        resp = requests.get(url, headers={"Authorization": f"Bearer {bad}"}, timeout=10)
        assert resp.status_code == 401, resp.text
        assert set(resp.json()) >= {"message", "documentation_url"}

    resp = requests.post(
        f"{localhub.api_url}/app/installations/{localhub_app.installation_id}/access_tokens",
        headers={"Authorization": f"Bearer {good}"},
        timeout=10,
    )
    assert resp.status_code == 201
    token = resp.json()["token"]
    with localhub.hub.store.write() as db:
        db.execute("UPDATE tokens SET expires_at='2000-01-01T00:00:00Z' WHERE kind='installation'")
    stale = requests.get(f"{localhub.api_url}/rate_limit", headers={"Authorization": f"token {token}"}, timeout=10)
    assert stale.status_code == 401


def test_private_repositories_hide_from_outsiders(localhub, tmp_path: Path) -> None:
    localhub.add_user("alice")
    localhub.add_user("bob")
    localhub.github("alice").get_user().create_repo("secret", private=True)
    assert localhub.github("alice").get_repo("alice/secret").private is True
    with pytest.raises(GithubException) as hidden:
        localhub.github("bob").get_repo("alice/secret")
    assert hidden.value.status == 404
    assert requests.get(f"{localhub.api_url}/repos/alice/secret", timeout=10).status_code == 404
    with pytest.raises(AssertionError, match="not found"):
        git(tmp_path, "clone", "-q", localhub.git_url("alice/secret", "bob"), str(tmp_path / "c"))
    git(tmp_path, "clone", "-q", localhub.git_url("alice/secret", "alice"), str(tmp_path / "c"))
