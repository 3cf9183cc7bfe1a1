"""Resolving localhub's GraphQL subset: objects as dicts (lazy fields are callables), node ids, mutations.

Objects are plain dicts: graphql-core's default resolver reads a key and calls it when it is a
callable (with the field's arguments), and picks an interface's concrete type from `__typename`.
Errors carry GitHub's `type` (`NOT_FOUND`, `FORBIDDEN`, `UNPROCESSABLE`) next to the message.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo, GraphQLSchema

from localhub import pullstore, queuestore
from localhub.mergequeue import QueueError
from localhub.protection import rules_for
from localhub.rest import PERMISSION_ORDER
from localhub.shapes import node_id
from localhub.store import Row

_NODE = re.compile(r"0:([A-Z]+)(\d+)")


class GitHubError(GraphQLError):
    """A GraphQL error with GitHub's `type`."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Context:
    """Who is asking, and how this localhub was reached (URLs are built from it)."""

    hub: Any
    user: Row
    web: str
    app_id: int | None


def decode_id(value: str) -> tuple[str, int] | None:
    """("PR", 12) for a localhub node id (`localhub.shapes.node_id`), None for anything else."""
    try:
        text = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    match = _NODE.fullmatch(text)
    return (match.group(1), int(match.group(2))) if match else None


def _ctx(info: GraphQLResolveInfo) -> Context:
    context: Context = info.context
    return context


# -- objects ---------------------------------------------------------------------------------------
def actor(ctx: Context, row: Row) -> dict[str, Any]:
    login = row["login"]
    return {
        "__typename": "Bot" if row["type"] == "Bot" else "User",
        "id": node_id("U", row["id"]),
        "databaseId": row["id"],
        "login": login,
        "name": row["name"],
        "url": f"{ctx.web}/{login}",
        "resourcePath": f"/{login}",
        "avatarUrl": lambda info, size=None: f"{ctx.web}/avatars/{login}",
    }


def repository(ctx: Context, repo: Row) -> dict[str, Any]:
    full = ctx.hub.shapes(ctx.web).repo_full_name(repo["id"])
    return {
        "__typename": "Repository",
        "id": node_id("R", repo["id"]),
        "databaseId": repo["id"],
        "name": repo["name"],
        "nameWithOwner": full,
        "url": f"{ctx.web}/{full}",
        "pullRequest": lambda info, number: _pull_by_number(ctx, repo, number),
        "mergeQueue": lambda info, branch=None: merge_queue(ctx, repo, branch or repo["default_branch"]),
    }


def _pull_by_number(ctx: Context, repo: Row, number: int) -> dict[str, Any] | None:
    pull = pullstore.pull(ctx.hub.store, repo["id"], number)
    return pull_request(ctx, pull) if pull else None


def pull_request(ctx: Context, pull: Row) -> dict[str, Any]:
    hub = ctx.hub
    repo = hub.store.repo_by_id(pull["repo_id"])
    url = f"{ctx.web}/{hub.shapes(ctx.web).repo_full_name(repo['id'])}/pull/{pull['number']}"

    def status(info: GraphQLResolveInfo) -> str:
        return hub.pulls.mergeability.view(pull)[1].upper()

    def mergeable(info: GraphQLResolveInfo) -> str:
        value = hub.pulls.mergeability.view(pull)[0]
        return "UNKNOWN" if value is None else "MERGEABLE" if value else "CONFLICTING"

    entry = queuestore.entry_for_pull(hub.store, pull["issue_id"])
    return {
        "__typename": "PullRequest",
        "id": node_id("PR", pull["issue_id"]),
        "databaseId": pull["issue_id"],
        "number": pull["number"],
        "title": pull["title"],
        "url": url,
        "permalink": url,
        "state": "MERGED" if pull["merged"] else pull["state"].upper(),
        "merged": bool(pull["merged"]),
        "headRefName": pull["head_ref"],
        "headRefOid": pull["head_sha"],
        "baseRefName": pull["base_ref"],
        "isDraft": bool(pull["draft"]),
        "isInMergeQueue": entry is not None,
        "mergeQueueEntry": lambda info: merge_queue_entry(ctx, entry) if entry else None,
        "autoMergeRequest": lambda info: auto_merge_request(ctx, pull),
        "mergeStateStatus": status,
        "mergeable": mergeable,
        "repository": lambda info: repository(ctx, repo),
    }


def auto_merge_request(ctx: Context, pull: Row) -> dict[str, Any] | None:
    request = queuestore.auto_merge(ctx.hub.store, pull["issue_id"])
    if request is None:
        return None
    return {
        "authorEmail": request["author_email"],
        "commitBody": request["commit_body"],
        "commitHeadline": request["commit_headline"],
        "enabledAt": request["enabled_at"],
        "enabledBy": actor(ctx, ctx.hub.store.user_by_id(request["enabled_by_id"])),
        "mergeMethod": request["merge_method"],
        "pullRequest": lambda info: pull_request(ctx, pull),
    }


