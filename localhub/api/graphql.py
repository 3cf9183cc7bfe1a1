"""`POST /api/graphql`: GitHub Enterprise Server's GraphQL endpoint (PyGithub derives it from `/api/v3`).

Queries are parsed, validated and executed by graphql-core against `localhub.graphqlschema` (a
subset of GitHub's schema). As on GitHub, the answer is 200 with `data` and, when something
failed, `errors` (each with GitHub's `type` where localhub raised it); anonymous callers get 401.
Registered as a root blueprint; `localhub.app` treats the path as an API path (auth, rate limit).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from flask import Blueprint, Response, g, request
from graphql import GraphQLError, GraphQLSchema, graphql_sync

from localhub import graphqlresolvers, graphqlschema
from localhub.app import GRAPHQL_PATH
from localhub.graphqlresolvers import Context, GitHubError
from localhub.rest import ApiError, hub, json_response, urls

DOC = "https://docs.github.com/graphql"
bp = Blueprint("graphql", __name__)


@cache
def executable_schema() -> GraphQLSchema:
    return graphqlresolvers.attach(graphqlschema.schema())


def _error(error: GraphQLError) -> dict[str, Any]:
    """graphql-core's error shape, with GitHub's `type` first when localhub raised the error."""
    body: dict[str, Any] = dict(error.formatted)
    raised = error if isinstance(error, GitHubError) else error.original_error
    if isinstance(raised, GitHubError):
        body = {"type": raised.kind, **body}
    return body


@bp.post(GRAPHQL_PATH)
def graphql_endpoint() -> Response:
    user = g.get("user")
    if user is None:
        raise ApiError(
            401,
            "This endpoint requires you to be authenticated.",
            doc=DOC + "/guides/forming-calls-with-graphql#authenticating-with-graphql",
        )
    try:
        data = json.loads(request.get_data() or b"{}")
    except ValueError:
        raise ApiError(400, "Problems parsing JSON") from None
    query = data.get("query") if isinstance(data, dict) else None
    if not isinstance(query, str):
        return json_response({"errors": [{"message": "A query attribute must be specified and must be a string."}]})
    app = hub().config.app if g.get("installation_id") is not None else None
    context = Context(hub(), user, urls().web, app.app_id if app else None)
    result = graphql_sync(
        executable_schema(),
        query,
        variable_values=data.get("variables") or None,
        operation_name=data.get("operationName"),
        context_value=context,
    )
    body: dict[str, Any] = {}
    if result.data is not None or not result.errors:
        body["data"] = result.data
    if result.errors:
        body["errors"] = [_error(e) for e in result.errors]
    return json_response(body)
