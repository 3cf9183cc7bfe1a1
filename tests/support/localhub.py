"""Fixtures `localhub` and `localhub_app`: an in-process localhub on a free port for each test.

`localhub` (function scope) yields a `LocalhubHandle`:

- `.url` (`http://127.0.0.1:P`), `.api_url` (url + `/api/v3`), `.state_dir`, `.hub` (the `LocalHub`);
- `.add_user(login, token=None) -> token` — a user with a personal token (made up if not given);
- `.github(login_or_token) -> github.Github` — a PyGithub client for that user (or raw token) with
  no retries and no throttling pauses;
- `.import_repo(path, "owner/name", ci=None)` — a repo from a local git repository (all branches);
- `.grant("owner/name", login, permission)` — make a user a collaborator (read, write, admin);
- `.git_url("owner/name", login_or_token=None)` — the HTTP remote, with `x-access-token:TOKEN@`
  credentials when a user or token is given;
- `.set_app_webhook(url, secret)`, `.drain(timeout=10)` (wait until pending deliveries are sent),
  `.metrics()` (the `/_localhub/metrics` JSON), `.restart()` (same state dir, same port);
- `.protect_branch("owner/name", "main", ["ci"], strict=False, enforce_admins=True)` — classic
  branch protection requiring those checks (`PUT .../branches/{b}/protection`, as the owner);
- `.add_ruleset("owner/name", rules, include=("~DEFAULT_BRANCH",))` — an active branch ruleset;
- `.require_merge_queue("owner/name", checks=("ci",), **merge_queue_parameters)` — a ruleset on the
  default branch requiring those checks and GitHub's merge queue (what the bot meets on GitHub);
- `.graphql(login_or_token, query, variables)` — a POST to `/api/graphql` (the URL PyGithub derives
  from the `/api/v3` base URL), returning the decoded JSON answer.

Every REST answer the server gives during a test passes through `hub.response_checks`: each
JSON body is validated against GitHub's published schema for its operation
(`tests/support/schemas.py`), error answers of undocumented statuses against GitHub's error
shapes, and any mismatch fails the test at teardown. Operations that are not vendored are
collected in `.unchecked`.

`localhub_app` turns on App mode with an RSA key generated at test time and returns
`LocalhubApp(app_id, private_key_pem, installation_id)`.

`webhook_receiver` is a loopback HTTP receiver (`.url`, `.deliveries` of `Delivery(headers,
body)`, `.events(name)`, `.status` to answer, `.release` to hold answers back); at teardown
every delivery it got is checked against GitHub's webhook header and body schemas.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github import Auth, Github

from localhub.auth import AppConfig
from localhub.server import HubConfig, LocalHub


@dataclass
class LocalhubHandle:
    """A running localhub plus helpers for tests (see the module docstring)."""

    state_dir: Path
    hub: LocalHub
    tokens: dict[str, str] = field(default_factory=dict)
    webhook: tuple[str, str | None] | None = None
    failures: list[str] = field(default_factory=list)
    unchecked: set[str] = field(default_factory=set)

    @property
    def url(self) -> str:
        return self.hub.url

    @property
    def api_url(self) -> str:
        return self.hub.api_url

    def add_user(self, login: str, token: str | None = None) -> str:
        token = token or f"lh_{login}_{secrets.token_hex(8)}"
        self.hub.add_user(login, token)
        self.tokens[login] = token
        return token

    def token(self, login_or_token: str) -> str:
        return self.tokens.get(login_or_token, login_or_token)

    def github(self, login_or_token: str) -> Github:
        return Github(
            base_url=self.api_url,
            auth=Auth.Token(self.token(login_or_token)),
            retry=None,
            seconds_between_requests=0,
            seconds_between_writes=0,
        )

    def import_repo(self, path: Path, full_name: str, ci: str | None = None) -> dict[str, Any]:
        return self.hub.import_repo(Path(path), full_name, ci)

    def grant(self, full_name: str, login: str, permission: str) -> None:
        """Make `login` a collaborator of `full_name` with `permission` (read, write, admin...),
        in the store: localhub's add-collaborator answer does not match GitHub's schema yet
        (`temp_clone_token` is null), which would fail the schema check of the test."""
        store = self.hub.store
        user = store.ensure_user(login)
        repo = store.repo(*full_name.split("/"))
        assert repo is not None, f"no repository {full_name} on localhub"
        with store.write() as db:
            db.execute(
                "INSERT OR REPLACE INTO collaborators(repo_id, user_id, permission) VALUES (?,?,?)",
                (repo["id"], user["id"], permission),
            )

    def git_url(self, full_name: str, login_or_token: str | None = None) -> str:
        if login_or_token is None:
            return f"{self.url}/{full_name}.git"
        host = self.url.removeprefix("http://")
        return f"http://x-access-token:{self.token(login_or_token)}@{host}/{full_name}.git"

    def set_app_webhook(self, url: str, secret: str | None) -> None:
        self.webhook = (url, secret)
        self.hub.set_app_webhook(url, secret)

    def drain(self, timeout: float = 10.0) -> None:
        assert self.hub.events.drain(timeout), f"webhook deliveries still pending after {timeout}s"

    def metrics(self) -> dict[str, Any]:
        resp = requests.get(f"{self.url}/_localhub/metrics", timeout=10)
        resp.raise_for_status()
        return resp.json()

    def restart(self) -> None:
        """Stop the server and start a new one on the same state dir (and port)."""
        config = self.hub.config
        checks = list(self.hub.response_checks)
        self.hub.stop()
        self.hub = LocalHub(config)
        self.hub.response_checks.extend(checks)
        if self.webhook is not None:
            self.hub.set_app_webhook(*self.webhook)
        self.hub.start()

    def _call(self, method: str, path: str, login: str, body: Any = None) -> Any:
        resp = requests.request(
            method,
            f"{self.api_url}{path}",
            json=body,
            timeout=10,
            headers={"Authorization": f"token {self.token(login)}"},
        )
        assert resp.status_code < 300, f"{method} {path}: {resp.status_code} {resp.text}"
        return resp.json() if resp.content else None

    def protect_branch(
        self,
        full_name: str,
        branch: str,
        contexts: list[str],
        *,
        strict: bool = False,
        enforce_admins: bool = True,
        approvals: int | None = None,
    ) -> dict[str, Any]:
        """Classic protection of `branch` requiring `contexts` (set through the REST API by the owner)."""
        reviews = None if approvals is None else {"required_approving_review_count": approvals}
        body = {
            "required_status_checks": {"strict": strict, "checks": [{"context": c} for c in contexts]},
            "enforce_admins": enforce_admins,
            "required_pull_request_reviews": reviews,
            "restrictions": None,
        }
        return self._call("PUT", f"/repos/{full_name}/branches/{branch}/protection", full_name.split("/")[0], body)

    def add_ruleset(
        self,
        full_name: str,
        rules: list[dict[str, Any]],
        *,
        include: tuple[str, ...] = ("~DEFAULT_BRANCH",),
        name: str = "localhub test rules",
        bypass_actors: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """An active branch ruleset with `rules` on the branches `include` selects (created by the owner)."""
        body = {
            "name": name,
            "target": "branch",
            "enforcement": "active",
            "bypass_actors": bypass_actors or [],
            "conditions": {"ref_name": {"include": list(include), "exclude": []}},
            "rules": rules,
        }
        return self._call("POST", f"/repos/{full_name}/rulesets", full_name.split("/")[0], body)

    def require_merge_queue(self, full_name: str, checks: tuple[str, ...] = ("ci",), **params: Any) -> dict[str, Any]:
        """A default-branch ruleset: `checks` required and GitHub's merge queue (parameters as GitHub's)."""
        queue = {
            "merge_method": "MERGE",
            "grouping_strategy": "ALLGREEN",
            "max_entries_to_build": 5,
            "max_entries_to_merge": 5,
            "min_entries_to_merge": 1,
            "min_entries_to_merge_wait_minutes": 5,
            "check_response_timeout_minutes": 60,
            **params,
        }
        rules = [
            {
                "type": "required_status_checks",
                "parameters": {
                    "strict_required_status_checks_policy": False,
                    "required_status_checks": [{"context": c} for c in checks],
                },
            },
            {"type": "merge_queue", "parameters": queue},
        ]
        return self.add_ruleset(full_name, rules, name="merge queue")

    def graphql(self, login_or_token: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        resp = requests.post(
            f"{self.url}/api/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"bearer {self.token(login_or_token)}"},
            timeout=10,
        )
        assert resp.status_code == 200, f"POST /api/graphql: {resp.status_code} {resp.text}"
        return resp.json()

    def enable_app(self, app: AppConfig) -> None:
        self.hub.config.app = app
        self.restart()


@dataclass(frozen=True)
class LocalhubApp:
    app_id: int
    private_key_pem: str
    installation_id: int


def _schema_check(handle: LocalhubHandle) -> Any:
    try:
        from tests.support import schemas  # provided by the fixtures area
    except ImportError:
        return None

    def check(method: str, path: str, resp: Any) -> None:
        if not resp.is_json or resp.status_code >= 500:
            return
        body = resp.get_json()
        try:
            try:
                schemas.validate_rest_response(method, path, resp.status_code, body)
            except LookupError:
                # Not vendored (an endpoint the bot does not use) or an error GitHub may give anywhere.
                if resp.status_code >= 400:
                    schemas.validate_rest_error(resp.status_code, body)
                else:
                    handle.unchecked.add(f"{method} {path}")
        except AssertionError as exc:
            handle.failures.append(f"{method} {path} {resp.status_code}: {exc}")

    return check


@pytest.fixture
def localhub(tmp_path: Path) -> Iterator[LocalhubHandle]:
    """An in-process localhub on a free port with a fresh state dir (see module docstring)."""
    state = tmp_path / "localhub-state"
    hub = LocalHub(HubConfig(state_dir=state)).start()
    handle = LocalhubHandle(state, hub)
    check = _schema_check(handle)
    if check is not None:
        hub.response_checks.append(check)
    try:
        yield handle
    finally:
        handle.hub.stop()
    assert not handle.failures, "responses that do not match GitHub's schemas:\n" + "\n".join(handle.failures)


@pytest.fixture
def localhub_app(localhub: LocalhubHandle) -> LocalhubApp:
    """App mode on `localhub` with a fresh RSA key: `(app_id, private_key_pem, installation_id)`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    app = AppConfig(app_id=4242, public_key_pem=public_pem, slug="orchestra", installation_id=7)
    localhub.enable_app(app)
    return LocalhubApp(app.app_id, private_pem, app.installation_id)


