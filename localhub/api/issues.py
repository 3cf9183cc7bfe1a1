"""Issues, their comments and events: create, get, update, list; comments list/create/update/delete; events list.

Bodies (issues and comments) are refused over GitHub's 65,536 characters with GitHub's 422.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from localhub import issueevents, payloads
from localhub import issues as model
from localhub.rest import (
    authorized_repo,
    authorized_repo_and_caller,
    body_json,
    check_body,
    has_permission,
    hub,
    invalid,
    json_response,
    no_content,
    not_found,
    paginate,
    repo_or_404,
    require_author_or,
    require_caller,
    shapes,
)
from localhub.store import Row, now_iso

bp = Blueprint("issues", __name__)


def issue_or_404(repo: Row, number: int) -> Row:
    issue = hub().store.issue(repo["id"], number)
    if issue is None:
        not_found()
    return issue


def emit_issue(repo: Row, action: str, issue: Row, user: Row, **extra: Any) -> None:
    """Record the issue event and emit an `issues` event; for a PR, tell `hub.pull_issue_changes`
    (they emit `pull_request`)."""
    issueevents.record_action(hub().store, issue, user, action, extra)
    if issue["is_pull"]:
        for callback in list(hub().pull_issue_changes):
            callback(repo, action, issue, user, extra)
        return
    hub().events.emit(repo, "issues", payloads.issues_event(shapes(), action, issue, user, **extra))


def users_by_login(logins: list[Any]) -> list[Row]:
    found = []
    for login in logins:
        user = hub().store.user_by_login(str(login))
        if user is None:
            invalid("Issue", "assignees", "invalid", f"Could not resolve to a User with the login of '{login}'.")
        found.append(user)
    return found


def apply_labels(repo: Row, issue: Row, user: Row, names: list[Any], replace: bool) -> Row:
    added, removed = model.set_labels(hub().store, issue, [str(_label_name(n)) for n in names], replace)
    issue = model.update_fields(hub().store, issue, {})
    for label in removed:
        emit_issue(repo, "unlabeled", issue, user, label=shapes().label(label))
    for label in added:
        emit_issue(repo, "labeled", issue, user, label=shapes().label(label))
    return issue


def apply_assignees(repo: Row, issue: Row, user: Row, logins: list[Any], mode: str) -> Row:
    added, removed = model.set_assignees(hub().store, issue, users_by_login(logins), mode)
    issue = model.update_fields(hub().store, issue, {})
    for person in removed:
        emit_issue(repo, "unassigned", issue, user, assignee=shapes().user(person))
    for person in added:
        emit_issue(repo, "assigned", issue, user, assignee=shapes().user(person))
    return issue


def _label_name(item: Any) -> Any:
    return item.get("name") if isinstance(item, dict) else item


@bp.post("/repos/<owner>/<name>/issues")
def create_issue(owner: str, name: str) -> Response:
    repo, user = authorized_repo_and_caller(owner, name, "read")
    data = body_json()
    title = data.get("title")
    if not isinstance(title, str | int) or str(title).strip() == "":
        invalid("Issue", "title")
    check_body("Issue", data.get("body"))
    triage = has_permission(repo, "triage")  # GitHub silently drops labels/assignees for others
    logins = list(data.get("assignees") or []) + ([data["assignee"]] if data.get("assignee") else [])
    people = users_by_login(logins) if triage else []
    store = hub().store
    issue = model.create_issue(store, repo, user, str(title), data.get("body"))
    labels: list[Row] = []
    if triage:
        labels, _ = model.set_labels(store, issue, [str(_label_name(n)) for n in data.get("labels") or []], False)
        people, _ = model.set_assignees(store, issue, people, "add")
        issue = model.update_fields(store, issue, {})
    # As on GitHub: `opened` already shows the labels and assignees; `labeled`/`assigned` follow.
    emit_issue(repo, "opened", issue, user)
    for label in labels:
        emit_issue(repo, "labeled", issue, user, label=shapes().label(label))
    for person in people:
        emit_issue(repo, "assigned", issue, user, assignee=shapes().user(person))
    resp = json_response(shapes().issue(issue), 201)
    resp.headers["Location"] = shapes().issue(issue)["url"]
    return resp


@bp.get("/repos/<owner>/<name>/issues")
def list_issues(owner: str, name: str) -> Response:
    repo = authorized_repo(owner, name, "read")
    rows = model.list_issues(hub().store, repo["id"], dict(request.args))
    return paginate(rows, shapes().issue)


@bp.get("/repos/<owner>/<name>/issues/<int:number>")
def get_issue(owner: str, name: str, number: int) -> Response:
    repo = authorized_repo(owner, name, "read")
    return json_response(shapes().issue(issue_or_404(repo, number)))


@bp.patch("/repos/<owner>/<name>/issues/<int:number>")
def update_issue(owner: str, name: str, number: int) -> Response:
    repo = repo_or_404(owner, name)
    user = require_caller()
    issue = issue_or_404(repo, number)
    require_author_or(repo, user, issue, "triage")
    data = body_json()
    check_body("Issue", data.get("body"))
    store = hub().store
    changes = {k: {"from": issue[k]} for k in ("title", "body") if k in data and data[k] != issue[k]}
    if "title" in data and not str(data["title"] or "").strip():
        invalid("Issue", "title")
    issue = model.update_fields(store, issue, {k: data[k] for k in changes})
    if changes:
        emit_issue(repo, "edited", issue, user, changes=changes)
    issue = _apply_state(repo, issue, user, data)
    if "labels" in data and has_permission(repo, "triage"):
        issue = apply_labels(repo, issue, user, list(data["labels"] or []), replace=True)
    if ("assignees" in data or "assignee" in data) and has_permission(repo, "triage"):
        logins = (
            list(data.get("assignees") or []) if "assignees" in data else [data["assignee"]] * bool(data["assignee"])
        )
        issue = apply_assignees(repo, issue, user, logins, "replace")
    return json_response(shapes().issue(issue))


def _apply_state(repo: Row, issue: Row, user: Row, data: dict[str, Any]) -> Row:
    state, reason = data.get("state"), data.get("state_reason")
    if state not in (None, "open", "closed"):
        invalid("Issue", "state", "invalid")
    if reason not in (None, "completed", "not_planned", "reopened", "duplicate"):
        invalid("Issue", "state_reason", "invalid")
    store = hub().store
    if state == "closed" and issue["state"] == "open":
        issue = model.close(store, issue, user, reason or "completed")
        emit_issue(repo, "closed", issue, user)
    elif state == "open" and issue["state"] == "closed":
        issue = model.reopen(store, issue)
        emit_issue(repo, "reopened", issue, user)
    elif reason and issue["state"] == "closed" and reason != issue["state_reason"]:
        issue = model.update_fields(store, issue, {"state_reason": reason})
    return issue


@bp.get("/repos/<owner>/<name>/issues/<int:number>/events")
def list_events(owner: str, name: str, number: int) -> Response:
    """The issue's (or PR's) events, oldest first: labeled, unlabeled, assigned, unassigned, renamed,
    closed, reopened, merged (`localhub/issueevents.py`)."""
    repo = authorized_repo(owner, name, "read")
    issue = issue_or_404(repo, number)
    return paginate(issueevents.events_of(hub().store, issue["id"]), lambda row: issueevents.shape(shapes(), row))


# -- comments ------------------------------------------------------------------------------
def comment_or_404(repo: Row, comment_id: int) -> Row:
    row = hub().store.one("SELECT * FROM comments WHERE id=? AND repo_id=?", (comment_id, repo["id"]))
    if row is None:
        not_found()
    return row


def _emit_comment(repo: Row, action: str, comment: Row, user: Row, **extra: Any) -> None:
    issue = hub().store.issue_by_id(comment["issue_id"])
    assert issue is not None
    payload = payloads.issue_comment_event(shapes(), action, issue, comment, user, **extra)
    hub().events.emit(repo, "issue_comment", payload)


@bp.get("/repos/<owner>/<name>/issues/<int:number>/comments")
def list_comments(owner: str, name: str, number: int) -> Response:
    repo = authorized_repo(owner, name, "read")
    issue = issue_or_404(repo, number)
    since = model._normal_since(request.args["since"]) if request.args.get("since") else ""
    rows = hub().store.all(
        "SELECT * FROM comments WHERE issue_id=? AND updated_at>=? ORDER BY id", (issue["id"], since)
    )
    return paginate(rows, shapes().comment)


@bp.get("/repos/<owner>/<name>/issues/comments")
def list_repo_comments(owner: str, name: str) -> Response:
    repo = authorized_repo(owner, name, "read")
    since = model._normal_since(request.args["since"]) if request.args.get("since") else ""
    order = "DESC" if request.args.get("direction") == "desc" else "ASC"
    rows = hub().store.all(
        f"SELECT * FROM comments WHERE repo_id=? AND updated_at>=? ORDER BY id {order}", (repo["id"], since)
    )
    return paginate(rows, shapes().comment)


@bp.post("/repos/<owner>/<name>/issues/<int:number>/comments")
def create_comment(owner: str, name: str, number: int) -> Response:
    repo, user = authorized_repo_and_caller(owner, name, "read")
    issue = issue_or_404(repo, number)
    body = body_json().get("body")
    if not isinstance(body, str) or not body:
        invalid("IssueComment", "body")
    check_body("IssueComment", body)
    stamp = now_iso()
    with hub().store.write() as db:
        cur = db.execute(
            "INSERT INTO comments(repo_id, issue_id, user_id, body, created_at, updated_at) VALUES (?,?,?,?,?,?)",
            (repo["id"], issue["id"], user["id"], body, stamp, stamp),
        )
        db.execute("UPDATE issues SET updated_at=? WHERE id=?", (stamp, issue["id"]))
        comment_id = cur.lastrowid
    comment = hub().store.get("SELECT * FROM comments WHERE id=?", (comment_id,))
    _emit_comment(repo, "created", comment, user)
    resp = json_response(shapes().comment(comment), 201)
    resp.headers["Location"] = shapes().comment(comment)["url"]
    return resp


@bp.get("/repos/<owner>/<name>/issues/comments/<int:comment_id>")
def get_comment(owner: str, name: str, comment_id: int) -> Response:
    repo = authorized_repo(owner, name, "read")
    return json_response(shapes().comment(comment_or_404(repo, comment_id)))


@bp.patch("/repos/<owner>/<name>/issues/comments/<int:comment_id>")
def update_comment(owner: str, name: str, comment_id: int) -> Response:
    repo = repo_or_404(owner, name)
    user = require_caller()
    comment = comment_or_404(repo, comment_id)
    require_author_or(repo, user, comment, "write")
    body = body_json().get("body")
    if not isinstance(body, str) or not body:
        invalid("IssueComment", "body")
    check_body("IssueComment", body)
    with hub().store.write() as db:
        db.execute("UPDATE comments SET body=?, updated_at=? WHERE id=?", (body, now_iso(), comment_id))
    updated = hub().store.get("SELECT * FROM comments WHERE id=?", (comment_id,))
    _emit_comment(repo, "edited", updated, user, changes={"body": {"from": comment["body"]}})
    return json_response(shapes().comment(updated))


@bp.delete("/repos/<owner>/<name>/issues/comments/<int:comment_id>")
def delete_comment(owner: str, name: str, comment_id: int) -> Response:
    repo = repo_or_404(owner, name)
    user = require_caller()
    comment = comment_or_404(repo, comment_id)
    require_author_or(repo, user, comment, "write")
    issue_comment = dict(comment)
    _emit_comment(repo, "deleted", issue_comment, user)
    with hub().store.write() as db:
        db.execute("DELETE FROM comments WHERE id=?", (comment_id,))
    return no_content()
