"""Webhook payload builders (issues, issue_comment, push, ping) on top of the REST shapes."""

from __future__ import annotations

import calendar
import time
from datetime import datetime
from typing import Any

from localhub.gitrepo import ZERO_SHA, BareRepo, CommitInfo
from localhub.shapes import JSON, Shapes
from localhub.store import Row


def sender(shapes: Shapes, user: Row) -> JSON:
    return shapes.user(user) or {}


def repository(shapes: Shapes, repo: Row) -> JSON:
    return shapes.repo(repo, webhook=True)


def issues_event(shapes: Shapes, action: str, issue: Row, user: Row, **extra: Any) -> JSON:
    """`issues` payload; `extra` carries `label`, `assignee` or `changes` as the action needs."""
    repo = shapes.store.repo_by_id(issue["repo_id"])
    return {
        "action": action,
        "issue": shapes.issue(issue),
        **extra,
        "repository": repository(shapes, repo),
        "sender": sender(shapes, user),
    }


def issue_comment_event(shapes: Shapes, action: str, issue: Row, comment: Row, user: Row, **extra: Any) -> JSON:
    repo = shapes.store.repo_by_id(issue["repo_id"])
    return {
        "action": action,
        "issue": shapes.issue(issue),
        "comment": shapes.comment(comment),
        **extra,
        "repository": repository(shapes, repo),
        "sender": sender(shapes, user),
    }


def ping_event(shapes: Shapes, hook: Row, repo: Row, user: Row, hook_shape: JSON) -> JSON:
    return {
        "zen": "Keep it logically awesome.",
        "hook_id": hook["id"],
        "hook": hook_shape,
        "repository": repository(shapes, repo),
        "sender": sender(shapes, user),
    }


def _epoch(iso: str) -> int:
    return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))


def _commit(shapes: Shapes, full: str, git: BareRepo, info: CommitInfo, distinct: bool = True) -> JSON:
    return {
        "id": info.sha,
        "tree_id": info.tree,
        "distinct": distinct,
        "message": info.message,
        "timestamp": datetime.fromisoformat(info.committer_date.replace("Z", "+00:00")).isoformat(),
        "url": f"{shapes.web}/{full}/commit/{info.sha}",
        "author": _identity(shapes, info.author_name, info.author_email),
        "committer": _identity(shapes, info.committer_name, info.committer_email),
        **git.changed_files(info.sha),
    }


def _identity(shapes: Shapes, name: str, email: str) -> JSON:
    """A commit identity; `username` only when a localhub user has that email."""
    data: JSON = {"name": name, "email": email}
    user = shapes.store.one("SELECT login FROM users WHERE email=?", (email,))
    if user is not None:
        data["username"] = user["login"]
    return data


def push_event(
    shapes: Shapes, repo: Row, git: BareRepo, ref: str, before: str, after: str, pusher: Row, forced: bool = False
) -> JSON:
    """`push` payload (no `action`); the repository has integer `created_at`/`pushed_at` as GitHub's."""
    owner = shapes.store.user_by_id(repo["owner_id"])
    full = f"{owner['login']}/{repo['name']}"
    deleted = after == ZERO_SHA
    commits = [] if deleted else git.log(before, after)
    head = None if deleted else _commit(shapes, full, git, git.commit(after))
    repo_json = repository(shapes, repo)
    repo_json["owner"] = {**(shapes.user(owner) or {}), "name": owner["login"], "email": owner["email"]}
    repo_json["created_at"] = _epoch(repo["created_at"])
    repo_json["pushed_at"] = _epoch(repo["pushed_at"] or repo["created_at"])
    repo_json.update({"stargazers": 0, "master_branch": repo["default_branch"]})
    if owner["type"] == "Organization":
        repo_json["organization"] = owner["login"]
    return {
        "ref": ref,
        "before": before,
        "after": after,
        "created": before == ZERO_SHA,
        "deleted": deleted,
        "forced": forced,
        "base_ref": None,
        "compare": f"{shapes.web}/{full}/compare/{before[:12]}...{after[:12]}",
        "commits": [_commit(shapes, full, git, c) for c in commits],
        "head_commit": head,
        "repository": repo_json,
        "pusher": {"name": pusher["login"], "email": pusher["email"]},
        "sender": sender(shapes, pusher),
    }


def installation_event(shapes: Shapes, action: str, installation: JSON, repos: list[Row], user: Row) -> JSON:
    """`installation` payload (created/deleted) listing the repositories the App can reach."""
    listed = []
    for repo in repos:
        full = shapes.repo_full_name(repo["id"])
        listed.append(
            {
                "id": repo["id"],
                "node_id": shapes.repo(repo)["node_id"],
                "name": repo["name"],
                "full_name": full,
                "private": bool(repo["private"]),
            }
        )
    return {
        "action": action,
        "installation": installation,
        "repositories": listed,
        "requester": None,
        "sender": sender(shapes, user),
    }
