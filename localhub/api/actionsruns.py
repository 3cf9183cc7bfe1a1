"""Actions workflow runs and jobs of local CI: list/get runs, their jobs, a job, and its log (302).

`GET .../actions/jobs/{id}/logs` answers, as GitHub does, 302 to a short-lived URL that serves
the plain-text log without credentials (`/_localhub/actions/jobs/{id}/log?expires=&signature=`,
valid one minute). Registered as a root blueprint because it serves that `/_localhub/` route too.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from localhub import workflowstore
from localhub.app import API_PREFIX
from localhub.rest import authorized_repo, hub, json_response, not_found, page_args, shapes, urls
from localhub.store import Row

bp = Blueprint("actionsruns", __name__)
REPO = API_PREFIX + "/repos/<owner>/<name>/actions"


def _paged(key: str, items: list[Any], total: int) -> Response:
    return json_response({"total_count": total, key: items})


def _page(rows: list[Row]) -> list[Row]:
    page, per_page = page_args()
    return rows[(page - 1) * per_page : page * per_page]


@bp.get(REPO + "/runs")
def list_runs(owner: str, name: str) -> Response:
    repo = authorized_repo(owner, name, "read")
    rows = workflowstore.runs(hub().store, repo["id"], request.args.to_dict())
    sh = shapes()
    return _paged("workflow_runs", [hub().workflows.run(sh, r) for r in _page(rows)], len(rows))


def _run_or_404(repo: Row, run_id: int) -> Row:
    run = workflowstore.find_run(hub().store, repo["id"], run_id)
    if run is None:
        not_found()
    return run


@bp.get(REPO + "/runs/<int:run_id>")
def get_run(owner: str, name: str, run_id: int) -> Response:
    repo = authorized_repo(owner, name, "read")
    return json_response(hub().workflows.run(shapes(), _run_or_404(repo, run_id)))


@bp.get(REPO + "/runs/<int:run_id>/jobs")
def list_jobs(owner: str, name: str, run_id: int) -> Response:
    repo = authorized_repo(owner, name, "read")
    rows = workflowstore.jobs_of(hub().store, _run_or_404(repo, run_id)["id"])
    sh = shapes()
    return _paged("jobs", [hub().workflows.job(sh, r) for r in _page(rows)], len(rows))


def _job_or_404(repo: Row, job_id: int) -> Row:
    job = workflowstore.find_job(hub().store, repo["id"], job_id)
    if job is None:
        not_found()
    return job


@bp.get(REPO + "/jobs/<int:job_id>")
def get_job(owner: str, name: str, job_id: int) -> Response:
    repo = authorized_repo(owner, name, "read")
    return json_response(hub().workflows.job(shapes(), _job_or_404(repo, job_id)))


@bp.get(REPO + "/jobs/<int:job_id>/logs")
def job_logs(owner: str, name: str, job_id: int) -> Response:
    """302 to the signed log URL; 404 until the job has finished (its log is written then)."""
    repo = authorized_repo(owner, name, "read")
    job = _job_or_404(repo, job_id)
    if job["log"] is None:
        not_found()
    resp = Response(status=302)
    resp.headers["Location"] = hub().workflows.log_url(urls().web, job_id)
    return resp


@bp.get("/_localhub/actions/jobs/<int:job_id>/log")
def signed_log(job_id: int) -> Response:
    """The plain-text job log behind a signed, unexpired URL (no credentials, as GitHub's)."""
    text = hub().workflows.log_for_signed(job_id, request.args.get("expires", ""), request.args.get("signature", ""))
    if text is None:
        return Response(
            "This log URL is not valid (expired, or signed by another server).\n", status=403, mimetype="text/plain"
        )
    return Response(text.encode("utf-8"), mimetype="text/plain", headers={"Content-Type": "text/plain; charset=utf-8"})