def commit(ctx: Context, repo: Row, sha: str | None) -> dict[str, Any] | None:
    if not sha:
        return None
    full = ctx.hub.shapes(ctx.web).repo_full_name(repo["id"])
    return {
        "__typename": "Commit",
        "id": node_id("C", int(sha[:12], 16)),
        "oid": sha,
        "message": lambda info: ctx.hub.checks.head_commit(repo, sha)["message"],
        "url": f"{ctx.web}/{full}/commit/{sha}",
    }


def position_of(ctx: Context, entry: Row) -> int:
    """The entry's 1-based place in its queue (0 once it has left)."""
    queue = queuestore.entries(ctx.hub.store, entry["repo_id"], entry["base_ref"])
    return next((i for i, e in enumerate(queue, 1) if e["id"] == entry["id"]), 0)


def merge_queue_entry(ctx: Context, entry: Row, position: int | None = None) -> dict[str, Any]:
    """A `MergeQueueEntry`; `position` is given for an entry that has just left its queue."""
    store = ctx.hub.store
    repo = store.repo_by_id(entry["repo_id"])
    position = position_of(ctx, entry) if position is None else position
    return {
        "__typename": "MergeQueueEntry",
        "id": node_id("MQE", entry["id"]),
        "enqueuedAt": entry["enqueued_at"],
        "enqueuer": actor(ctx, store.user_by_id(entry["enqueuer_id"])),
        "jump": bool(entry["jump"]),
        "position": position,
        "solo": False,
        "state": entry["state"],
        "baseCommit": commit(ctx, repo, entry["group_base_sha"]),
        "headCommit": commit(ctx, repo, entry["group_sha"]),
        "pullRequest": lambda info: pull_request(ctx, pullstore.pull_by_issue(store, entry["pull_id"])),
        "mergeQueue": lambda info: merge_queue(ctx, repo, entry["base_ref"]),
    }


def merge_queue(ctx: Context, repo: Row, branch: str) -> dict[str, Any] | None:
    """The branch's queue, or None when no merge queue rule applies to it."""
    params = rules_for(ctx.hub.store, repo, branch).merge_queue
    if params is None:
        return None
    full = ctx.hub.shapes(ctx.web).repo_full_name(repo["id"])
    rows = queuestore.entries(ctx.hub.store, repo["id"], branch)
    nodes = [merge_queue_entry(ctx, row) for row in rows]
    connection = {
        "totalCount": len(nodes),
        "nodes": nodes,
        "edges": [{"cursor": str(i), "node": node} for i, node in enumerate(nodes)],
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": "0" if nodes else None,
            "endCursor": str(len(nodes) - 1) if nodes else None,
        },
    }
    return {
        "__typename": "MergeQueue",
        "id": node_id("MQ", repo["id"]),
        "url": f"{ctx.web}/{full}/queue/{branch}",
        "resourcePath": f"/{full}/queue/{branch}",
        "repository": lambda info: repository(ctx, repo),
        "entries": lambda info, **page: connection,
        "configuration": {
            "checkResponseTimeout": params["check_response_timeout_minutes"],
            "maximumEntriesToBuild": params["max_entries_to_build"],
            "maximumEntriesToMerge": params["max_entries_to_merge"],
            "mergeMethod": params["merge_method"],
            "mergingStrategy": params["grouping_strategy"],
            "minimumEntriesToMerge": params["min_entries_to_merge"],
            "minimumEntriesToMergeWaitTime": params["min_entries_to_merge_wait_minutes"],
        },
    }


# -- root fields -----------------------------------------------------------------------------------
def _readable(ctx: Context, repo: Row) -> bool:
    return not repo["private"] or ctx.app_id is not None or ctx.hub.store.permission(repo, ctx.user) is not None


