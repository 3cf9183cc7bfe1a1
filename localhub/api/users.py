"""Users: `GET /user`, `GET /users/{login}`."""

from __future__ import annotations

from flask import Blueprint, Response

from localhub.rest import json_response, require_caller, shapes, user_or_404

bp = Blueprint("users", __name__)


@bp.get("/user")
def authenticated_user() -> Response:
    user = require_caller()
    return json_response(shapes().full_user(user, private=True))


@bp.get("/users/<login>")
def get_user(login: str) -> Response:
    user = user_or_404(login)
    return json_response(shapes().full_user(user))
