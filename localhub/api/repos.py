"""Repositories and collaborators: create (user/org), get, update, collaborator permissions."""

from __future__ import annotations

from flask import Blueprint, Response

from localhub.repos import RepoExists, create_repo
from localhub.rest import (
    PERMISSION_ORDER,
    authorized_repo,
    body_json,
    collaborator_or_404,
    fail,
    hub,
    invalid,
    json_response,
    no_content,
    not_found,
    paginate,
    permissions_of,
    require_caller,
    shapes,
    user_or_404,
)
from localhub.store import Row, now_iso

bp = Blueprint("repos", __name__)

ROLE_INPUT = {"pull": "read", "triage": "triage", "push": "write", "maintain": "maintain", "admin": "admin"}
LEGACY_PERMISSION = {"read": "read", "triage": "read", "write": "write", "maintain": "write", "admin": "admin"}


def _create(owner: Row, creator: Row) -> Response:
    data = body_json()
    name = data.get("name")
    if not isinstance(name, str) or not name:
        invalid("Repository", "name")
    try:
        repo = create_repo(
            hub().store,
            owner,
            name,
            description=data.get("description"),
            private=bool(data.get("private", False)),
            auto_init=bool(data.get("auto_init")),
        )
    except RepoExists:
        invalid("Repository", "name", "custom", "name already exists on this account")
    if owner["id"] != creator["id"]:
        with hub().store.write() as db:
            db.execute(
                "INSERT OR REPLACE INTO collaborators(repo_id, user_id, permission) VALUES (?,?,?)",
                (repo["id"], creator["id"], "admin"),
            )
    return json_response(shapes().repo(repo, permissions_of(repo)), 201)


@bp.post("/user/repos")
def create_user_repo() -> Response:
    user = require_caller()
    return _create(user, user)


@bp.post("/orgs/<org>/repos")
def create_org_repo(org: str) -> Response:
    user = require_caller()
    owner = hub().store.user_by_login(org) or hub().store.ensure_user(org, "Organization")
    if owner["type"] != "Organization":
        not_found()
    return _create(owner, user)


@bp.get("/orgs/<org>")
def get_org(org: str) -> Response:
    owner = hub().store.user_by_login(org)
    if owner is None or owner["type"] != "Organization":
        not_found()
    data = shapes().user(owner)
    api = data["url"].replace("/users/", "/orgs/")
    data.update(
        {
            "url": api,
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events",
            "hooks_url": f"{api}/hooks",
            "issues_url": f"{api}/issues",
            "members_url": f"{api}/members{{/member}}",
            "public_members_url": f"{api}/public_members{{/member}}",
            "description": None,
        }
    )
    return json_response(data)


@bp.get("/repos/<owner>/<name>")
def get_repo(owner: str, name: str) -> Response:
    repo = authorized_repo(owner, name, "read")
    return json_response(shapes().repo(repo, permissions_of(repo)))


@bp.patch("/repos/<owner>/<name>")
def update_repo(owner: str, name: str) -> Response:
    repo = authorized_repo(owner, name, "admin")
    data = body_json()
    fields = {k: data[k] for k in ("description", "default_branch", "private") if k in data}
    if "allow_auto_merge" in data:
        hub().store.set_setting(f"allow_auto_merge:{repo['id']}", "1" if data["allow_auto_merge"] else "0")
    if fields:
        sets = ", ".join(f"{k}=?" for k in fields)
        with hub().store.write() as db:
            db.execute(f"UPDATE repos SET {sets}, updated_at=? WHERE id=?", (*fields.values(), now_iso(), repo["id"]))
    repo = hub().store.repo_by_id(repo["id"])
    return json_response(shapes().repo(repo, permissions_of(repo)))


# -- collaborators ---------------------------------------------------------------------------
def _collaborators(repo: Row) -> list[tuple[Row, str]]:
    store = hub().store
    rows = [(store.user_by_id(repo["owner_id"]), "admin")]
    for row in store.all("SELECT * FROM collaborators WHERE repo_id=? ORDER BY user_id", (repo["id"],)):
        rows.append((store.user_by_id(row["user_id"]), row["permission"]))
    return [(u, p) for u, p in rows if u["type"] != "Organization"]


def _collaborator_shape(user: Row, permission: str) -> dict:
    level = PERMISSION_ORDER.index(permission)
    return {
        **shapes().user(user),
        "role_name": permission,
        "permissions": {
            "admin": level >= 4,
            "maintain": level >= 3,
            "push": level >= 2,
            "triage": level >= 1,
            "pull": True,
        },
    }


@bp.get("/repos/<owner>/<name>/collaborators")
def list_collaborators(owner: str, name: str) -> Response:
    repo = authorized_repo(owner, name, "write")
    return paginate(_collaborators(repo), lambda pair: _collaborator_shape(*pair))


@bp.get("/repos/<owner>/<name>/collaborators/<login>")
def check_collaborator(owner: str, name: str, login: str) -> Response:
    repo = authorized_repo(owner, name, "read")
    collaborator_or_404(repo, login)
    return no_content()


@bp.put("/repos/<owner>/<name>/collaborators/<login>")
def add_collaborator(owner: str, name: str, login: str) -> Response:
    repo = authorized_repo(owner, name, "admin")
    user = user_or_404(login)
    role = ROLE_INPUT.get(str(body_json().get("permission", "push")))
    if role is None:
        invalid("Repository", "permission", "invalid")
    existed = hub().store.permission(repo, user) is not None
    with hub().store.write() as db:
        db.execute(
            "INSERT OR REPLACE INTO collaborators(repo_id, user_id, permission) VALUES (?,?,?)",
            (repo["id"], user["id"], role),
        )
    if existed:
        return no_content()
    # localhub accepts the invitation at once; the answer is GitHub's invitation shape.
    inviter = require_caller()
    full = f"{owner}/{name}"
    invitation = {
        "id": repo["id"] * 100000 + user["id"],
        "node_id": f"RI_{repo['id']}_{user['id']}",
        "repository": {k: v for k, v in shapes().repo(repo).items() if k != "temp_clone_token"},
        "invitee": shapes().user(user),
        "inviter": shapes().user(inviter),
        "permissions": role,
        "created_at": now_iso(),
        "expired": False,
        "url": f"{shapes().api}/user/repository_invitations/{repo['id']}",
        "html_url": f"{shapes().web}/{full}/invitations",
    }
    return json_response(invitation, 201)


@bp.delete("/repos/<owner>/<name>/collaborators/<login>")
def remove_collaborator(owner: str, name: str, login: str) -> Response:
    repo = authorized_repo(owner, name, "admin")
    user = user_or_404(login)
    with hub().store.write() as db:
        db.execute("DELETE FROM collaborators WHERE repo_id=? AND user_id=?", (repo["id"], user["id"]))
    return no_content()


@bp.get("/repos/<owner>/<name>/collaborators/<login>/permission")
def collaborator_permission(owner: str, name: str, login: str) -> Response:
    repo = authorized_repo(owner, name, "read")
    user = hub().store.user_by_login(login)
    if user is None:
        fail(404, f"{login} is not a user")
    role = hub().store.permission(repo, user) or ("read" if not repo["private"] else None)
    permission = LEGACY_PERMISSION.get(role or "", "none")
    return json_response(
        {"permission": permission, "role_name": role or "none", "user": _collaborator_shape(user, role or "read")}
    )