def resolve_node(root: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:  # noqa: A002 - GitHub's name
    ctx = _ctx(info)
    decoded = decode_id(id)
    found: dict[str, Any] | None = None
    if decoded and decoded[0] == "PR":
        pull = ctx.hub.store.one(pullstore.PULL_SELECT + " WHERE p.issue_id=?", (decoded[1],))
        if pull and _readable(ctx, ctx.hub.store.repo_by_id(pull["repo_id"])):
            found = pull_request(ctx, pull)
    elif decoded and decoded[0] == "MQE":
        entry = queuestore.entry(ctx.hub.store, decoded[1])
        found = merge_queue_entry(ctx, entry) if entry else None
    elif decoded and decoded[0] == "R":
        repo = ctx.hub.store.one("SELECT * FROM repos WHERE id=?", (decoded[1],))
        found = repository(ctx, repo) if repo and _readable(ctx, repo) else None
    elif decoded and decoded[0] == "U":
        user = ctx.hub.store.one("SELECT * FROM users WHERE id=?", (decoded[1],))
        found = actor(ctx, user) if user else None
    if found is None:
        raise GitHubError("NOT_FOUND", f"Could not resolve to a node with the global id of '{id}'")
    return found


def resolve_repository(root: Any, info: GraphQLResolveInfo, owner: str, name: str, **_: Any) -> dict[str, Any]:
    ctx = _ctx(info)
    repo = ctx.hub.store.repo(owner, name)
    if repo is None or not _readable(ctx, repo):
        raise GitHubError("NOT_FOUND", f"Could not resolve to a Repository with the name '{owner}/{name}'.")
    return repository(ctx, repo)


# -- mutations -------------------------------------------------------------------------------------
def _pull_for_write(ctx: Context, pull_node: str, mutation: str) -> tuple[Row, Row]:
    """(repo, pull) behind a PR node id, once the caller may write to the repository."""
    decoded = decode_id(pull_node)
    pull = (
        ctx.hub.store.one(pullstore.PULL_SELECT + " WHERE p.issue_id=?", (decoded[1],))
        if decoded and decoded[0] == "PR"
        else None
    )
    repo = ctx.hub.store.repo_by_id(pull["repo_id"]) if pull else None
    if pull is None or repo is None or not _readable(ctx, repo):
        raise GitHubError("NOT_FOUND", f"Could not resolve to a node with the global id of '{pull_node}'")
    role = ctx.hub.store.permission(repo, ctx.user)
    if ctx.app_id is None and (role is None or PERMISSION_ORDER.index(role) < PERMISSION_ORDER.index("write")):
        raise GitHubError(
            "FORBIDDEN", f"{ctx.user['login']} does not have the correct permissions to execute `{mutation}`"
        )
    return repo, pull


def _queue_call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except QueueError as exc:
        raise GitHubError(exc.kind, str(exc)) from None


def enqueue_pull_request(root: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
    ctx = _ctx(info)
    repo, pull = _pull_for_write(ctx, input["pullRequestId"], "EnqueuePullRequest")
    entry = _queue_call(
        ctx.hub.merge_queue.enqueue, repo, pull, ctx.user, bool(input.get("jump")), input.get("expectedHeadOid")
    )
    current = queuestore.entry(ctx.hub.store, entry["id"])
    return {
        "clientMutationId": input.get("clientMutationId"),
        "mergeQueueEntry": merge_queue_entry(ctx, current) if current else None,
    }


def dequeue_pull_request(root: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
    ctx = _ctx(info)
    repo, pull = _pull_for_write(ctx, input["id"], "DequeuePullRequest")
    queued = queuestore.entry_for_pull(ctx.hub.store, pull["issue_id"])
    if queued is None:
        raise GitHubError("UNPROCESSABLE", "Pull request is not in the merge queue")
    position = position_of(ctx, queued)
    entry = ctx.hub.merge_queue.dequeue(repo, pull, ctx.user, "MANUAL") or queued
    return {
        "clientMutationId": input.get("clientMutationId"),
        "mergeQueueEntry": merge_queue_entry(ctx, entry, position),
    }


def enable_auto_merge(root: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
    ctx = _ctx(info)
    repo, pull = _pull_for_write(ctx, input["pullRequestId"], "EnablePullRequestAutoMerge")
    _queue_call(
        ctx.hub.auto_merge.enable,
        repo,
        pull,
        ctx.user,
        input.get("mergeMethod") or "MERGE",
        input.get("commitHeadline"),
        input.get("commitBody"),
        input.get("authorEmail"),
        input.get("expectedHeadOid"),
    )
    return {
        "clientMutationId": input.get("clientMutationId"),
        "actor": actor(ctx, ctx.user),
        "pullRequest": pull_request(ctx, pullstore.pull_by_issue(ctx.hub.store, pull["issue_id"])),
    }


def disable_auto_merge(root: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
    ctx = _ctx(info)
    repo, pull = _pull_for_write(ctx, input["pullRequestId"], "DisablePullRequestAutoMerge")
    ctx.hub.auto_merge.disable(repo, pull, ctx.user)
    return {
        "clientMutationId": input.get("clientMutationId"),
        "actor": actor(ctx, ctx.user),
        "pullRequest": pull_request(ctx, pullstore.pull_by_issue(ctx.hub.store, pull["issue_id"])),
    }


def attach(schema: GraphQLSchema) -> GraphQLSchema:
    """Set the root resolvers on `schema` (built from `localhub.graphqlschema.SDL`)."""
    query, mutation = schema.query_type, schema.mutation_type
    assert query is not None and mutation is not None
    query.fields["node"].resolve = resolve_node
    query.fields["repository"].resolve = resolve_repository
    query.fields["viewer"].resolve = lambda root, info: actor(_ctx(info), _ctx(info).user)
    mutation.fields["enqueuePullRequest"].resolve = enqueue_pull_request
    mutation.fields["dequeuePullRequest"].resolve = dequeue_pull_request
    mutation.fields["enablePullRequestAutoMerge"].resolve = enable_auto_merge
    mutation.fields["disablePullRequestAutoMerge"].resolve = disable_auto_merge
    return schema
