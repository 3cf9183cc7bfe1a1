"""The tables of check suites, check runs and commit statuses, and how they roll up per commit."""

from __future__ import annotations

from typing import Any

from localhub.store import Row, Store, now_iso, register_schema

register_schema("""CREATE TABLE IF NOT EXISTS check_suites (
    id INTEGER PRIMARY KEY AUTOINCREMENT, repo_id INTEGER NOT NULL, head_sha TEXT NOT NULL,
    head_branch TEXT, app_id INTEGER NOT NULL, status TEXT NOT NULL DEFAULT 'queued', conclusion TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE(repo_id, head_sha, app_id))""")
register_schema("""CREATE TABLE IF NOT EXISTS check_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, suite_id INTEGER NOT NULL, repo_id INTEGER NOT NULL,
    head_sha TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL, conclusion TEXT,
    external_id TEXT NOT NULL DEFAULT '', details_url TEXT, started_at TEXT, completed_at TEXT,
    output_title TEXT, output_summary TEXT, output_text TEXT)""")
register_schema("CREATE INDEX IF NOT EXISTS check_runs_sha ON check_runs(repo_id, head_sha)")
register_schema("""CREATE TABLE IF NOT EXISTS statuses (
    id INTEGER PRIMARY KEY AUTOINCREMENT, repo_id INTEGER NOT NULL, sha TEXT NOT NULL,
    state TEXT NOT NULL, target_url TEXT, description TEXT, context TEXT NOT NULL,
    creator_id INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""")
register_schema("CREATE INDEX IF NOT EXISTS statuses_sha ON statuses(repo_id, sha)")

RUN_STATUSES = ("queued", "in_progress", "completed", "waiting", "requested", "pending")
CONCLUSIONS = ("action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out")
# The suite's conclusion is the first of these that any of its runs has (GitHub's precedence).
_PRECEDENCE = ("action_required", "cancelled", "timed_out", "failure", "stale", "neutral", "skipped", "success")
_FAILING = {"action_required", "cancelled", "timed_out", "failure", "stale"}


def suite_for(store: Store, repo_id: int, head_sha: str, head_branch: str | None, app_id: int) -> tuple[Row, bool]:
    """The app's suite for a commit, created if missing; (row, created)."""
    stamp = now_iso()
    with store.write() as db:
        cur = db.execute(
            "INSERT OR IGNORE INTO check_suites(repo_id, head_sha, head_branch, app_id, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?)",
            (repo_id, head_sha, head_branch, app_id, stamp, stamp),
        )
        created = cur.rowcount == 1
    row = store.get(
        "SELECT * FROM check_suites WHERE repo_id=? AND head_sha=? AND app_id=?", (repo_id, head_sha, app_id)
    )
    return row, created


def insert_run(store: Store, suite: Row, name: str, fields: dict[str, Any]) -> Row:
    """A new check run in `suite` with the (already validated) fields."""
    with store.write() as db:
        cur = db.execute(
            "INSERT INTO check_runs(suite_id, repo_id, head_sha, name, status, conclusion, external_id,"
            " details_url, started_at, completed_at, output_title, output_summary, output_text)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                suite["id"],
                suite["repo_id"],
                suite["head_sha"],
                name,
                fields.get("status", "queued"),
                fields.get("conclusion"),
                fields.get("external_id") or "",
                fields.get("details_url"),
                fields.get("started_at"),
                fields.get("completed_at"),
                fields.get("output_title"),
                fields.get("output_summary"),
                fields.get("output_text"),
            ),
        )
        run_id = int(cur.lastrowid or 0)
    return run(store, run_id)


def update_run(store: Store, run_id: int, fields: dict[str, Any]) -> Row:
    if fields:
        columns = ", ".join(f"{name}=?" for name in fields)
        with store.write() as db:
            db.execute(f"UPDATE check_runs SET {columns} WHERE id=?", [*fields.values(), run_id])
    return run(store, run_id)


def run(store: Store, run_id: int) -> Row:
    return store.get("SELECT * FROM check_runs WHERE id=?", (run_id,))


