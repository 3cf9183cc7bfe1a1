"""Actions: `workflow_dispatch` requests, checked as GitHub checks them and recorded (no runner runs them).

`POST /api/v3/repos/{o}/{r}/actions/workflows/{file}/dispatches` answers 204 like GitHub after
the same checks: the ref exists, `.github/workflows/{file}` exists at that ref and declares a
`workflow_dispatch` trigger, and the inputs are the declared ones with every required input
given. Workflows are named by file name (localhub has no numeric workflow ids). Each accepted
dispatch is a row tests read at `GET /_localhub/dispatches` (optionally `?repo=owner/name`).

Registered as a root blueprint because it serves both an API route and a `/_localhub/` route.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from flask import Blueprint, Response, request

from localhub.app import API_PREFIX
from localhub.repos import git_for
from localhub.rest import (
    ApiError,
    body_json,
    fail,
    hub,
    json_response,
    no_content,
    not_found,
    repo_or_404,
    require_caller,
    require_permission,
)
from localhub.store import Row, now_iso, register_schema

bp = Blueprint("actions", __name__)
WORKFLOWS_DIR = ".github/workflows"
#: GitHub accepts at most 25 inputs in one dispatch.
MAX_INPUTS = 25

register_schema("""CREATE TABLE IF NOT EXISTS workflow_dispatches (
    id INTEGER PRIMARY KEY AUTOINCREMENT, repo_id INTEGER NOT NULL, workflow TEXT NOT NULL,
    ref TEXT NOT NULL, sha TEXT NOT NULL, inputs TEXT NOT NULL, sender_id INTEGER NOT NULL,
    created_at TEXT NOT NULL)""")


def _dispatch_inputs(text: str) -> dict[str, Any] | None:
    """The declared `workflow_dispatch` inputs of a workflow file, or None when it has no such trigger."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(doc, dict):
        return None
    triggers = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` key as True
    if triggers == "workflow_dispatch" or (isinstance(triggers, list) and "workflow_dispatch" in triggers):
        return {}
    if not isinstance(triggers, dict) or "workflow_dispatch" not in triggers:
        return None
    declared = (triggers.get("workflow_dispatch") or {}).get("inputs") or {}
    return declared if isinstance(declared, dict) else {}


def _check_inputs(declared: dict[str, Any], given: Any) -> dict[str, Any]:
    if not isinstance(given, dict):
        fail(422, "Invalid request.\n\nFor 'properties/inputs', is not an object.")
    if len(given) > MAX_INPUTS:
        fail(422, f"you may only define up to {MAX_INPUTS} `inputs` for a `workflow_dispatch` event")
    unexpected = sorted(set(given) - set(declared))
    if unexpected:
        fail(422, f"Unexpected inputs provided: {json.dumps(unexpected)}")
    for name, spec in declared.items():
        if isinstance(spec, dict) and spec.get("required") and name not in given and "default" not in spec:
            fail(422, f"Required input '{name}' not provided")
    return given


@bp.post(API_PREFIX + "/repos/<owner>/<name>/actions/workflows/<workflow_id>/dispatches")
def create_dispatch(owner: str, name: str, workflow_id: str) -> Response:
    repo = repo_or_404(owner, name)
    sender = require_caller()
    require_permission(repo, "write")
    data = body_json()
    ref = data.get("ref")
    if not isinstance(ref, str) or not ref:
        fail(422, 'Invalid request.\n\n"ref" wasn\'t supplied.')
    git = git_for(hub().store, repo)
    sha = git.resolve(ref.removeprefix("refs/heads/").removeprefix("refs/tags/"))
    if sha is None:
        fail(422, f"No ref found for: {ref}")
    entry = git.entry(sha, f"{WORKFLOWS_DIR}/{workflow_id}")
    if entry is None or entry.type != "blob":
        not_found()
    declared = _dispatch_inputs(git.blob(entry.sha).decode("utf-8", errors="replace"))
    if declared is None:
        fail(422, "Workflow does not have 'workflow_dispatch' trigger")
    inputs = _check_inputs(declared, data.get("inputs", {}))
    if data.get("return_run_details"):
        raise ApiError(422, "return_run_details is not supported by localhub (it runs no workflows)")
    with hub().store.write() as db:
        db.execute(
            "INSERT INTO workflow_dispatches(repo_id, workflow, ref, sha, inputs, sender_id, created_at)"
            " VALUES (?,?,?,?,?,?,?)",
            (repo["id"], workflow_id, ref, sha, json.dumps(inputs), sender["id"], now_iso()),
        )
    return no_content()


def dispatch_shape(row: Row) -> dict[str, Any]:
    store = hub().store
    repo = store.repo_by_id(row["repo_id"])
    owner = store.user_by_id(repo["owner_id"])["login"]
    return {
        "id": row["id"],
        "repo": f"{owner}/{repo['name']}",
        "workflow": row["workflow"],
        "ref": row["ref"],
        "sha": row["sha"],
        "inputs": json.loads(row["inputs"]),
        "sender": store.user_by_id(row["sender_id"])["login"],
        "created_at": row["created_at"],
    }


@bp.get("/_localhub/dispatches")
def list_dispatches() -> Response:
    """Every recorded dispatch, oldest first (`?repo=owner/name` for one repository)."""
    rows = hub().store.all("SELECT * FROM workflow_dispatches ORDER BY id")
    wanted = request.args.get("repo")
    shaped = [dispatch_shape(row) for row in rows]
    return json_response([d for d in shaped if wanted is None or d["repo"].lower() == wanted.lower()])
