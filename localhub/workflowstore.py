"""The tables of Actions workflow runs and their jobs (a job's id is its check run's id)."""

from __future__ import annotations

import json
from typing import Any

from localhub.store import Row, Store, now_iso, register_schema

register_schema("""CREATE TABLE IF NOT EXISTS workflow_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, repo_id INTEGER NOT NULL, check_suite_id INTEGER NOT NULL,
    head_sha TEXT NOT NULL, head_branch TEXT, event TEXT NOT NULL, status TEXT NOT NULL,
    conclusion TEXT, run_number INTEGER NOT NULL, actor_id INTEGER, created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL, run_started_at TEXT NOT NULL)""")
register_schema("CREATE INDEX IF NOT EXISTS workflow_runs_repo ON workflow_runs(repo_id, head_sha)")
register_schema("""CREATE TABLE IF NOT EXISTS workflow_jobs (
    id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, repo_id INTEGER NOT NULL, name TEXT NOT NULL,
    status TEXT NOT NULL, conclusion TEXT, steps TEXT NOT NULL DEFAULT '[]', log TEXT,
    created_at TEXT NOT NULL, started_at TEXT NOT NULL, completed_at TEXT)""")
register_schema("CREATE INDEX IF NOT EXISTS workflow_jobs_run ON workflow_jobs(run_id)")

#: `status` filter values of `GET .../actions/runs` that are conclusions rather than statuses.
RUN_CONCLUSIONS = ("action_required", "cancelled", "failure", "neutral", "skipped", "stale", "success", "timed_out")


def insert_run(
    store: Store, repo_id: int, suite_id: int, sha: str, branch: str, event: str, actor_id: int | None
) -> Row:
    stamp = now_iso()
    with store.write() as db:
        number = db.execute("SELECT COUNT(*) FROM workflow_runs WHERE repo_id=?", (repo_id,)).fetchone()[0] + 1
        cur = db.execute(
            "INSERT INTO workflow_runs(repo_id, check_suite_id, head_sha, head_branch, event, status, run_number,"
            " actor_id, created_at, updated_at, run_started_at) VALUES (?,?,?,?,?,'queued',?,?,?,?,?)",
            (repo_id, suite_id, sha, branch, event, number, actor_id, stamp, stamp, stamp),
        )
        run_id = int(cur.lastrowid or 0)
    return run(store, run_id)


def insert_job(store: Store, job_id: int, run_row: Row, name: str) -> Row:
    stamp = now_iso()
    with store.write() as db:
        db.execute(
            "INSERT INTO workflow_jobs(id, run_id, repo_id, name, status, created_at, started_at)"
            " VALUES (?,?,?,?,'queued',?,?)",
            (job_id, run_row["id"], run_row["repo_id"], name, stamp, stamp),
        )
    return job(store, job_id)


def update(store: Store, table: str, row_id: int, **fields: Any) -> None:
    """Set columns of a `workflow_runs` or `workflow_jobs` row (runs also get `updated_at`)."""
    if table == "workflow_runs":
        fields.setdefault("updated_at", now_iso())
    if "steps" in fields and not isinstance(fields["steps"], str):
        fields["steps"] = json.dumps(fields["steps"])
    columns = ", ".join(f"{name}=?" for name in fields)
    with store.write() as db:
        db.execute(f"UPDATE {table} SET {columns} WHERE id=?", [*fields.values(), row_id])


def run(store: Store, run_id: int) -> Row:
    return store.get("SELECT * FROM workflow_runs WHERE id=?", (run_id,))


def job(store: Store, job_id: int) -> Row:
    return store.get("SELECT * FROM workflow_jobs WHERE id=?", (job_id,))


def find_run(store: Store, repo_id: int, run_id: int) -> Row | None:
    return store.one("SELECT * FROM workflow_runs WHERE id=? AND repo_id=?", (run_id, repo_id))


def find_job(store: Store, repo_id: int, job_id: int) -> Row | None:
    return store.one("SELECT * FROM workflow_jobs WHERE id=? AND repo_id=?", (job_id, repo_id))


def jobs_of(store: Store, run_id: int) -> list[Row]:
    return store.all("SELECT * FROM workflow_jobs WHERE run_id=? ORDER BY id", (run_id,))


def runs(store: Store, repo_id: int, filters: dict[str, str]) -> list[Row]:
    """Runs of a repo, newest first, filtered as `GET .../actions/runs` filters them."""
    sql, args = "SELECT * FROM workflow_runs WHERE repo_id=?", [str(repo_id)]
    for key, column in (
        ("branch", "head_branch"),
        ("head_sha", "head_sha"),
        ("event", "event"),
        ("check_suite_id", "check_suite_id"),
    ):
        if filters.get(key):
            sql += f" AND {column}=?"
            args.append(filters[key])
    status = filters.get("status")
    if status:
        sql += " AND conclusion=?" if status in RUN_CONCLUSIONS else " AND status=?"
        args.append(status)
    return store.all(sql + " ORDER BY id DESC", args)


def unfinished_jobs(store: Store) -> list[Row]:
    return store.all("SELECT * FROM workflow_jobs WHERE status!='completed' ORDER BY id")
