"""Pull requests: create, get, list, update, files, merge (merge/squash/rebase) with GitHub's answers."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, request

from localhub import gitops, pullstore
from localhub.pullflow import MergeRefused
from localhub.rest import (
    ApiError,
    authorized_repo,
    authorized_repo_and_caller,
    body_json,
    check_body,
    hub,
    invalid,
    json_response,
    not_found,
    paginate,
    repo_or_404,
    require_author_or,
    require_caller,
    urls,
)
from localhub.store import Row

bp = Blueprint("pulls", __name__)
DOC = "https://docs.github.com/rest/pulls/pulls"


def pull_or_404(repo: Row, number: int) -> Row:
    pull = pullstore.pull(hub().store, repo["id"], number)
    if pull is None:
        not_found()
    return pull


def pull_json(pull: Row, full: bool = True) -> dict[str, Any]:
    return hub().pulls.shape(pull, urls().web, full=full)


def custom_error(message: str, status: int = 422) -> ApiError:
    return ApiError(
        status,
        "Validation Failed",
        [{"resource": "PullRequest", "code": "custom", "message": message}],
        doc=DOC + "#create-a-pull-request",
    )


def _branch_name(repo: Row, given: Any, field: str) -> str:
    """`branch` or `owner:branch` (same repository only) → branch; 422 when missing."""
    if not isinstance(given, str) or not given.strip():
        invalid("PullRequest", field)
    owner, sep, branch = given.partition(":")
    if sep and owner.lower() != hub().store.user_by_id(repo["owner_id"])["login"].lower():
        invalid("PullRequest", field, "invalid")
    return branch if sep else given


@bp.post("/repos/<owner>/<name>/pulls")
def create_pull(owner: str, name: str) -> Response:
    repo, user = authorized_repo_and_caller(owner, name, "read")
    data = body_json()
    if not str(data.get("title") or "").strip():
        invalid("PullRequest", "title")
    check_body("Issue", data.get("body"))
    head_ref = _branch_name(repo, data.get("head"), "head")
    base_ref = _branch_name(repo, data.get("base"), "base")
    git_dir = hub().pulls.git_dir(repo)
    head_sha = gitops.rev_parse(git_dir, f"refs/heads/{head_ref}")
    base_sha = gitops.rev_parse(git_dir, f"refs/heads/{base_ref}")
    if head_sha is None:
        invalid("PullRequest", "head", "invalid")
    if base_sha is None:
        invalid("PullRequest", "base", "invalid")
    owner_login = hub().store.user_by_id(repo["owner_id"])["login"]
    if any(p["base_ref"] == base_ref for p in pullstore.open_pulls_on(hub().store, repo["id"], head_ref=head_ref)):
        raise custom_error(f"A pull request already exists for {owner_login}:{head_ref}.")
    if gitops.merge_base(git_dir, base_sha, head_sha) is None:
        raise custom_error(f"The {head_ref} branch has no history in common with {base_ref}")
    if not gitops.commits_between(git_dir, base_sha, head_sha):
        raise custom_error(f"No commits between {base_ref} and {head_ref}")
    pull = pullstore.insert_pull(
        hub().store,
        repo["id"],
        user["id"],
        str(data["title"]),
        data.get("body"),
        (head_ref, head_sha),
        (base_ref, base_sha),
        bool(data.get("draft")),
        data.get("maintainer_can_modify", True) is not False,
    )
    hub().pulls.opened(repo, pull, user)
    body = pull_json(pull)
    resp = json_response(body, 201)
    resp.headers["Location"] = body["url"]
    return resp


@bp.get("/repos/<owner>/<name>/pulls")
def list_pulls(owner: str, name: str) -> Response:
    repo = authorized_repo(owner, name, "read")
    args = request.args
    state = args.get("state", "open")
    if state not in ("open", "closed", "all"):
        invalid("PullRequest", "state", "invalid")
    head = None
    if args.get("head"):
        head_owner, _, head = args["head"].partition(":")
        if head_owner.lower() != hub().store.user_by_id(repo["owner_id"])["login"].lower() or not head:
            return json_response([])
    rows = pullstore.pulls(
        hub().store,
        repo["id"],
        state,
        head,
        args.get("base"),
        args.get("sort", "created"),
        args.get("direction", "desc"),
    )
    return paginate(rows, lambda pull: pull_json(pull, full=False))


@bp.get("/repos/<owner>/<name>/pulls/<int:number>")
def get_pull(owner: str, name: str, number: int) -> Response:
    repo = authorized_repo(owner, name, "read")
    return json_response(pull_json(pull_or_404(repo, number)))


@bp.patch("/repos/<owner>/<name>/pulls/<int:number>")
def update_pull(owner: str, name: str, number: int) -> Response:
    repo = repo_or_404(owner, name)
    user = require_caller()
    pull = pull_or_404(repo, number)
    require_author_or(repo, user, pull, "write")
    data = body_json()
    check_body("Issue", data.get("body"))
    store = hub().store
    changes: dict[str, Any] = {}
    for field in ("title", "body"):
        if field in data and data[field] != pull[field]:
            if field == "title" and not str(data["title"] or "").strip():
                invalid("PullRequest", "title")
            changes[field] = {"from": pull[field]}
            pullstore.update_issue(store, pull["issue_id"], **{field: data[field]})
    if "base" in data and data["base"] != pull["base_ref"]:
        changes["base"] = {"ref": {"from": pull["base_ref"]}, "sha": {"from": pull["base_sha"]}}
        _change_base(repo, pull, data["base"])
    if "maintainer_can_modify" in data:
        pullstore.update_pull(store, pull["issue_id"], maintainer_can_modify=int(bool(data["maintainer_can_modify"])))
    pull = pullstore.pull_by_issue(store, pull["issue_id"])
    if changes:
        hub().pulls.emit(repo, "edited", pull, user, changes=changes)
    state = data.get("state")
    if state not in (None, "open", "closed"):
        invalid("PullRequest", "state", "invalid")
    if state and not pull["merged"]:
        pull = hub().pulls.set_state(repo, pull, state, user)
    return json_response(pull_json(pull))


def _change_base(repo: Row, pull: Row, base: Any) -> None:
    if pull["state"] != "open":
        raise ApiError(
            422,
            "Validation Failed",
            [
                {
                    "resource": "PullRequest",
                    "code": "custom",
                    "message": "Cannot change the base branch of a closed pull request.",
                }
            ],
        )
    git_dir = hub().pulls.git_dir(repo)
    base_sha = gitops.rev_parse(git_dir, f"refs/heads/{base}") if isinstance(base, str) else None
    if base_sha is None:
        invalid("PullRequest", "base", "invalid")
    pullstore.update_pull(hub().store, pull["issue_id"], base_ref=base)
    pullstore.pending_mergeability(hub().store, pull["issue_id"], base_sha, pull["head_sha"])
    hub().pulls.mergeability.schedule(pull["issue_id"])


@bp.get("/repos/<owner>/<name>/pulls/<int:number>/files")
def list_files(owner: str, name: str, number: int) -> Response:
    repo = authorized_repo(owner, name, "read")
    pull = pull_or_404(repo, number)
    shapes = hub().pulls.pull_shapes(repo, urls().web)
    return paginate(shapes.files(pull), lambda entry: shapes.file(pull, entry))


@bp.get("/repos/<owner>/<name>/pulls/<int:number>/merge")
def is_merged(owner: str, name: str, number: int) -> Response:
    repo = authorized_repo(owner, name, "read")
    if not pull_or_404(repo, number)["merged"]:
        not_found()
    return Response(status=204)


@bp.put("/repos/<owner>/<name>/pulls/<int:number>/merge")
def merge_pull(owner: str, name: str, number: int) -> Response:
    repo, user = authorized_repo_and_caller(owner, name, "write")
    pull = pull_or_404(repo, number)
    data = body_json()
    method = data.get("merge_method") or "merge"
    if method not in ("merge", "squash", "rebase"):
        invalid("PullRequest", "merge_method", "invalid")
    try:
        app = hub().config.app if g.get("installation_id") is not None else None
        sha = hub().pulls.merge(
            repo,
            pull,
            user,
            method,
            data.get("sha"),
            data.get("commit_title"),
            data.get("commit_message"),
            app.app_id if app else None,
        )
    except MergeRefused as refused:
        raise ApiError(refused.status, refused.message, doc=DOC + "#merge-a-pull-request") from None
    return json_response({"sha": sha, "merged": True, "message": "Pull Request successfully merged"})
