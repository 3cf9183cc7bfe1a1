"""Issue rows (PRs are issues too): create, change state, labels and assignees, list with filters."""

from __future__ import annotations

from typing import Any

from localhub.store import Row, Store, now_iso


def create_issue(store: Store, repo: Row, user: Row, title: str, body: str | None, is_pull: bool = False) -> Row:
    """Insert an issue (or the issue half of a PR) with the repo's next number."""
    stamp = now_iso()
    with store.write() as db:
        number = store.allocate_number(db, repo["id"])
        cur = db.execute(
            "INSERT INTO issues(repo_id, number, title, body, user_id, is_pull, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (repo["id"], number, title, body, user["id"], int(is_pull), stamp, stamp),
        )
        issue_id = cur.lastrowid
    return store.get("SELECT * FROM issues WHERE id=?", (issue_id,))


def update_fields(store: Store, issue: Row, fields: dict[str, Any]) -> Row:
    if fields:
        sets = ", ".join(f"{k}=?" for k in fields)
        with store.write() as db:
            db.execute(f"UPDATE issues SET {sets}, updated_at=? WHERE id=?", (*fields.values(), now_iso(), issue["id"]))
    return store.get("SELECT * FROM issues WHERE id=?", (issue["id"],))


def close(store: Store, issue: Row, by: Row, reason: str = "completed") -> Row:
    return update_fields(
        store, issue, {"state": "closed", "state_reason": reason, "closed_at": now_iso(), "closed_by_id": by["id"]}
    )


def reopen(store: Store, issue: Row) -> Row:
    return update_fields(
        store, issue, {"state": "open", "state_reason": "reopened", "closed_at": None, "closed_by_id": None}
    )


def label_by_name(store: Store, repo_id: int, name: str, create: bool = True) -> Row | None:
    row = store.one("SELECT * FROM labels WHERE repo_id=? AND name=?", (repo_id, name))
    if row is None and create:
        with store.write() as db:
            db.execute("INSERT OR IGNORE INTO labels(repo_id, name) VALUES (?, ?)", (repo_id, name))
        row = store.one("SELECT * FROM labels WHERE repo_id=? AND name=?", (repo_id, name))
    return row


def label_ids(store: Store, issue_id: int) -> set[int]:
    return {r["label_id"] for r in store.all("SELECT label_id FROM issue_labels WHERE issue_id=?", (issue_id,))}


def set_labels(store: Store, issue: Row, names: list[str], replace: bool) -> tuple[list[Row], list[Row]]:
    """Add (or replace with) labels by name, creating missing ones; returns (added, removed) rows."""
    wanted = [label_by_name(store, issue["repo_id"], n) for n in names]
    wanted_ids = {lab["id"] for lab in wanted if lab}
    current = label_ids(store, issue["id"])
    added = [lab for lab in wanted if lab and lab["id"] not in current]
    removed_ids = (current - wanted_ids) if replace else set()
    removed = [store.get("SELECT * FROM labels WHERE id=?", (i,)) for i in sorted(removed_ids)]
    with store.write() as db:
        for lab in added:
            db.execute("INSERT OR IGNORE INTO issue_labels(issue_id, label_id) VALUES (?, ?)", (issue["id"], lab["id"]))
        for lab in removed:
            db.execute("DELETE FROM issue_labels WHERE issue_id=? AND label_id=?", (issue["id"], lab["id"]))
        if added or removed:
            db.execute("UPDATE issues SET updated_at=? WHERE id=?", (now_iso(), issue["id"]))
    return added, removed


def remove_label(store: Store, issue: Row, label: Row) -> bool:
    with store.write() as db:
        cur = db.execute("DELETE FROM issue_labels WHERE issue_id=? AND label_id=?", (issue["id"], label["id"]))
        if cur.rowcount:
            db.execute("UPDATE issues SET updated_at=? WHERE id=?", (now_iso(), issue["id"]))
    return bool(cur.rowcount)


def assignee_ids(store: Store, issue_id: int) -> set[int]:
    return {r["user_id"] for r in store.all("SELECT user_id FROM issue_assignees WHERE issue_id=?", (issue_id,))}


def set_assignees(store: Store, issue: Row, users: list[Row], mode: str) -> tuple[list[Row], list[Row]]:
    """mode `add`, `remove` or `replace`; returns (assigned, unassigned) user rows."""
    current = assignee_ids(store, issue["id"])
    ids = {u["id"] for u in users}
    if mode == "remove":
        added, removed_ids = [], current & ids
    else:
        added = [u for u in users if u["id"] not in current]
        removed_ids = (current - ids) if mode == "replace" else set()
    with store.write() as db:
        for user in added:
            db.execute(
                "INSERT OR IGNORE INTO issue_assignees(issue_id, user_id) VALUES (?, ?)", (issue["id"], user["id"])
            )
        for uid in removed_ids:
            db.execute("DELETE FROM issue_assignees WHERE issue_id=? AND user_id=?", (issue["id"], uid))
        if added or removed_ids:
            db.execute("UPDATE issues SET updated_at=? WHERE id=?", (now_iso(), issue["id"]))
    return added, [store.user_by_id(uid) for uid in sorted(removed_ids)]


def list_issues(store: Store, repo_id: int, args: dict[str, str], pulls_too: bool = True) -> list[Row]:
    """Issues of a repo filtered as GitHub's list endpoint (state, labels, assignee, creator, since)."""
    sql = ["SELECT i.* FROM issues i WHERE i.repo_id=?"]
    params: list[Any] = [repo_id]
    state = args.get("state", "open")
    if state in ("open", "closed"):
        sql.append("AND i.state=?")
        params.append(state)
    if not pulls_too:
        sql.append("AND i.is_pull=0")
    for name in [n.strip() for n in args.get("labels", "").split(",") if n.strip()]:
        sql.append(
            "AND EXISTS (SELECT 1 FROM issue_labels il JOIN labels l ON l.id=il.label_id"
            " WHERE il.issue_id=i.id AND l.name=?)"
        )
        params.append(name)
    assignee = args.get("assignee")
    if assignee == "none":
        sql.append("AND NOT EXISTS (SELECT 1 FROM issue_assignees a WHERE a.issue_id=i.id)")
    elif assignee == "*":
        sql.append("AND EXISTS (SELECT 1 FROM issue_assignees a WHERE a.issue_id=i.id)")
    elif assignee:
        sql.append(
            "AND EXISTS (SELECT 1 FROM issue_assignees a JOIN users u ON u.id=a.user_id"
            " WHERE a.issue_id=i.id AND u.login=?)"
        )
        params.append(assignee)
    if args.get("creator"):
        sql.append("AND i.user_id=(SELECT id FROM users WHERE login=?)")
        params.append(args["creator"])
    if args.get("since"):
        sql.append("AND i.updated_at>=?")
        params.append(_normal_since(args["since"]))
    sort = {"updated": "i.updated_at", "comments": "(SELECT COUNT(*) FROM comments c WHERE c.issue_id=i.id)"}.get(
        args.get("sort", "created"), "i.created_at"
    )
    direction = "ASC" if args.get("direction") == "asc" else "DESC"
    sql.append(f"ORDER BY {sort} {direction}, i.number {direction}")
    return store.all(" ".join(sql), params)


def _normal_since(value: str) -> str:
    """ISO 8601 `since` as the stored `...Z` form (accepts offsets and fractions)."""
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
