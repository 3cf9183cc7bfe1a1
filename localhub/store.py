"""The SQLite state of a localhub: one WAL file, one write lock, tables other modules may extend."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Row = dict[str, Any]

SCHEMA: list[str] = [
    """CREATE TABLE IF NOT EXISTS users (
        id INTEGER PRIMARY KEY AUTOINCREMENT, login TEXT UNIQUE NOT NULL COLLATE NOCASE,
        type TEXT NOT NULL DEFAULT 'User', name TEXT, email TEXT, created_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS tokens (
        hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL, kind TEXT NOT NULL,
        installation_id INTEGER, expires_at TEXT, label TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS repos (
        id INTEGER PRIMARY KEY AUTOINCREMENT, owner_id INTEGER NOT NULL, name TEXT NOT NULL COLLATE NOCASE,
        description TEXT, private INTEGER NOT NULL DEFAULT 0, default_branch TEXT NOT NULL DEFAULT 'main',
        ci_command TEXT, next_number INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL, pushed_at TEXT, UNIQUE(owner_id, name))""",
    """CREATE TABLE IF NOT EXISTS collaborators (
        repo_id INTEGER NOT NULL, user_id INTEGER NOT NULL, permission TEXT NOT NULL,
        PRIMARY KEY (repo_id, user_id))""",
    """CREATE TABLE IF NOT EXISTS issues (
        id INTEGER PRIMARY KEY AUTOINCREMENT, repo_id INTEGER NOT NULL, number INTEGER NOT NULL,
        title TEXT NOT NULL, body TEXT, state TEXT NOT NULL DEFAULT 'open', state_reason TEXT,
        user_id INTEGER NOT NULL, is_pull INTEGER NOT NULL DEFAULT 0, merged_at TEXT,
        parent_id INTEGER, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, closed_at TEXT,
        closed_by_id INTEGER, locked INTEGER NOT NULL DEFAULT 0, UNIQUE(repo_id, number))""",
    "CREATE INDEX IF NOT EXISTS issues_parent ON issues(parent_id)",
    """CREATE TABLE IF NOT EXISTS labels (
        id INTEGER PRIMARY KEY AUTOINCREMENT, repo_id INTEGER NOT NULL, name TEXT NOT NULL COLLATE NOCASE,
        color TEXT NOT NULL DEFAULT 'ededed', description TEXT, UNIQUE(repo_id, name))""",
    """CREATE TABLE IF NOT EXISTS issue_labels (
        issue_id INTEGER NOT NULL, label_id INTEGER NOT NULL, PRIMARY KEY (issue_id, label_id))""",
    """CREATE TABLE IF NOT EXISTS issue_assignees (
        issue_id INTEGER NOT NULL, user_id INTEGER NOT NULL, PRIMARY KEY (issue_id, user_id))""",
    """CREATE TABLE IF NOT EXISTS comments (
        id INTEGER PRIMARY KEY AUTOINCREMENT, repo_id INTEGER NOT NULL, issue_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS comments_issue ON comments(issue_id)",
    """CREATE TABLE IF NOT EXISTS hooks (
        id INTEGER PRIMARY KEY AUTOINCREMENT, repo_id INTEGER NOT NULL, url TEXT NOT NULL,
        secret TEXT, content_type TEXT NOT NULL DEFAULT 'json', insecure_ssl TEXT NOT NULL DEFAULT '0',
        events TEXT NOT NULL DEFAULT '["push"]', active INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT NOT NULL, hook_id INTEGER NOT NULL,
        repo_id INTEGER, installation_id INTEGER, event TEXT NOT NULL, action TEXT,
        url TEXT NOT NULL, payload TEXT NOT NULL, request_headers TEXT NOT NULL,
        redelivery INTEGER NOT NULL DEFAULT 0, delivered_at TEXT NOT NULL, status TEXT,
        status_code INTEGER, duration REAL, response_headers TEXT, response_body TEXT)""",
    "CREATE INDEX IF NOT EXISTS deliveries_hook ON deliveries(hook_id)",
    """CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
]

_registered: list[str] = []
_live_stores: weakref.WeakSet[Store] = weakref.WeakSet()


def register_schema(sql: str) -> None:
    """Add a `CREATE ... IF NOT EXISTS` statement that every store applies (now and at open).

    Other modules (pulls, checks, CI) call this at import time to own their tables.
    """
    if sql not in _registered:
        _registered.append(sql)
        for store in list(_live_stores):
            with store.write() as db:
                db.execute(sql)


def now_iso() -> str:
    """The current time as GitHub writes it: `2026-01-02T03:04:05Z`."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def token_hash(token: str) -> str:
    """The key under which a token is stored (tokens are never stored in clear)."""
    return hashlib.sha256(token.encode()).hexdigest()


class NotFound(LookupError):
    """A row the caller asked for does not exist."""


class Store:
    """Thread-safe access to the state file: reads from per-thread connections, writes under one lock."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.git_root = self.state_dir / "git"
        self.git_root.mkdir(exist_ok=True)
        self.path = self.state_dir / "localhub.sqlite3"
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._conn_lock = threading.Lock()
        self._write_lock = threading.RLock()
        with self.write() as db:
            for sql in [*SCHEMA, *_registered]:
                db.execute(sql)
        _live_stores.add(self)

    def _conn(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            con.row_factory = sqlite3.Row
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA busy_timeout=30000")
            con.execute("PRAGMA synchronous=NORMAL")
            self._local.con = con
            with self._conn_lock:
                self._connections.append(con)
        return con

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction under the process-wide lock (BEGIN IMMEDIATE across processes)."""
        with self._write_lock:
            con = self._conn()
            if con.in_transaction:  # nested: join the outer transaction
                yield con
                return
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def all(self, sql: str, args: tuple | list = ()) -> list[Row]:
        return [dict(r) for r in self._conn().execute(sql, args).fetchall()]

    def one(self, sql: str, args: tuple | list = ()) -> Row | None:
        row = self._conn().execute(sql, args).fetchone()
        return dict(row) if row is not None else None

    def get(self, sql: str, args: tuple | list = ()) -> Row:
        row = self.one(sql, args)
        if row is None:
            raise NotFound(sql)
        return row

    def close(self) -> None:
        _live_stores.discard(self)
        with self._conn_lock:
            for con in self._connections:
                con.close()
            self._connections.clear()
        self._local = threading.local()

    # -- settings ---------------------------------------------------------------------------
    def setting(self, key: str, default: str | None = None) -> str | None:
        row = self.one("SELECT value FROM settings WHERE key=?", (key,))
        return row["value"] if row else default

    def set_setting(self, key: str, value: str) -> None:
        with self.write() as db:
            db.execute("INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)", (key, value))

    # -- users and tokens -------------------------------------------------------------------
    def ensure_user(self, login: str, type_: str = "User") -> Row:
        with self.write() as db:
            db.execute(
                "INSERT OR IGNORE INTO users(login, type, created_at) VALUES (?, ?, ?)",
                (login, type_, now_iso()),
            )
        return self.get("SELECT * FROM users WHERE login=?", (login,))

    def user_by_login(self, login: str) -> Row | None:
        return self.one("SELECT * FROM users WHERE login=?", (login,))

    def user_by_id(self, user_id: int) -> Row:
        return self.get("SELECT * FROM users WHERE id=?", (user_id,))

    def add_token(
        self,
        token: str,
        user_id: int,
        kind: str = "pat",
        installation_id: int | None = None,
        expires_at: str | None = None,
    ) -> None:
        digest = token_hash(token)
        label = f"{kind}:{digest[:10]}"
        with self.write() as db:
            db.execute(
                "INSERT OR REPLACE INTO tokens(hash, user_id, kind, installation_id, expires_at, label)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (digest, user_id, kind, installation_id, expires_at, label),
            )

    def token(self, token: str) -> Row | None:
        return self.one("SELECT * FROM tokens WHERE hash=?", (token_hash(token),))

    # -- repositories -----------------------------------------------------------------------
    def repo(self, owner: str, name: str) -> Row | None:
        return self.one(
            "SELECT r.* FROM repos r JOIN users u ON u.id=r.owner_id WHERE u.login=? AND r.name=?",
            (owner, name),
        )

    def repo_by_id(self, repo_id: int) -> Row:
        return self.get("SELECT * FROM repos WHERE id=?", (repo_id,))

    def repos(self) -> list[Row]:
        return self.all("SELECT * FROM repos ORDER BY id")

    def git_path(self, owner_login: str, name: str) -> Path:
        return self.git_root / owner_login / f"{name}.git"

    def permission(self, repo: Row, user: Row) -> str | None:
        """`admin`, `maintain`, `write`, `triage`, `read` or None for a user on a repo."""
        if user["id"] == repo["owner_id"]:
            return "admin"
        row = self.one("SELECT permission FROM collaborators WHERE repo_id=? AND user_id=?", (repo["id"], user["id"]))
        return row["permission"] if row else None

    # -- issue numbers ----------------------------------------------------------------------
    def allocate_number(self, db: sqlite3.Connection, repo_id: int) -> int:
        """The next issue/PR number of a repo (call inside `write()`); one dense sequence."""
        row = db.execute("SELECT next_number FROM repos WHERE id=?", (repo_id,)).fetchone()
        number = int(row[0])
        db.execute("UPDATE repos SET next_number=? WHERE id=?", (number + 1, repo_id))
        return number

    def issue(self, repo_id: int, number: int) -> Row | None:
        return self.one("SELECT * FROM issues WHERE repo_id=? AND number=?", (repo_id, number))

    def issue_by_id(self, issue_id: int) -> Row | None:
        return self.one("SELECT * FROM issues WHERE id=?", (issue_id,))
