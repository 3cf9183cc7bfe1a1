"""GitHub's App manifest flow: the form at `/settings/apps/new` (or an organization's) makes the App
and redirects with a code; `POST /api/v3/app-manifests/{code}/conversions` trades it for credentials."""

from __future__ import annotations

import threading

from flask import Blueprint, Response, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from localhub import manifests
from localhub.api.apps import app_shape
from localhub.auth import principal_for
from localhub.manifests import Manifest, ManifestError
from localhub.rest import ApiError, hub, json_response, not_found
from localhub.store import Row

bp = Blueprint("manifests", __name__, template_folder="../templates")
FORM_PATHS = ("/settings/apps/new", "/organizations/<org>/settings/apps/new")
_CREATING = threading.Lock()  # one App slot: two forms at once must not both fill it
SIGN_IN = "Sign in with your localhub login and personal token (HTTP basic auth) to register an App."


def _page(org: str | None, error: str | None = None, status: int = 200) -> Response:
    action = f"/organizations/{org}/settings/apps/new" if org else "/settings/apps/new"
    if request.query_string:
        action += "?" + request.query_string.decode()
    html = render_template(
        "app_new.html", org=org, error=error, action=action, manifest=request.form.get("manifest", "")
    )
    return Response(html, status=status, mimetype="text/html")


def _person() -> Row | None:
    """The person submitting the form (basic auth or a token header), else None."""
    try:
        principal = principal_for(hub().store, hub().config.app, request.headers.get("Authorization"))
    except ApiError:
        return None
    return principal.user if principal.kind == "pat" else None


def _challenge() -> Response:
    return Response(
        SIGN_IN + "\n",
        status=401,
        mimetype="text/plain",
        headers={"WWW-Authenticate": 'Basic realm="localhub", charset="UTF-8"'},
    )


@bp.get(FORM_PATHS[0])
@bp.get(FORM_PATHS[1])
def new_app_page(org: str | None = None) -> Response:
    return _page(org)


@bp.post(FORM_PATHS[0])
@bp.post(FORM_PATHS[1])
def create_from_manifest(org: str | None = None) -> BaseResponse:
    """Make the App at once (no confirmation step) and redirect to `redirect_url?code=…&state=…`."""
    person = _person()
    if person is None:
        return _challenge()
    owner = person
    if org is not None:
        owner = hub().store.user_by_login(org)
        if owner is None or owner["type"] != "Organization":
            return _page(org, f"There is no organization {org}.", 404)
    try:
        manifest = Manifest.parse(request.form.get("manifest", ""), owner["login"])
        with _CREATING:
            app, code, webhook = manifests.create_app(hub().store, hub().config.app, manifest, owner)
            hub().use_app(app, webhook)
    except ManifestError as exc:
        return _page(org, str(exc), 422)
    hub().announce_installation()
    state = request.args.get("state") or request.form.get("state")
    return redirect(manifests.redirect_target(manifest.redirect_url, code, state), 302)


@bp.post("/api/v3/app-manifests/<code>/conversions")
def convert(code: str) -> Response:
    """The App and its credentials (`pem`, `client_secret`, `webhook_secret`); the code works once."""
    redeemed = manifests.redeem(hub().store, code)
    app = hub().config.app
    if redeemed is None or app is None or app.app_id != redeemed[0]:
        not_found()
    credentials = redeemed[1]
    return json_response(
        {
            **app_shape(app),
            "client_secret": credentials["client_secret"],
            "webhook_secret": credentials["webhook_secret"],
            "pem": credentials["pem"],
        },
        201,
    )
