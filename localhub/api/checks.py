"""Check runs, check suites and commit statuses: create/update runs (Apps only, as GitHub), list per ref."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, request

from localhub import checkstore, gitops
from localhub.checkruns import AppInfo
from localhub.rest import (
    ApiError,
    authorized_repo,
    authorized_repo_and_caller,
    body_json,
    hub,
    invalid,
    json_response,
    not_found,
    page_args,
    paginate,
    repo_or_404,
    require_caller,
    shapes,
    urls,
)
from localhub.store import Row, now_iso

bp = Blueprint("checks", __name__)
DOC = "https://docs.github.com/rest/checks/runs"
STATUS_STATES = ("error", "failure", "pending", "success")


def _sha(repo: Row, ref: str) -> str:
    """The commit a ref or sha names; 422 "No commit found for SHA" as GitHub answers."""
    sha = gitops.rev_parse(hub().pulls.git_dir(repo), ref)
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {ref}")
    return sha


def _ref_sha(repo: Row, ref: str) -> str:
    sha = gitops.rev_parse(hub().pulls.git_dir(repo), ref)
    if sha is None:
        not_found()
    return sha


def _calling_app() -> AppInfo:
    """The App behind an installation token; 403 otherwise (GitHub: checks are written by Apps)."""
    app = hub().config.app
    if g.get("installation_id") is None or app is None:
        raise ApiError(403, "You must authenticate via a GitHub App.", doc=DOC + "#create-a-check-run")
    info = AppInfo(app.app_id, app.slug, app.slug)
    hub().checks.apps[info.id] = info
    return info


def _run_fields(data: dict[str, Any], creating: bool) -> dict[str, Any]:
    """Validated column values from a create/update body (GitHub's rules for status/conclusion)."""
    fields: dict[str, Any] = {}
    status, conclusion = data.get("status"), data.get("conclusion")
    if status is not None and status not in checkstore.RUN_STATUSES:
        invalid("CheckRun", "status", "invalid")
    if conclusion is not None and conclusion not in checkstore.CONCLUSIONS:
        invalid("CheckRun", "conclusion", "invalid")
    if status == "completed" and conclusion is None:
        invalid("CheckRun", "conclusion", "missing_field")
    if conclusion is not None:
        status = "completed"
        fields["conclusion"] = conclusion
        fields["completed_at"] = data.get("completed_at") or now_iso()
    if status is not None:
        fields["status"] = status
    if creating or data.get("started_at"):
        fields["started_at"] = data.get("started_at") or now_iso()
    for key in ("external_id", "details_url"):
        if key in data:
            fields[key] = data[key]
    output = data.get("output")
    if isinstance(output, dict):
        fields.update({f"output_{k}": output.get(k) for k in ("title", "summary", "text") if k in output})
    return fields


@bp.post("/repos/<owner>/<name>/check-runs")
def create_run(owner: str, name: str) -> Response:
    repo = repo_or_404(owner, name)
    user = require_caller()
    app = _calling_app()
    data = body_json()
    if not str(data.get("name") or "").strip():
        invalid("CheckRun", "name")
    if not data.get("head_sha"):
        invalid("CheckRun", "head_sha")
    sha = _sha(repo, str(data["head_sha"]))
    row = hub().checks.create_run(repo, app.id, str(data["name"]), sha, None, _run_fields(data, True), user)
    return json_response(hub().checks.run(shapes(), row), 201)


def _run_or_404(repo: Row, run_id: int) -> Row:
    row = hub().store.one("SELECT * FROM check_runs WHERE id=? AND repo_id=?", (run_id, repo["id"]))
    if row is None:
        not_found()
    return row


@bp.patch("/repos/<owner>/<name>/check-runs/<int:run_id>")
def update_run(owner: str, name: str, run_id: int) -> Response:
    repo = repo_or_404(owner, name)
    user = require_caller()
    app = _calling_app()
    row = _run_or_404(repo, run_id)
    if checkstore.suite(hub().store, row["suite_id"])["app_id"] != app.id:
        raise ApiError(
            403, f"Invalid app_id `{app.id}` - check run can only be modified by the GitHub App that created it."
        )
    row = hub().checks.update_run(repo, run_id, _run_fields(body_json(), False), user)
    return json_response(hub().checks.run(shapes(), row))


@bp.get("/repos/<owner>/<name>/check-runs/<int:run_id>")
def get_run(owner: str, name: str, run_id: int) -> Response:
    repo = authorized_repo(owner, name, "read")
    return json_response(hub().checks.run(shapes(), _run_or_404(repo, run_id)))


def _paged(key: str, items: list[Any]) -> Response:
    page, per_page = page_args()
    return json_response({"total_count": len(items), key: items[(page - 1) * per_page : page * per_page]})


@bp.get("/repos/<owner>/<name>/commits/<path:ref>/check-runs")
def list_runs(owner: str, name: str, ref: str) -> Response:
    repo = authorized_repo(owner, name, "read")
    args = request.args
    rows = checkstore.runs_for(hub().store, repo["id"], _ref_sha(repo, ref), latest=args.get("filter") != "all")
    if args.get("check_name"):
        rows = [r for r in rows if r["name"] == args["check_name"]]
    if args.get("status"):
        rows = [r for r in rows if r["status"] == args["status"]]
    if args.get("app_id"):
        rows = [r for r in rows if str(r["app_id"]) == args["app_id"]]
    return _paged("check_runs", [hub().checks.run(shapes(), r) for r in rows])


@bp.get("/repos/<owner>/<name>/commits/<path:ref>/check-suites")
def list_suites(owner: str, name: str, ref: str) -> Response:
    repo = authorized_repo(owner, name, "read")
    rows = checkstore.suites_for(hub().store, repo["id"], _ref_sha(repo, ref))
    return _paged("check_suites", [hub().checks.suite(shapes(), r) for r in rows])


# -- statuses ---------------------------------------------------------------------------------
@bp.post("/repos/<owner>/<name>/statuses/<sha>")
def create_status(owner: str, name: str, sha: str) -> Response:
    repo, user = authorized_repo_and_caller(owner, name, "write")
    data = body_json()
    if data.get("state") not in STATUS_STATES:
        invalid("Status", "state", "custom", "state is not included in the list")
    commit = _sha(repo, sha)
    row = checkstore.insert_status(hub().store, repo["id"], commit, user["id"], data)
    hub().checks.emit_status(repo, row, user)
    return json_response(hub().checks.status(shapes(), row), 201)


@bp.get("/repos/<owner>/<name>/commits/<path:ref>/statuses")
@bp.get("/repos/<owner>/<name>/statuses/<path:ref>")  # the legacy path PyGithub's get_statuses() uses
def list_statuses(owner: str, name: str, ref: str) -> Response:
    repo = authorized_repo(owner, name, "read")
    rows = checkstore.statuses_for(hub().store, repo["id"], _ref_sha(repo, ref))
    return paginate(rows, lambda row: hub().checks.status(shapes(), row))


@bp.get("/repos/<owner>/<name>/commits/<path:ref>/status")
def combined_status(owner: str, name: str, ref: str) -> Response:
    repo = authorized_repo(owner, name, "read")
    sha = _ref_sha(repo, ref)
    rows = checkstore.statuses_for(hub().store, repo["id"], sha, latest=True)
    sh = shapes()
    api = f"{urls().api}/repos/{sh.repo_full_name(repo['id'])}"
    statuses = [{k: v for k, v in hub().checks.status(sh, r).items() if k != "creator"} for r in rows]
    return json_response(
        {
            "state": checkstore.combined_state(rows),
            "statuses": statuses,
            "sha": sha,
            "total_count": len(rows),
            "repository": sh.repo(repo, webhook=True),
            "commit_url": f"{api}/commits/{sha}",
            "url": f"{api}/commits/{sha}/status",
        }
    )
