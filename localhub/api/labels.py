"""Labels (repo and issue) and assignees."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, Response, request

from localhub import issues as model
from localhub.api.issues import apply_assignees, apply_labels, emit_issue, issue_or_404
from localhub.rest import (
    authorized_repo,
    authorized_repo_and_caller,
    body_json,
    collaborator_or_404,
    fail,
    hub,
    invalid,
    json_response,
    no_content,
    not_found,
    paginate,
    shapes,
)
from localhub.store import Row

bp = Blueprint("labels", __name__)
COLOR = re.compile(r"^[0-9a-fA-F]{6}$")


def label_or_404(repo: Row, name: str) -> Row:
    row = hub().store.one("SELECT * FROM labels WHERE repo_id=? AND name=?", (repo["id"], name))
    if row is None:
        not_found()
    return row


@bp.get("/repos/<owner>/<name>/labels")
def list_labels(owner: str, name: str) -> Response:
    repo = authorized_repo(owner, name, "read")
    rows = hub().store.all("SELECT * FROM labels WHERE repo_id=? ORDER BY name", (repo["id"],))
    return paginate(rows, shapes().label)


@bp.post("/repos/<owner>/<name>/labels")
def create_label(owner: str, name: str) -> Response:
    repo, _ = authorized_repo_and_caller(owner, name, "write")
    data = body_json()
    label_name = data.get("name")
    if not isinstance(label_name, str) or not label_name:
        invalid("Label", "name")
    color = str(data.get("color", "ededed")).lstrip("#")
    if not COLOR.match(color):
        invalid("Label", "color", "invalid")
    store = hub().store
    if store.one("SELECT id FROM labels WHERE repo_id=? AND name=?", (repo["id"], label_name)):
        invalid("Label", "name", "already_exists")
    with store.write() as db:
        cur = db.execute(
            "INSERT INTO labels(repo_id, name, color, description) VALUES (?,?,?,?)",
            (repo["id"], label_name, color.lower(), data.get("description")),
        )
        label_id = cur.lastrowid
    label = store.get("SELECT * FROM labels WHERE id=?", (label_id,))
    return json_response(shapes().label(label), 201)


@bp.get("/repos/<owner>/<name>/labels/<path:label>")
def get_label(owner: str, name: str, label: str) -> Response:
    repo = authorized_repo(owner, name, "read")
    return json_response(shapes().label(label_or_404(repo, label)))


@bp.patch("/repos/<owner>/<name>/labels/<path:label>")
def update_label(owner: str, name: str, label: str) -> Response:
    repo = authorized_repo(owner, name, "write")
    row = label_or_404(repo, label)
    data = body_json()
    fields: dict[str, Any] = {}
    if "new_name" in data:
        fields["name"] = data["new_name"]
    if "color" in data:
        if not COLOR.match(str(data["color"]).lstrip("#")):
            invalid("Label", "color", "invalid")
        fields["color"] = str(data["color"]).lstrip("#").lower()
    if "description" in data:
        fields["description"] = data["description"]
    if fields:
        sets = ", ".join(f"{k}=?" for k in fields)
        with hub().store.write() as db:
            db.execute(f"UPDATE labels SET {sets} WHERE id=?", (*fields.values(), row["id"]))
    return json_response(shapes().label(hub().store.get("SELECT * FROM labels WHERE id=?", (row["id"],))))


@bp.delete("/repos/<owner>/<name>/labels/<path:label>")
def delete_label(owner: str, name: str, label: str) -> Response:
    repo = authorized_repo(owner, name, "write")
    row = label_or_404(repo, label)
    with hub().store.write() as db:
        db.execute("DELETE FROM issue_labels WHERE label_id=?", (row["id"],))
        db.execute("DELETE FROM labels WHERE id=?", (row["id"],))
    return no_content()


# -- labels on an issue ----------------------------------------------------------------------
def _issue_labels_response(issue: Row, status: int = 200) -> Response:
    return json_response([shapes().label(lab) for lab in shapes().issue_labels(issue["id"])], status)


def _label_names(data: Any) -> list[Any]:
    if isinstance(data, list):
        return data
    labels = data.get("labels", []) if isinstance(data, dict) else []
    if not isinstance(labels, list):
        invalid("Label", "labels", "invalid")
    return labels


@bp.get("/repos/<owner>/<name>/issues/<int:number>/labels")
def list_issue_labels(owner: str, name: str, number: int) -> Response:
    repo = authorized_repo(owner, name, "read")
    issue = issue_or_404(repo, number)
    return paginate(shapes().issue_labels(issue["id"]), shapes().label)


def _change_labels(owner: str, name: str, number: int, replace: bool) -> Response:
    repo, user = authorized_repo_and_caller(owner, name, "triage")
    issue = issue_or_404(repo, number)
    try:
        data = json.loads(request.data or b"{}")
    except ValueError:
        data = {}
    issue = apply_labels(repo, issue, user, _label_names(data), replace=replace)
    return _issue_labels_response(issue)


@bp.post("/repos/<owner>/<name>/issues/<int:number>/labels")
def add_issue_labels(owner: str, name: str, number: int) -> Response:
    return _change_labels(owner, name, number, replace=False)


@bp.put("/repos/<owner>/<name>/issues/<int:number>/labels")
def replace_issue_labels(owner: str, name: str, number: int) -> Response:
    return _change_labels(owner, name, number, replace=True)


@bp.delete("/repos/<owner>/<name>/issues/<int:number>/labels")
def clear_issue_labels(owner: str, name: str, number: int) -> Response:
    repo, user = authorized_repo_and_caller(owner, name, "triage")
    apply_labels(repo, issue_or_404(repo, number), user, [], replace=True)
    return no_content()


@bp.delete("/repos/<owner>/<name>/issues/<int:number>/labels/<path:label>")
def remove_issue_label(owner: str, name: str, number: int, label: str) -> Response:
    repo, user = authorized_repo_and_caller(owner, name, "triage")
    issue = issue_or_404(repo, number)
    row = hub().store.one("SELECT * FROM labels WHERE repo_id=? AND name=?", (repo["id"], label))
    if row is None or not model.remove_label(hub().store, issue, row):
        fail(404, "Label does not exist")
    issue = model.update_fields(hub().store, issue, {})
    emit_issue(repo, "unlabeled", issue, user, label=shapes().label(row))
    return _issue_labels_response(issue)


# -- assignees -------------------------------------------------------------------------------
@bp.post("/repos/<owner>/<name>/issues/<int:number>/assignees")
def add_assignees(owner: str, name: str, number: int) -> Response:
    repo, user = authorized_repo_and_caller(owner, name, "triage")
    issue = apply_assignees(repo, issue_or_404(repo, number), user, list(body_json().get("assignees") or []), "add")
    return json_response(shapes().issue(issue), 201)


@bp.delete("/repos/<owner>/<name>/issues/<int:number>/assignees")
def remove_assignees(owner: str, name: str, number: int) -> Response:
    repo, user = authorized_repo_and_caller(owner, name, "triage")
    logins = list(body_json().get("assignees") or [])
    issue = apply_assignees(repo, issue_or_404(repo, number), user, logins, "remove")
    return json_response(shapes().issue(issue))


@bp.get("/repos/<owner>/<name>/assignees")
def list_assignable(owner: str, name: str) -> Response:
    repo = authorized_repo(owner, name, "read")
    store = hub().store
    ids = [repo["owner_id"]] + [
        r["user_id"]
        for r in store.all("SELECT user_id FROM collaborators WHERE repo_id=? ORDER BY user_id", (repo["id"],))
    ]
    users = [u for u in (store.user_by_id(i) for i in ids) if u["type"] != "Organization"]
    return paginate(users, shapes().user)


@bp.get("/repos/<owner>/<name>/assignees/<login>")
def check_assignable(owner: str, name: str, login: str) -> Response:
    repo = authorized_repo(owner, name, "read")
    collaborator_or_404(repo, login)
    return no_content()