@dataclass
class Delivery:
    """One request a `WebhookReceiver` got."""

    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        import json

        return json.loads(self.body)


class WebhookReceiver:
    """A tiny loopback HTTP server that records every POST (and answers `status`, after `delay`)."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        receiver = self
        self.deliveries: list[Delivery] = []
        self.status = 200
        self.release = threading.Event()
        self.release.set()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.release.wait(timeout=30)
                receiver.deliveries.append(Delivery(dict(self.headers.items()), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self, name: str) -> list[Delivery]:
        return [d for d in self.deliveries if d.headers.get("X-GitHub-Event") == name]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def _webhook_check(receiver: WebhookReceiver, failures: list[str]) -> None:
    try:
        from tests.support import schemas
    except ImportError:
        return
    for delivery in receiver.deliveries:
        event = delivery.headers.get("X-GitHub-Event", "")
        try:
            schemas.validate_webhook_headers(event, delivery.headers)
            schemas.validate_webhook(event, delivery.json())
        except AssertionError as exc:
            failures.append(f"webhook {event}: {exc}")


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A loopback webhook receiver; every body it got is checked against GitHub's webhook schemas."""
    receiver = WebhookReceiver()
    try:
        yield receiver
    finally:
        receiver.close()
    failures: list[str] = []
    _webhook_check(receiver, failures)
    assert not failures, "webhooks that do not match GitHub's schemas:\n" + "\n".join(failures)
