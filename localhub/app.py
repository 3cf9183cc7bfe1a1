"""The Flask app of a localhub: API blueprints under /api/v3, git over HTTP, metering, faults."""

from __future__ import annotations

import hashlib
import importlib
import re
import time
from typing import Any

from flask import Flask, Response, g, request

from localhub.auth import principal_for
from localhub.faults import AFTER, BEFORE, bad_gateway
from localhub.rest import ApiError

API_PREFIX = "/api/v3"
GRAPHQL_PATH = "/api/graphql"  # GitHub Enterprise Server's GraphQL endpoint (what PyGithub derives)

# Each module defines `bp` (a Blueprint); API ones are mounted under /api/v3, root ones at /.
# Other areas append their modules here (e.g. "localhub.api.pulls", "localhub.pages").
API_MODULES: list[str] = [
    "localhub.api.users",
    "localhub.api.repos",
    "localhub.api.issues",
    "localhub.api.labels",
    "localhub.api.subissues",
    "localhub.api.git",
    "localhub.api.apps",
    "localhub.api.ratelimit",
    "localhub.api.pulls",
    "localhub.api.checks",
    "localhub.api.reviews",
    "localhub.api.hooks",
    "localhub.api.protection",
]
ROOT_MODULES: list[str] = [
    "localhub.githttp",
    "localhub.api.internal",
    "localhub.pages",
    "localhub.api.actions",  # an /api/v3 route (workflow dispatches) and /_localhub/dispatches
    "localhub.api.manifests",  # the App manifest form (web root) and its conversion (/api/v3)
    "localhub.api.actionsruns",  # /api/v3 runs, jobs and logs, and the signed /_localhub/ log URLs
    "localhub.api.graphql",  # POST /api/graphql
]


def create_app(hub: Any) -> Flask:
    """A Flask app serving `hub` (a LocalHub); blueprints from API_MODULES and ROOT_MODULES."""
    app = Flask("localhub")
    app.config["LOCALHUB"] = hub
    app.url_map.strict_slashes = False
    for name in API_MODULES:
        app.register_blueprint(importlib.import_module(name).bp, url_prefix=API_PREFIX)
    for name in ROOT_MODULES:
        app.register_blueprint(importlib.import_module(name).bp)
    app.before_request(_before)
    app.after_request(_after)
    app.register_error_handler(ApiError, lambda exc: exc.response())
    app.register_error_handler(404, lambda exc: _plain_error(404, "Not Found"))
    app.register_error_handler(405, lambda exc: _plain_error(404, "Not Found"))
    app.register_error_handler(500, lambda exc: _plain_error(500, "Server Error"))
    return app


def is_api() -> bool:
    """REST under /api/v3 and GraphQL at /api/graphql (auth, rate limits, faults, metering)."""
    return request.path in (API_PREFIX, GRAPHQL_PATH) or request.path.startswith(API_PREFIX + "/")


def _plain_error(status: int, message: str) -> Response:
    return ApiError(status, message).response() if is_api() else Response(message, status=status)


def _before() -> Response | None:
    if not is_api():
        return None
    hub = _hub()
    g.user = None
    g.installation_id = None
    g.principal_label = "anonymous"
    if hub.config.latency_ms:
        time.sleep(hub.config.latency_ms / 1000)
    g.rate = hub.ratelimit.peek(f"ip:{request.remote_addr}", "anonymous")  # for a 401 answer
    principal = principal_for(hub.store, hub.config.app, request.headers.get("Authorization"))
    g.principal = principal
    g.user = principal.user
    g.installation_id = principal.installation_id
    g.principal_label = principal.label  # faulted calls are metered under the caller's label too
    key = g.rate_key = principal.label if principal.kind != "anonymous" else f"ip:{request.remote_addr}"
    fault = hub.faults.draw(request.method)
    if fault is not None and fault.when == BEFORE:
        g.rate = hub.ratelimit.peek(key, principal.kind)  # headers on every answer; no budget spent
        hub.metrics.fault(BEFORE)
        return fault.response()
    free = request.path == API_PREFIX + "/rate_limit"  # GitHub: checking the limit costs nothing
    g.rate = hub.ratelimit.peek(key, principal.kind) if free else hub.ratelimit.spend(key, principal.kind)
    if g.rate.remaining < 0:
        g.rate = g.rate.exhausted()
        raise ApiError(
            403, _limit_message(principal), doc="https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
        )
    g.fault_after = fault  # a write served now and answered 502 in _after (None: no fault)
    return None


def _limit_message(principal: Any) -> str:
    if principal.installation_id is not None:
        return f"API rate limit exceeded for installation ID {principal.installation_id}."
    if principal.user is not None:
        return f"API rate limit exceeded for user ID {principal.user['id']}."
    return (
        f"API rate limit exceeded for {request.remote_addr}. (But here's the good news: Authenticated "
        "requests get a higher rate limit. Check out the documentation for more details.)"
    )


def _after(resp: Response) -> Response:
    if not is_api():
        return resp
    hub = _hub()
    if g.pop("fault_after", None) is not None:
        resp = bad_gateway()  # the write was applied; the caller is told it failed
        hub.metrics.fault(AFTER)
    resp = _conditional(hub, resp)
    rate = g.get("rate")
    if rate is not None:
        resp.headers.update(rate.headers())
    resp.headers.setdefault("X-GitHub-Media-Type", "github.v3; format=json")
    resp.headers.setdefault("X-GitHub-Request-Id", f"LH{id(request):X}")
    resp.headers["X-GitHub-Enterprise-Version"] = "3.14.0"
    hub.metrics.rest_call(request.method, route_template(), g.get("principal_label", "anonymous"), resp.status_code)
    for check in hub.response_checks:
        check(request.method, request.path.removeprefix(API_PREFIX), resp)
    return resp


def _conditional(hub: Any, resp: Response) -> Response:
    """ETags on GETs; a matching `If-None-Match` answers 304, which (as on GitHub) costs no budget."""
    if request.method != "GET" or resp.status_code != 200 or not resp.is_json:
        return resp
    etag = f'"{hashlib.sha256(resp.get_data()).hexdigest()[:40]}"'
    resp.headers["ETag"] = etag
    if etag not in request.headers.get("If-None-Match", ""):
        return resp
    if g.get("rate") is not None:
        g.rate = hub.ratelimit.refund(g.rate_key, g.principal.kind)
    not_modified = Response(status=304)
    not_modified.headers["ETag"] = etag
    return not_modified


def route_template() -> str:
    """The matched route as GitHub writes it: `/repos/{owner}/{name}/issues/{number}`."""
    if request.url_rule is None:
        return "(unmatched)"
    rule = request.url_rule.rule.removeprefix(API_PREFIX) or "/"
    return _CONVERTER.sub(r"{\1}", rule)


_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def _hub() -> Any:
    from flask import current_app

    return current_app.config["LOCALHUB"]
