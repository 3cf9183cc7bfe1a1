"""The tables of merge queue entries and auto-merge requests."""

from __future__ import annotations

from typing import Any

from localhub.store import Row, Store, now_iso, register_schema

register_schema("""CREATE TABLE IF NOT EXISTS merge_queue_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT, repo_id INTEGER NOT NULL, base_ref TEXT NOT NULL,
    pull_id INTEGER NOT NULL UNIQUE, number INTEGER NOT NULL, head_sha TEXT NOT NULL,
    enqueuer_id INTEGER NOT NULL, enqueued_at TEXT NOT NULL, jump INTEGER NOT NULL DEFAULT 0,
    rank REAL NOT NULL, state TEXT NOT NULL DEFAULT 'QUEUED', group_ref TEXT, group_sha TEXT,
    group_base_sha TEXT, built_at TEXT)""")
register_schema("""CREATE TABLE IF NOT EXISTS auto_merge_requests (
    pull_id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL, merge_method TEXT NOT NULL,
    enabled_by_id INTEGER NOT NULL, enabled_at TEXT NOT NULL, commit_headline TEXT, commit_body TEXT,
    author_email TEXT)""")


def entries(store: Store, repo_id: int, base_ref: str) -> list[Row]:
    """The queue of one base branch, first entry first."""
    return store.all(
        "SELECT * FROM merge_queue_entries WHERE repo_id=? AND base_ref=? ORDER BY rank, id", (repo_id, base_ref)
    )


def queued_bases(store: Store, repo_id: int) -> list[str]:
    return [
        r["base_ref"]
        for r in store.all("SELECT DISTINCT base_ref FROM merge_queue_entries WHERE repo_id=?", (repo_id,))
    ]


def entry_for_pull(store: Store, pull_id: int) -> Row | None:
    return store.one("SELECT * FROM merge_queue_entries WHERE pull_id=?", (pull_id,))


def entry(store: Store, entry_id: int) -> Row | None:
    return store.one("SELECT * FROM merge_queue_entries WHERE id=?", (entry_id,))


def entries_with_group(store: Store, repo_id: int, sha: str) -> list[Row]:
    return store.all("SELECT * FROM merge_queue_entries WHERE repo_id=? AND group_sha=?", (repo_id, sha))


def add_entry(store: Store, pull: Row, enqueuer_id: int, jump: bool) -> Row:
    with store.write() as db:
        ranks = db.execute(
            "SELECT MIN(rank), MAX(rank) FROM merge_queue_entries WHERE repo_id=? AND base_ref=?",
            (pull["repo_id"], pull["base_ref"]),
        ).fetchone()
        rank = ((ranks[0] or 0) - 1) if jump else ((ranks[1] or 0) + 1)
        cur = db.execute(
            "INSERT INTO merge_queue_entries(repo_id, base_ref, pull_id, number, head_sha, enqueuer_id, enqueued_at,"
            " jump, rank) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                pull["repo_id"],
                pull["base_ref"],
                pull["issue_id"],
                pull["number"],
                pull["head_sha"],
                enqueuer_id,
                now_iso(),
                int(jump),
                rank,
            ),
        )
        entry_id = int(cur.lastrowid or 0)
    return store.get("SELECT * FROM merge_queue_entries WHERE id=?", (entry_id,))


def update_entry(store: Store, entry_id: int, **fields: Any) -> None:
    columns = ", ".join(f"{name}=?" for name in fields)
    with store.write() as db:
        db.execute(f"UPDATE merge_queue_entries SET {columns} WHERE id=?", [*fields.values(), entry_id])


def remove_entry(store: Store, entry_id: int) -> None:
    with store.write() as db:
        db.execute("DELETE FROM merge_queue_entries WHERE id=?", (entry_id,))


# -- auto-merge ------------------------------------------------------------------------------------
def auto_merge(store: Store, pull_id: int) -> Row | None:
    return store.one("SELECT * FROM auto_merge_requests WHERE pull_id=?", (pull_id,))


def set_auto_merge(
    store: Store, pull: Row, user_id: int, method: str, headline: str | None, body: str | None, email: str | None
) -> None:
    with store.write() as db:
        db.execute(
            "INSERT OR REPLACE INTO auto_merge_requests(pull_id, repo_id, merge_method, enabled_by_id,"
            " enabled_at, commit_headline, commit_body, author_email) VALUES (?,?,?,?,?,?,?,?)",
            (pull["issue_id"], pull["repo_id"], method, user_id, now_iso(), headline, body, email),
        )


def clear_auto_merge(store: Store, pull_id: int) -> bool:
    with store.write() as db:
        cur = db.execute("DELETE FROM auto_merge_requests WHERE pull_id=?", (pull_id,))
    return cur.rowcount == 1


def auto_merges(store: Store, repo_id: int) -> list[Row]:
    return store.all("SELECT * FROM auto_merge_requests WHERE repo_id=? ORDER BY enabled_at, pull_id", (repo_id,))
