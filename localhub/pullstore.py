"""The tables of pull requests, reviews and review comments (a PR is an issue row plus a `pulls` row)."""

from __future__ import annotations

import sqlite3

from localhub.store import Row, Store, now_iso, register_schema

register_schema("""CREATE TABLE IF NOT EXISTS pulls (
    issue_id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL, number INTEGER NOT NULL,
    head_ref TEXT NOT NULL, head_sha TEXT NOT NULL, base_ref TEXT NOT NULL, base_sha TEXT NOT NULL,
    draft INTEGER NOT NULL DEFAULT 0, maintainer_can_modify INTEGER NOT NULL DEFAULT 1,
    mergeable INTEGER, computed_for TEXT, test_merge_sha TEXT, conflicts TEXT,
    merged INTEGER NOT NULL DEFAULT 0, merge_commit_sha TEXT, merged_by_id INTEGER,
    UNIQUE(repo_id, number))""")
register_schema("CREATE INDEX IF NOT EXISTS pulls_head ON pulls(repo_id, head_ref)")
register_schema("CREATE INDEX IF NOT EXISTS pulls_base ON pulls(repo_id, base_ref)")
register_schema("""CREATE TABLE IF NOT EXISTS reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT, pull_id INTEGER NOT NULL, repo_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL, state TEXT NOT NULL, body TEXT NOT NULL DEFAULT '',
    commit_id TEXT NOT NULL, submitted_at TEXT)""")
register_schema("""CREATE TABLE IF NOT EXISTS review_comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT, pull_id INTEGER NOT NULL, repo_id INTEGER NOT NULL,
    review_id INTEGER, user_id INTEGER NOT NULL, path TEXT NOT NULL, line INTEGER,
    side TEXT NOT NULL DEFAULT 'RIGHT', start_line INTEGER, commit_id TEXT NOT NULL,
    diff_hunk TEXT NOT NULL DEFAULT '', body TEXT NOT NULL, in_reply_to_id INTEGER,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""")

PULL_SELECT = "SELECT i.*, p.* FROM pulls p JOIN issues i ON i.id=p.issue_id"


def insert_pull(
    store: Store,
    repo_id: int,
    user_id: int,
    title: str,
    body: str | None,
    head: tuple[str, str],
    base: tuple[str, str],
    draft: bool,
    mcm: bool,
) -> Row:
    """Allocate the next issue number and insert the issue + pull rows; return the joined row."""
    stamp = now_iso()
    with store.write() as db:
        number = store.allocate_number(db, repo_id)
        cur = db.execute(
            "INSERT INTO issues(repo_id, number, title, body, user_id, is_pull, created_at, updated_at)"
            " VALUES (?,?,?,?,?,1,?,?)",
            (repo_id, number, title, body, user_id, stamp, stamp),
        )
        issue_id = int(cur.lastrowid or 0)
        db.execute(
            "INSERT INTO pulls(issue_id, repo_id, number, head_ref, head_sha, base_ref, base_sha, draft,"
            " maintainer_can_modify) VALUES (?,?,?,?,?,?,?,?,?)",
            (issue_id, repo_id, number, head[0], head[1], base[0], base[1], int(draft), int(mcm)),
        )
    return pull_by_issue(store, issue_id)


def pull_by_issue(store: Store, issue_id: int) -> Row:
    return store.get(PULL_SELECT + " WHERE p.issue_id=?", (issue_id,))


def pull(store: Store, repo_id: int, number: int) -> Row | None:
    return store.one(PULL_SELECT + " WHERE p.repo_id=? AND p.number=?", (repo_id, number))


def pulls(
    store: Store,
    repo_id: int,
    state: str = "open",
    head: str | None = None,
    base: str | None = None,
    sort: str = "created",
    direction: str = "desc",
) -> list[Row]:
    """Pulls of a repo filtered as `GET /pulls` filters them."""
    sql, args = PULL_SELECT + " WHERE p.repo_id=?", [str(repo_id)]
    if state in ("open", "closed"):
        sql += " AND i.state=?"
        args.append(state)
    if head is not None:
        sql += " AND p.head_ref=?"
        args.append(head)
    if base is not None:
        sql += " AND p.base_ref=?"
        args.append(base)
    column = {"updated": "i.updated_at", "created": "i.created_at"}.get(sort, "i.created_at")
    order = "ASC" if direction == "asc" else "DESC"
    sql += f" ORDER BY {column} {order}, i.number {order}"
    return store.all(sql, args)


