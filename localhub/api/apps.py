"""GitHub App endpoints: the App (JWT), its installation, installation access tokens."""

from __future__ import annotations

from flask import Blueprint, Response, g

from localhub.auth import AppConfig, mint_installation_token
from localhub.rest import (
    ApiError,
    hub,
    json_response,
    not_found,
    paginate,
    repo_or_404,
    shapes,
    user_or_404,
)
from localhub.shapes import APP_EVENTS, APP_PERMISSIONS
from localhub.store import Row

bp = Blueprint("apps", __name__)


def _app_config() -> AppConfig:
    app = hub().config.app
    if app is None:
        not_found()
    return app


def require_jwt() -> AppConfig:
    app = _app_config()
    principal = g.get("principal")
    if principal is None or principal.kind != "app":
        raise ApiError(
            401,
            "A JSON web token could not be decoded",
            doc="https://docs.github.com/rest/apps/apps#get-the-authenticated-app",
        )
    return app


def _account(app: AppConfig) -> Row:
    """The account the (single) installation belongs to: the first repository owner, else the bot."""
    store = hub().store
    first = store.one("SELECT owner_id FROM repos ORDER BY id LIMIT 1")
    if first is not None:
        return store.user_by_id(first["owner_id"])
    return store.ensure_user(app.bot_login, "Bot")


def app_permissions(app: AppConfig) -> dict[str, str]:
    """The App's permissions: its manifest's `default_permissions`, else localhub's defaults."""
    return dict(app.permissions) if app.permissions else dict(APP_PERMISSIONS)


def app_events(app: AppConfig) -> list[str]:
    return list(app.events) if app.events else list(APP_EVENTS)


def installation_shape(app: AppConfig, account: Row | None = None) -> dict:
    shape = shapes().installation(app.installation_id, app.app_id, app.slug, account or _account(app))
    return {**shape, "permissions": app_permissions(app), "events": app_events(app)}


def app_shape(app: AppConfig) -> dict:
    """GitHub's `integration` object for the App (`GET /app`, the manifest conversion)."""
    owner = (hub().store.user_by_login(app.owner_login) if app.owner_login else None) or _account(app)
    stamp = app.created_at or owner["created_at"]
    return {
        "id": app.app_id,
        "slug": app.slug,
        "node_id": f"A_lh{app.app_id}",
        "client_id": app.client_id,
        "owner": shapes().user(owner),
        "name": app.name or app.slug,
        "description": app.description if app.name else "A GitHub App served by localhub",
        "external_url": app.external_url or shapes().web,
        "html_url": f"{shapes().web}/apps/{app.slug}",
        "created_at": stamp,
        "updated_at": stamp,
        "permissions": app_permissions(app),
        "events": app_events(app),
        "installations_count": 1,
    }


@bp.get("/app")
def get_app() -> Response:
    return json_response(app_shape(require_jwt()))


@bp.get("/app/installations")
def list_installations() -> Response:
    app = require_jwt()
    return paginate([app], installation_shape)


@bp.get("/app/installations/<int:installation_id>")
def get_installation(installation_id: int) -> Response:
    app = require_jwt()
    if installation_id != app.installation_id:
        not_found()
    return json_response(installation_shape(app))


@bp.post("/app/installations/<int:installation_id>/access_tokens")
def create_access_token(installation_id: int) -> Response:
    app = require_jwt()
    if installation_id != app.installation_id:
        not_found()
    token, expires_at = mint_installation_token(hub().store, app)
    return json_response(
        {"token": token, "expires_at": expires_at, "permissions": app_permissions(app), "repository_selection": "all"},
        201,
    )


@bp.get("/repos/<owner>/<name>/installation")
def repo_installation(owner: str, name: str) -> Response:
    app = require_jwt()
    repo = repo_or_404(owner, name)
    return json_response(installation_shape(app, hub().store.user_by_id(repo["owner_id"])))


@bp.get("/orgs/<login>/installation")
@bp.get("/users/<login>/installation")
def account_installation(login: str) -> Response:
    app = require_jwt()
    account = user_or_404(login)
    return json_response(installation_shape(app, account))


@bp.get("/installation/repositories")
def installation_repositories() -> Response:
    _app_config()
    if g.get("installation_id") is None:
        raise ApiError(403, "This endpoint requires you to be authenticated as an installation.")
    repos = hub().store.repos()
    resp = paginate(repos, shapes().repo)
    resp.set_data(
        b'{"total_count": %d, "repository_selection": "all", "repositories": %s}' % (len(repos), resp.get_data())
    )
    return resp