def suite(store: Store, suite_id: int) -> Row:
    return store.get("SELECT * FROM check_suites WHERE id=?", (suite_id,))


def runs_for(store: Store, repo_id: int, sha: str, latest: bool = True) -> list[Row]:
    """Check runs on a commit, newest first; `latest` keeps the newest run per (app, name)."""
    rows = store.all(
        "SELECT r.*, s.app_id FROM check_runs r JOIN check_suites s ON s.id=r.suite_id"
        " WHERE r.repo_id=? AND r.head_sha=? ORDER BY r.id DESC",
        (repo_id, sha),
    )
    if not latest:
        return rows
    seen: set[tuple[int, str]] = set()
    kept = []
    for row in rows:
        key = (row["app_id"], row["name"])
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


def suites_for(store: Store, repo_id: int, sha: str) -> list[Row]:
    return store.all("SELECT * FROM check_suites WHERE repo_id=? AND head_sha=? ORDER BY id", (repo_id, sha))


def roll_up_suite(store: Store, suite_id: int) -> tuple[Row, bool]:
    """Recompute a suite's status/conclusion from its latest runs; (row, became_completed)."""
    before = suite(store, suite_id)
    runs = [r for r in runs_for(store, before["repo_id"], before["head_sha"]) if r["suite_id"] == suite_id]
    if runs and all(r["status"] == "completed" for r in runs):
        status = "completed"
        present = {r["conclusion"] for r in runs}
        conclusion = next((c for c in _PRECEDENCE if c in present), "success")
    else:
        status = "in_progress" if any(r["status"] == "in_progress" for r in runs) else "queued"
        conclusion = None
    with store.write() as db:
        db.execute(
            "UPDATE check_suites SET status=?, conclusion=?, updated_at=? WHERE id=?",
            (status, conclusion, now_iso(), suite_id),
        )
    after = suite(store, suite_id)
    return after, status == "completed" and before["status"] != "completed"


# -- statuses ---------------------------------------------------------------------------------
def insert_status(store: Store, repo_id: int, sha: str, creator_id: int, fields: dict[str, Any]) -> Row:
    stamp = now_iso()
    with store.write() as db:
        cur = db.execute(
            "INSERT INTO statuses(repo_id, sha, state, target_url, description, context, creator_id,"
            " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                repo_id,
                sha,
                fields["state"],
                fields.get("target_url"),
                fields.get("description"),
                fields.get("context") or "default",
                creator_id,
                stamp,
                stamp,
            ),
        )
        status_id = int(cur.lastrowid or 0)
    return store.get("SELECT * FROM statuses WHERE id=?", (status_id,))


def statuses_for(store: Store, repo_id: int, sha: str, latest: bool = False) -> list[Row]:
    """Statuses of a commit, newest first; `latest` keeps the newest per context."""
    rows = store.all("SELECT * FROM statuses WHERE repo_id=? AND sha=? ORDER BY id DESC", (repo_id, sha))
    if not latest:
        return rows
    newest: dict[str, Row] = {}
    for row in rows:
        newest.setdefault(row["context"], row)
    return list(newest.values())


def combined_state(rows: list[Row]) -> str:
    """GitHub's combined status: failure if any error/failure, pending if any pending or none."""
    states = {r["state"] for r in rows}
    if states & {"error", "failure"}:
        return "failure"
    if not rows or "pending" in states:
        return "pending"
    return "success"


def head_state(store: Store, repo_id: int, sha: str) -> str | None:
    """How the checks and statuses of a commit stand: failure, pending, success, or None (none at all)."""
    runs = runs_for(store, repo_id, sha)
    statuses = statuses_for(store, repo_id, sha, latest=True)
    if not runs and not statuses:
        return None
    if any(r["conclusion"] in _FAILING for r in runs) or (statuses and combined_state(statuses) == "failure"):
        return "failure"
    if any(r["status"] != "completed" for r in runs) or (statuses and combined_state(statuses) == "pending"):
        return "pending"
    return "success"
