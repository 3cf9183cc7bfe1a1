"""The issue events timeline: who labelled, assigned, renamed, closed, reopened or merged an issue, and when.

GitHub keeps one event per such change (`GET /repos/{o}/{r}/issues/{n}/events`); each names its
`actor`, its `created_at` and what changed (the label's name and colour as they were, the
assignee and assigner, the old and new title, the state reason). Events are recorded where the
change happens — the issues API (`localhub.api.issues.emit_issue`) and the pull request flow
(merges, closes, reopens, issues closed by keywords) — and never change afterwards.
"""

from __future__ import annotations

import json
from typing import Any

from localhub.shapes import JSON, Shapes, node_id
from localhub.store import Row, Store, now_iso, register_schema

register_schema("""CREATE TABLE IF NOT EXISTS issue_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, repo_id INTEGER NOT NULL, issue_id INTEGER NOT NULL,
    actor_id INTEGER NOT NULL, event TEXT NOT NULL, data TEXT NOT NULL DEFAULT '{}',
    commit_id TEXT, created_at TEXT NOT NULL)""")
register_schema("CREATE INDEX IF NOT EXISTS issue_events_issue ON issue_events(issue_id, id)")

#: `issues` webhook actions that GitHub also records as issue events (the rest, e.g. `opened`, are not).
RECORDED_ACTIONS = frozenset({"labeled", "unlabeled", "assigned", "unassigned", "closed", "reopened", "edited"})


def record(
    store: Store, issue: Row, actor: Row, event: str, data: dict[str, Any] | None = None, commit_id: str | None = None
) -> None:
    """Append one event to the issue's timeline."""
    with store.write() as db:
        db.execute(
            "INSERT INTO issue_events(repo_id, issue_id, actor_id, event, data, commit_id, created_at)"
            " VALUES (?,?,?,?,?,?,?)",
            (issue["repo_id"], issue["id"], actor["id"], event, json.dumps(data or {}), commit_id, now_iso()),
        )


def record_action(store: Store, issue: Row, actor: Row, action: str, extra: dict[str, Any]) -> None:
    """Record the event an `issues` webhook action stands for (a title edit is `renamed`; a body edit is none)."""
    if action not in RECORDED_ACTIONS:
        return
    if action in ("labeled", "unlabeled"):
        label = extra.get("label") or {}
        record(store, issue, actor, action, {"label": {"name": label.get("name", ""), "color": label.get("color", "")}})
    elif action in ("assigned", "unassigned"):
        record(store, issue, actor, action, {"assignee_id": (extra.get("assignee") or {}).get("id")})
    elif action in ("closed", "reopened"):
        record(store, issue, actor, action, {"state_reason": issue["state_reason"]})
    elif "title" in (extra.get("changes") or {}):
        record(
            store,
            issue,
            actor,
            "renamed",
            {"rename": {"from": extra["changes"]["title"]["from"], "to": issue["title"]}},
        )


def events_of(store: Store, issue_id: int) -> list[Row]:
    """The issue's events, oldest first."""
    return store.all("SELECT * FROM issue_events WHERE issue_id=? ORDER BY id", (issue_id,))


def shape(shapes: Shapes, row: Row) -> JSON:
    """One event as `GET .../issues/{n}/events` lists it (GitHub's `issue-event-for-issue`)."""
    full = shapes.repo_full_name(row["repo_id"])
    data = json.loads(row["data"])
    actor = shapes.user_by_id(row["actor_id"])
    commit = row["commit_id"]
    event: JSON = {
        "id": row["id"],
        "node_id": node_id("IE", row["id"]),
        "url": f"{shapes.api}/repos/{full}/issues/events/{row['id']}",
        "actor": actor,
        "event": row["event"],
        "commit_id": commit,
        "commit_url": f"{shapes.api}/repos/{full}/commits/{commit}" if commit else None,
        "created_at": row["created_at"],
        "performed_via_github_app": None,
    }
    if "label" in data:
        event["label"] = data["label"]
    if "assignee_id" in data:
        event.update(assignee=shapes.user_by_id(data["assignee_id"]), assigner=actor)
    if "rename" in data:
        event["rename"] = data["rename"]
    if row["event"] in ("closed", "reopened"):
        event["state_reason"] = data.get("state_reason")
    return event
