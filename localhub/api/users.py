"""Users: `GET /user`, `GET /users/{login}`."""

from __future__ import annotations

from flask import Blueprint, Response

from localhub.rest import hub, json_response, not_found, require_caller, shapes

bp = Blueprint("users", __name__)


@bp.get("/user")
def authenticated_user() -> Response:
    user = require_caller()
    return json_response(shapes().full_user(user, private=True))


@bp.get("/users/<login>")
def get_user(login: str) -> Response:
    user = hub().store.user_by_login(login)
    if user is None:
        not_found()
    return json_response(shapes().full_user(user))
