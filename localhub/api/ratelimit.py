"""`GET /rate_limit`: the caller's standing in the primary rate limit."""

from __future__ import annotations

from flask import Blueprint, Response, g, request

from localhub.rest import hub, json_response

bp = Blueprint("rate_limit", __name__)


@bp.get("/rate_limit")
def rate_limit() -> Response:
    principal = g.get("principal")
    kind = principal.kind if principal else "anonymous"
    key = principal.label if principal and kind != "anonymous" else f"ip:{request.remote_addr}"
    core = hub().ratelimit.peek(key, kind).shape()
    resources = {name: dict(core) for name in ("core",)}
    for name, limit in (("search", 30), ("graphql", 5000), ("integration_manifest", 5000), ("code_search", 10)):
        resources[name] = {"limit": limit, "remaining": limit, "reset": core["reset"], "used": 0}
    return json_response({"resources": resources, "rate": core})
