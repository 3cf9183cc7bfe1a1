"""Check runs, suites and statuses as GitHub shows them: shapes and life-cycle events.

`Checks` is used by the REST blueprint (apps creating and updating runs, anyone with push access
posting statuses) and by local CI (through `localhub.workflows`): every change emits `check_run`
created/completed, `check_suite` completed when the last run of a suite completes, and `status`,
then calls the `on_change(repo, sha)` callbacks (required checks, the merge queue, auto-merge).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from localhub import checkstore, gitshapes, protection, pullstore
from localhub.repos import git_for
from localhub.shapes import JSON, Shapes, node_id
from localhub.store import Row


@dataclass(frozen=True)
class AppInfo:
    """The GitHub App a check suite belongs to."""

    id: int
    slug: str
    name: str


ACTIONS_APP = AppInfo(15368, "github-actions", "GitHub Actions")  # GitHub Actions' own App
ACTIONS_BOT = "github-actions[bot]"
APP_EVENTS = ["check_run", "check_suite", "pull_request", "push"]
APP_PERMISSIONS = {"checks": "write", "contents": "read", "metadata": "read", "pull_requests": "read"}


class Checks:
    """Check-side operations of one hub; `shapes_for()` gives serializers for a web root."""

    def __init__(self, hub: Any) -> None:
        self.hub = hub
        self.store = hub.store
        self.apps: dict[int, AppInfo] = {ACTIONS_APP.id: ACTIONS_APP}
        #: `callback(repo, sha)` after a check run or a status of that commit changed.
        self.on_change: list[Callable[[Row, str], None]] = []

    # -- shapes -----------------------------------------------------------------------------
    def app(self, shapes: Shapes, app_id: int) -> JSON:
        info = self.apps.get(app_id) or AppInfo(app_id, f"app-{app_id}", f"App {app_id}")
        owner = self.store.ensure_user("localhub", "Organization")
        return {
            "id": info.id,
            "slug": info.slug,
            "node_id": node_id("A", info.id),
            "client_id": f"Iv1.localhub{info.id}",
            "owner": shapes.user(owner),
            "name": info.name,
            "description": "",
            "external_url": shapes.web,
            "html_url": f"{shapes.web}/apps/{info.slug}",
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "permissions": dict(APP_PERMISSIONS),
            "events": list(APP_EVENTS),
        }

    def pull_minimals(self, shapes: Shapes, repo: Row, sha: str) -> list[JSON]:
        rows = self.store.all(
            pullstore.PULL_SELECT + " WHERE p.repo_id=? AND i.state='open' AND p.head_sha=?", (repo["id"], sha)
        )
        api = f"{shapes.api}/repos/{shapes.repo_full_name(repo['id'])}"
        mini_repo = {"id": repo["id"], "url": api, "name": repo["name"]}
        return [
            {
                "id": p["issue_id"],
                "number": p["number"],
                "url": f"{api}/pulls/{p['number']}",
                "head": {"ref": p["head_ref"], "sha": p["head_sha"], "repo": mini_repo},
                "base": {"ref": p["base_ref"], "sha": p["base_sha"], "repo": mini_repo},
            }
            for p in rows
        ]

    def suite(self, shapes: Shapes, suite: Row) -> JSON:
        """`check-suite` (REST) and the webhook `check_suite`."""
        repo = self.store.repo_by_id(suite["repo_id"])
        api = f"{shapes.api}/repos/{shapes.repo_full_name(repo['id'])}"
        data: JSON = {
            "id": suite["id"],
            "node_id": node_id("CS", suite["id"]),
            "head_branch": suite["head_branch"],
            "head_sha": suite["head_sha"],
            "status": suite["status"],
            "conclusion": suite["conclusion"],
            "url": f"{api}/check-suites/{suite['id']}",
            "before": None,
            "after": suite["head_sha"],
            "pull_requests": self.pull_minimals(shapes, repo, suite["head_sha"]),
            "app": self.app(shapes, suite["app_id"]),
            "created_at": suite["created_at"],
            "updated_at": suite["updated_at"],
            "rerequestable": False,
            "runs_rerequestable": False,
        }
        count = len(
            [r for r in checkstore.runs_for(self.store, repo["id"], suite["head_sha"]) if r["suite_id"] == suite["id"]]
        )
        data.update(
            {
                "repository": shapes.repo(repo, webhook=True),  # `minimal-repository`
                "head_commit": self.head_commit(repo, suite["head_sha"]),
                "latest_check_runs_count": count,
                "check_runs_url": f"{api}/check-suites/{suite['id']}/check-runs",
            }
        )
        return data

    def head_commit(self, repo: Row, sha: str) -> JSON:
        info = git_for(self.store, repo).commit(sha)
        return {
            "id": info.sha,
            "tree_id": info.tree,
            "message": info.message,
            "timestamp": info.committer_date,
            "author": {"name": info.author_name, "email": info.author_email},
            "committer": {"name": info.committer_name, "email": info.committer_email},
        }

    def run(self, shapes: Shapes, run: Row, webhook: bool = False) -> JSON:
        repo = self.store.repo_by_id(run["repo_id"])
        full = shapes.repo_full_name(repo["id"])
        suite = checkstore.suite(self.store, run["suite_id"])
        url = f"{shapes.api}/repos/{full}/check-runs/{run['id']}"
        html = f"{shapes.web}/{full}/runs/{run['id']}"
        return {
            "id": run["id"],
            "node_id": node_id("CR", run["id"]),
            "head_sha": run["head_sha"],
            "external_id": run["external_id"],
            "url": url,
            "html_url": html,
            "details_url": run["details_url"] or html,
            "status": run["status"],
            "conclusion": run["conclusion"],
            "started_at": run["started_at"],
            "completed_at": run["completed_at"],
            "name": run["name"],
            "output": {
                "title": run["output_title"],
                "summary": run["output_summary"],
                "text": run["output_text"],
                "annotations_count": 0,
                "annotations_url": f"{url}/annotations",
            },
            "check_suite": self.suite(shapes, suite) if webhook else {"id": suite["id"]},
            "app": self.app(shapes, suite["app_id"]),
            "pull_requests": self.pull_minimals(shapes, repo, run["head_sha"]),
        }

    def status(self, shapes: Shapes, row: Row) -> JSON:
        full = shapes.repo_full_name(row["repo_id"])
        creator = shapes.user_by_id(row["creator_id"])
        return {
            "url": f"{shapes.api}/repos/{full}/statuses/{row['sha']}",
            "avatar_url": creator["avatar_url"] if creator else None,
            "id": row["id"],
            "node_id": node_id("SC", row["id"]),
            "state": row["state"],
            "description": row["description"],
            "target_url": row["target_url"],
            "context": row["context"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "creator": creator,
        }

    # -- life cycle -------------------------------------------------------------------------
    def create_run(
        self, repo: Row, app_id: int, name: str, sha: str, branch: str | None, fields: dict[str, Any], sender: Row
    ) -> Row:
        """A new run (and its suite if needed); emits check_run created (+ completed if so)."""
        suite, _ = checkstore.suite_for(self.store, repo["id"], sha, branch, app_id)
        row = checkstore.insert_run(self.store, suite, name, fields)
        self._emit_run(repo, row, "created", sender)
        self._after_change(repo, row, sender, was_completed=False)
        return row

    def update_run(self, repo: Row, run_id: int, fields: dict[str, Any], sender: Row) -> Row:
        before = checkstore.run(self.store, run_id)
        row = checkstore.update_run(self.store, run_id, fields)
        self._after_change(repo, row, sender, was_completed=before["status"] == "completed")
        return row

    def _after_change(self, repo: Row, row: Row, sender: Row, was_completed: bool) -> None:
        if row["status"] == "completed" and not was_completed:
            self._emit_run(repo, row, "completed", sender)
        suite, finished = checkstore.roll_up_suite(self.store, row["suite_id"])
        if finished:
            shapes = self.hub.shapes()
            self.hub.events.emit(
                repo,
                "check_suite",
                {
                    "action": "completed",
                    "check_suite": self.suite(shapes, suite),
                    "repository": shapes.repo(repo, webhook=True),
                    "sender": shapes.user(sender),
                },
            )
        self.changed(repo, row["head_sha"])

    def changed(self, repo: Row, sha: str) -> None:
        """Tell the `on_change` callbacks that the checks or statuses of `sha` changed."""
        for callback in list(self.on_change):
            callback(repo, sha)

    def _emit_run(self, repo: Row, row: Row, action: str, sender: Row) -> None:
        shapes = self.hub.shapes()
        self.hub.events.emit(
            repo,
            "check_run",
            {
                "action": action,
                "check_run": self.run(shapes, row, webhook=True),
                "repository": shapes.repo(repo, webhook=True),
                "sender": shapes.user(sender),
            },
        )

    def emit_status(self, repo: Row, row: Row, sender: Row) -> None:
        """The `status` event (no `action`) for a new commit status."""
        shapes = self.hub.shapes()
        full = shapes.repo_full_name(repo["id"])
        git = git_for(self.store, repo)
        protected = protection.protected_branches(self.store, repo["id"])
        branches = [
            {
                "name": name,
                "protected": name in protected,
                "commit": {"sha": sha, "url": f"{shapes.api}/repos/{full}/commits/{sha}"},
            }
            for name, sha in git.branches().items()
            if sha == row["sha"]
        ]
        self.hub.events.emit(
            repo,
            "status",
            {
                "id": row["id"],
                "sha": row["sha"],
                "name": full,
                "target_url": row["target_url"],
                "avatar_url": None,
                "context": row["context"],
                "description": row["description"],
                "state": row["state"],
                "commit": gitshapes.commit(shapes, full, git, row["sha"], with_files=False),
                "branches": branches,
                "created_at": row["created_at"],
                "updated_at": row["updated_at"],
                "repository": shapes.repo(repo, webhook=True),
                "sender": shapes.user(sender),
            },
        )
        self.changed(repo, row["sha"])
