"""Sub-issues: add (by the child's **id**), list, remove (singular path), get the parent."""

from __future__ import annotations

from flask import Blueprint, Response

from localhub.api.issues import issue_or_404
from localhub.rest import (
    authorized_repo,
    authorized_repo_and_caller,
    body_json,
    hub,
    invalid,
    json_response,
    not_found,
    paginate,
    shapes,
)
from localhub.store import Row, Store, now_iso

bp = Blueprint("sub_issues", __name__)
MAX_SUB_ISSUES = 100


def _child_id() -> int:
    value = body_json().get("sub_issue_id")
    if not isinstance(value, int) or isinstance(value, bool):
        invalid("Issue", "sub_issue_id")
    return value


def _set_parent(store: Store, child: Row, parent: Row, parent_id: int | None) -> None:
    """Attach `child` to `parent_id` (None: detach it from `parent`); both count as updated now."""
    stamp = now_iso()
    with store.write() as db:
        db.execute("UPDATE issues SET parent_id=?, updated_at=? WHERE id=?", (parent_id, stamp, child["id"]))
        db.execute("UPDATE issues SET updated_at=? WHERE id=?", (stamp, parent["id"]))


@bp.post("/repos/<owner>/<name>/issues/<int:number>/sub_issues")
def add_sub_issue(owner: str, name: str, number: int) -> Response:
    repo, _ = authorized_repo_and_caller(owner, name, "triage")
    parent = issue_or_404(repo, number)
    data = body_json()
    store = hub().store
    child = store.issue_by_id(_child_id())
    if child is None or child["is_pull"]:
        invalid("Issue", "sub_issue_id", "invalid", "The provided sub-issue does not exist.")
    if child["id"] == parent["id"]:
        invalid("Issue", "sub_issue_id", "invalid", "An issue cannot be a sub-issue of itself.")
    if child["parent_id"] and child["parent_id"] != parent["id"] and not data.get("replace_parent"):
        invalid("Issue", "sub_issue_id", "invalid", "Sub issue may only have one parent")
    count = store.one("SELECT COUNT(*) AS n FROM issues WHERE parent_id=?", (parent["id"],))
    if count and count["n"] >= MAX_SUB_ISSUES and child["parent_id"] != parent["id"]:
        invalid("Issue", "sub_issue_id", "invalid", f"Parent cannot have more than {MAX_SUB_ISSUES} sub-issues")
    _set_parent(store, child, parent, parent["id"])
    return json_response(shapes().issue(store.issue_by_id(parent["id"])), 201)


@bp.get("/repos/<owner>/<name>/issues/<int:number>/sub_issues")
def list_sub_issues(owner: str, name: str, number: int) -> Response:
    repo = authorized_repo(owner, name, "read")
    parent = issue_or_404(repo, number)
    rows = hub().store.all("SELECT * FROM issues WHERE parent_id=? ORDER BY id", (parent["id"],))
    return paginate(rows, shapes().issue)


@bp.delete("/repos/<owner>/<name>/issues/<int:number>/sub_issue")
def remove_sub_issue(owner: str, name: str, number: int) -> Response:
    repo, _ = authorized_repo_and_caller(owner, name, "triage")
    parent = issue_or_404(repo, number)
    store = hub().store
    child = store.issue_by_id(_child_id())
    if child is None or child["parent_id"] != parent["id"]:
        not_found()
    _set_parent(store, child, parent, None)
    return json_response(shapes().issue(store.issue_by_id(parent["id"])))


@bp.get("/repos/<owner>/<name>/issues/<int:number>/parent")
def get_parent(owner: str, name: str, number: int) -> Response:
    repo = authorized_repo(owner, name, "read")
    child = issue_or_404(repo, number)
    parent = hub().store.issue_by_id(child["parent_id"]) if child["parent_id"] else None
    if parent is None:
        not_found()
    return json_response(shapes().issue(parent))
