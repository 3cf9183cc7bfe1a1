"""Repository webhooks: store functions and GitHub's hook shape (the REST endpoints live elsewhere)."""

from __future__ import annotations

import json
from typing import Any

from localhub import payloads
from localhub.shapes import JSON, Shapes
from localhub.store import Row, Store, now_iso


def create_hook(
    store: Store,
    repo_id: int,
    url: str,
    secret: str | None = None,
    events: list[str] | None = None,
    active: bool = True,
    content_type: str = "json",
) -> Row:
    stamp = now_iso()
    with store.write() as db:
        cur = db.execute(
            "INSERT INTO hooks(repo_id, url, secret, content_type, events, active, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (repo_id, url, secret, content_type, json.dumps(events or ["push"]), int(active), stamp, stamp),
        )
        hook_id = cur.lastrowid
    return store.get("SELECT * FROM hooks WHERE id=?", (hook_id,))


def update_hook(store: Store, hook: Row, changes: dict[str, Any]) -> Row:
    """Apply `url`, `secret`, `content_type`, `events`, `active` changes."""
    fields: dict[str, Any] = {k: changes[k] for k in ("url", "secret", "content_type", "active") if k in changes}
    if "events" in changes:
        fields["events"] = json.dumps(changes["events"])
    if "active" in fields:
        fields["active"] = int(bool(fields["active"]))
    if fields:
        sets = ", ".join(f"{k}=?" for k in fields)
        with store.write() as db:
            db.execute(f"UPDATE hooks SET {sets}, updated_at=? WHERE id=?", (*fields.values(), now_iso(), hook["id"]))
    return store.get("SELECT * FROM hooks WHERE id=?", (hook["id"],))


def hooks(store: Store, repo_id: int) -> list[Row]:
    return store.all("SELECT * FROM hooks WHERE repo_id=? ORDER BY id", (repo_id,))


def hook(store: Store, repo_id: int, hook_id: int) -> Row | None:
    return store.one("SELECT * FROM hooks WHERE repo_id=? AND id=?", (repo_id, hook_id))


def delete_hook(store: Store, hook_id: int) -> None:
    with store.write() as db:
        db.execute("DELETE FROM hooks WHERE id=?", (hook_id,))


def hook_shape(shapes: Shapes, row: Row) -> JSON:
    """GitHub's `hook` object (the secret is never shown)."""
    full = shapes.repo_full_name(row["repo_id"])
    api = f"{shapes.api}/repos/{full}/hooks/{row['id']}"
    last = shapes.store.one(
        "SELECT status, status_code FROM deliveries WHERE hook_id=? ORDER BY id DESC LIMIT 1", (row["id"],)
    )
    config: JSON = {"content_type": row["content_type"], "insecure_ssl": row["insecure_ssl"], "url": row["url"]}
    if row["secret"]:
        config["secret"] = "********"
    return {
        "type": "Repository",
        "id": row["id"],
        "name": "web",
        "active": bool(row["active"]),
        "events": json.loads(row["events"]),
        "config": config,
        "updated_at": row["updated_at"],
        "created_at": row["created_at"],
        "url": api,
        "test_url": f"{api}/test",
        "ping_url": f"{api}/pings",
        "deliveries_url": f"{api}/deliveries",
        "last_response": {
            "code": last["status_code"] if last else None,
            "status": "active" if last else "unused",
            "message": last["status"] if last else None,
        },
    }


def send_ping(events: Any, shapes: Shapes, row: Row, sender: Row) -> str:
    """Deliver the `ping` event GitHub sends when a hook is created; returns the delivery guid."""
    repo = shapes.store.repo_by_id(row["repo_id"])
    return str(events.ping(row, payloads.ping_event(shapes, row, repo, sender, hook_shape(shapes, row))))
