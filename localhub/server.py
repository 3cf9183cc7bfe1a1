"""`LocalHub`: owns the store, the event hub and the config; serves itself with waitress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Response

from localhub import manifests, payloads
from localhub.app import create_app
from localhub.attach import attach
from localhub.auth import AppConfig
from localhub.events import Events
from localhub.faults import Faults
from localhub.gitrepo import ZERO_SHA
from localhub.metrics import Metrics
from localhub.ratelimit import RateLimiter
from localhub.repos import git_for, import_repo, touch_pushed
from localhub.serving import ServedApp
from localhub.shapes import Shapes
from localhub.store import Row, Store

#: `callback(repo, ref, old_sha, new_sha, pusher)` after every ref a push changed.
PostReceive = Callable[[Row, str, str, str, Row], None]
ResponseCheck = Callable[[str, str, Response], None]
PullIssueChange = Callable[[Row, str, Row, Row, dict[str, Any]], None]


@dataclass
class HubConfig:
    """Everything `orchestra localhub serve` takes on its command line."""

    state_dir: Path
    host: str = "127.0.0.1"
    port: int = 0
    users: dict[str, str] = field(default_factory=dict)  # login -> token
    app: AppConfig | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    fault_rate: float = 0.0
    fault_seed: int = 0
    fault_after_share: float = 0.0  # of the injected faults, the share hitting writes after they applied
    latency_ms: int = 0
    rate_limit: int = 5000
    threads: int = 16

    def __post_init__(self) -> None:
        # git runs in other directories (imports, CI checkouts): a relative path would break there.
        self.state_dir = Path(self.state_dir).resolve()


class LocalHub:
    """A GitHub-compatible forge on one machine; `start()` serves it on a free port in a thread."""

    def __init__(self, config: HubConfig) -> None:
        self.config = config
        self.store = Store(config.state_dir)
        self.events = Events(self.store)
        self.metrics = Metrics()
        self.events.on_delivered.append(self.metrics.delivery)
        self.faults = Faults(config.fault_rate, config.fault_seed, config.fault_after_share)
        self.ratelimit = RateLimiter(config.rate_limit)
        self.post_receive: list[PostReceive] = [self._emit_push]
        self.response_checks: list[ResponseCheck] = []
        #: `callback(repo, action, issue, user, extra)` when the issues API changes a PR's issue half
        #: (labeled, assigned, closed, edited, ...): the pulls module emits `pull_request` for it.
        self.pull_issue_changes: list[PullIssueChange] = []
        self._served: ServedApp | None = None
        self._bootstrap()
        self.on_stop: list[Callable[[], None]] = []
        attach(self)  # pull requests, checks, local CI (localhub.attach)
        self.app = create_app(self)

    def _bootstrap(self) -> None:
        for login, token in self.config.users.items():
            self.add_user(login, token)
        if self.config.webhook_url:
            self.set_app_webhook(self.config.webhook_url, self.config.webhook_secret)
        made = manifests.load_app(self.store)  # an App the manifest flow made in this state dir
        if made is not None and self.config.app in (None, made[0]):
            self.use_app(*made)
        elif self.config.app is not None:
            self.use_app(self.config.app)

    def use_app(self, app: AppConfig, webhook: tuple[str, str | None] | None = None) -> None:
        """Serve `app` (App mode); `webhook` (url, secret), if given, becomes the App webhook."""
        self.config.app = app
        self.store.ensure_user(app.bot_login, "Bot")
        self.events.app_id = app.app_id
        self.events.installation_id = app.installation_id
        if webhook is not None:
            self.set_app_webhook(*webhook)

    # -- users, repos, webhooks -------------------------------------------------------------
    def add_user(self, login: str, token: str) -> Row:
        user = self.store.ensure_user(login)
        self.store.add_token(token, user["id"], "pat")
        return user

    def set_app_webhook(self, url: str, secret: str | None) -> None:
        self.events.app_webhook = (url, secret)

    def import_repo(self, source: Path, full_name: str, ci: str | None = None) -> Row:
        owner_login, _, name = full_name.partition("/")
        owner = self.store.ensure_user(owner_login)
        return import_repo(self.store, source, owner, name, ci)

    def shapes(self, web: str | None = None) -> Shapes:
        return Shapes(self.store, web or self.url)

    def announce_installation(self) -> bool:
        """Send `installation.created` to the App webhook once per state dir (App mode only)."""
        app = self.config.app
        if app is None or self.events.app_webhook is None or self.store.setting("installation_announced"):
            return False
        shapes = self.shapes()
        first = self.store.one("SELECT owner_id FROM repos ORDER BY id LIMIT 1")
        account = self.store.user_by_id(first["owner_id"]) if first else self.store.ensure_user(app.bot_login, "Bot")
        installation = shapes.installation(app.installation_id, app.app_id, app.slug, account)
        payload = payloads.installation_event(shapes, "created", installation, self.store.repos(), account)
        self.events.emit(None, "installation", payload)
        self.store.set_setting("installation_announced", "1")
        return True

    # -- pushes -----------------------------------------------------------------------------
    def on_push(self, callback: PostReceive) -> None:
        """Call `callback(repo, ref, old, new, pusher)` for each ref updated by a push."""
        self.post_receive.append(callback)

    def notify_push(self, repo: Row, updates: list[tuple[str, str, str]], pusher: Row) -> None:
        touch_pushed(self.store, repo["id"])
        repo = self.store.repo_by_id(repo["id"])
        for ref, old, new in updates:
            for callback in list(self.post_receive):
                callback(repo, ref, old, new, pusher)

    def _emit_push(self, repo: Row, ref: str, old: str, new: str, pusher: Row) -> None:
        git = git_for(self.store, repo)
        forced = ZERO_SHA not in (old, new) and not git.is_ancestor(old, new)
        payload = payloads.push_event(self.shapes(), repo, git, ref, old, new, pusher, forced)
        self.events.emit(repo, "push", payload)

    # -- serving ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The web root used where no request says how we were reached (webhooks, the CLI)."""
        host = "127.0.0.1" if self.config.host in ("0.0.0.0", "", "::") else self.config.host
        return f"http://{host}:{self.config.port}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/v3"

    def _bind(self) -> ServedApp:
        self._served = ServedApp(
            self.app, host=self.config.host, port=self.config.port, threads=self.config.threads, ident="localhub"
        )
        self.config.port = self._served.port
        return self._served

    def start(self) -> LocalHub:
        """Serve in a background thread; `config.port` 0 picks a free port (then kept for restarts)."""
        self._bind().start("localhub-server")
        self.announce_installation()
        return self

    def serve_forever(self, ready: Callable[[LocalHub], None] | None = None) -> None:
        """Serve in this thread until `stop()` (or Ctrl-C); `ready(self)` runs once the port is bound."""
        served = self._bind()
        if ready is not None:
            ready(self)
        served.serve()

    def stop(self) -> None:
        if self._served is not None:
            self._served.stop()
            self._served = None
        for close in self.on_stop:
            close()
        self.events.drain(timeout=10)
        self.events.close()
        self.store.close()
