"""Repository webhooks: create (sends `ping`), list, get, update, delete; deliveries list/get/redeliver."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response

from localhub import hooks
from localhub.events import delivery_shape
from localhub.rest import (
    ApiError,
    authorized_repo_and_caller,
    body_json,
    hub,
    invalid,
    json_response,
    no_content,
    not_found,
    paginate,
    shapes,
)
from localhub.store import Row

bp = Blueprint("hooks", __name__)


def _hook_or_404(repo: Row, hook_id: int) -> Row:
    row = hooks.hook(hub().store, repo["id"], hook_id)
    if row is None:
        not_found()
    return row


def _config(data: dict[str, Any], creating: bool) -> dict[str, Any]:
    """`url`, `secret`, `content_type` from `config` (or the top level, as GitHub also accepts)."""
    given = data.get("config")
    config: dict[str, Any] = given if isinstance(given, dict) else {}
    fields = {k: config.get(k, data.get(k)) for k in ("url", "secret", "content_type") if k in config or k in data}
    if creating and not str(fields.get("url") or "").strip():
        invalid("Hook", "url", "custom", "url cannot be blank")
    if "url" in fields and not str(fields["url"]).startswith(("http://", "https://")):
        invalid("Hook", "url", "custom", "url is not supported because it isn't http or https")
    if fields.get("content_type") not in (None, "json"):
        invalid("Hook", "content_type", "custom", "only `json` is supported by localhub")
    return {k: v for k, v in fields.items() if v is not None or k == "secret"}


@bp.post("/repos/<owner>/<name>/hooks")
def create_hook(owner: str, name: str) -> Response:
    repo, user = authorized_repo_and_caller(owner, name, "admin")
    data = body_json()
    if data.get("name", "web") != "web":
        invalid("Hook", "name", "invalid")
    fields = _config(data, creating=True)
    events = data.get("events") or ["push"]
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        invalid("Hook", "events", "invalid")
    row = hooks.create_hook(
        hub().store, repo["id"], str(fields["url"]), fields.get("secret"), events, data.get("active", True) is not False
    )
    hooks.send_ping(hub().events, hub().shapes(), row, user)
    body = hooks.hook_shape(shapes(), row)
    resp = json_response(body, 201)
    resp.headers["Location"] = body["url"]
    return resp


@bp.get("/repos/<owner>/<name>/hooks")
def list_hooks(owner: str, name: str) -> Response:
    repo, _ = authorized_repo_and_caller(owner, name, "admin")
    return paginate(hooks.hooks(hub().store, repo["id"]), lambda row: hooks.hook_shape(shapes(), row))


@bp.get("/repos/<owner>/<name>/hooks/<int:hook_id>")
def get_hook(owner: str, name: str, hook_id: int) -> Response:
    repo, _ = authorized_repo_and_caller(owner, name, "admin")
    return json_response(hooks.hook_shape(shapes(), _hook_or_404(repo, hook_id)))


@bp.patch("/repos/<owner>/<name>/hooks/<int:hook_id>")
def update_hook(owner: str, name: str, hook_id: int) -> Response:
    repo, _ = authorized_repo_and_caller(owner, name, "admin")
    row = _hook_or_404(repo, hook_id)
    data = body_json()
    changes: dict[str, Any] = _config(data, creating=False)
    if "events" in data or "add_events" in data or "remove_events" in data:
        events = list(data.get("events") or json.loads(row["events"]))
        events += [e for e in data.get("add_events") or [] if e not in events]
        changes["events"] = [e for e in events if e not in (data.get("remove_events") or [])]
    if "active" in data:
        changes["active"] = bool(data["active"])
    return json_response(hooks.hook_shape(shapes(), hooks.update_hook(hub().store, row, changes)))


@bp.delete("/repos/<owner>/<name>/hooks/<int:hook_id>")
def delete_hook(owner: str, name: str, hook_id: int) -> Response:
    repo, _ = authorized_repo_and_caller(owner, name, "admin")
    hooks.delete_hook(hub().store, _hook_or_404(repo, hook_id)["id"])
    return no_content()


@bp.post("/repos/<owner>/<name>/hooks/<int:hook_id>/pings")
def ping_hook(owner: str, name: str, hook_id: int) -> Response:
    repo, user = authorized_repo_and_caller(owner, name, "admin")
    hooks.send_ping(hub().events, hub().shapes(), _hook_or_404(repo, hook_id), user)
    return no_content()


@bp.get("/repos/<owner>/<name>/hooks/<int:hook_id>/deliveries")
def list_deliveries(owner: str, name: str, hook_id: int) -> Response:
    repo, _ = authorized_repo_and_caller(owner, name, "admin")
    rows = hub().events.deliveries(_hook_or_404(repo, hook_id)["id"])
    return paginate(rows, delivery_shape)


def _delivery_or_404(repo: Row, hook_id: int, delivery_id: int) -> Row:
    hook = _hook_or_404(repo, hook_id)
    row = hub().events.delivery(delivery_id)
    if row is None or row["hook_id"] != hook["id"]:
        not_found()
    return row


@bp.get("/repos/<owner>/<name>/hooks/<int:hook_id>/deliveries/<int:delivery_id>")
def get_delivery(owner: str, name: str, hook_id: int, delivery_id: int) -> Response:
    repo, _ = authorized_repo_and_caller(owner, name, "admin")
    return json_response(delivery_shape(_delivery_or_404(repo, hook_id, delivery_id), full=True))


@bp.post("/repos/<owner>/<name>/hooks/<int:hook_id>/deliveries/<int:delivery_id>/attempts")
def redeliver(owner: str, name: str, hook_id: int, delivery_id: int) -> Response:
    repo, _ = authorized_repo_and_caller(owner, name, "admin")
    row = _delivery_or_404(repo, hook_id, delivery_id)
    try:
        hub().events.redeliver(row["id"])
    except LookupError:
        raise ApiError(422, "This hook can no longer be redelivered.") from None
    return json_response({}, 202)