def open_pulls_on(store: Store, repo_id: int, *, head_ref: str | None = None, base_ref: str | None = None) -> list[Row]:
    """Open pulls whose head (or base) is the given branch."""
    column, value = ("p.head_ref", head_ref) if head_ref is not None else ("p.base_ref", base_ref)
    return store.all(
        PULL_SELECT + f" WHERE p.repo_id=? AND i.state='open' AND {column}=? ORDER BY i.number", (repo_id, value)
    )


def update_pull(store: Store, issue_id: int, **fields: object) -> None:
    """Set columns of the `pulls` row."""
    if fields:
        with store.write() as db:
            _update(db, "pulls", "issue_id", issue_id, fields)


def update_issue(store: Store, issue_id: int, **fields: object) -> None:
    """Set columns of the PR's `issues` row (and its `updated_at`)."""
    fields.setdefault("updated_at", now_iso())
    with store.write() as db:
        _update(db, "issues", "id", issue_id, fields)


def _update(db: sqlite3.Connection, table: str, key: str, value: int, fields: dict[str, object]) -> None:
    columns = ", ".join(f"{name}=?" for name in fields)
    db.execute(f"UPDATE {table} SET {columns} WHERE {key}=?", [*fields.values(), value])


def pending_mergeability(store: Store, issue_id: int, base_sha: str, head_sha: str) -> None:
    """Forget the mergeability (GitHub's `null`) after a push changed head or base."""
    update_pull(
        store,
        issue_id,
        mergeable=None,
        computed_for=None,
        test_merge_sha=None,
        conflicts=None,
        base_sha=base_sha,
        head_sha=head_sha,
    )


# -- reviews --------------------------------------------------------------------------------
def insert_review(store: Store, pull: Row, user_id: int, state: str, body: str, commit_id: str) -> Row:
    with store.write() as db:
        cur = db.execute(
            "INSERT INTO reviews(pull_id, repo_id, user_id, state, body, commit_id, submitted_at)"
            " VALUES (?,?,?,?,?,?,?)",
            (
                pull["issue_id"],
                pull["repo_id"],
                user_id,
                state,
                body,
                commit_id,
                None if state == "PENDING" else now_iso(),
            ),
        )
        review_id = int(cur.lastrowid or 0)
    return store.get("SELECT * FROM reviews WHERE id=?", (review_id,))


def reviews(store: Store, pull_id: int) -> list[Row]:
    return store.all("SELECT * FROM reviews WHERE pull_id=? ORDER BY id", (pull_id,))


def insert_review_comment(store: Store, pull: Row, user_id: int, review_id: int | None, fields: dict) -> Row:
    stamp = now_iso()
    with store.write() as db:
        cur = db.execute(
            "INSERT INTO review_comments(pull_id, repo_id, review_id, user_id, path, line, side, start_line,"
            " commit_id, diff_hunk, body, in_reply_to_id, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                pull["issue_id"],
                pull["repo_id"],
                review_id,
                user_id,
                fields["path"],
                fields.get("line"),
                fields.get("side") or "RIGHT",
                fields.get("start_line"),
                fields["commit_id"],
                fields.get("diff_hunk", ""),
                fields["body"],
                fields.get("in_reply_to"),
                stamp,
                stamp,
            ),
        )
        comment_id = int(cur.lastrowid or 0)
    return store.get("SELECT * FROM review_comments WHERE id=?", (comment_id,))


def review_comments(store: Store, pull_id: int) -> list[Row]:
    return store.all("SELECT * FROM review_comments WHERE pull_id=? ORDER BY id", (pull_id,))


def review_comment(store: Store, comment_id: int) -> Row | None:
    return store.one("SELECT * FROM review_comments WHERE id=?", (comment_id,))
