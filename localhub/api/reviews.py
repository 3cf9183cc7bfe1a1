"""PR reviews (APPROVE / REQUEST_CHANGES / COMMENT) and review comments, with their webhook events."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from localhub import pullstore
from localhub.api.pulls import pull_or_404
from localhub.pullshapes import PullShapes
from localhub.rest import (
    ApiError,
    authorized_repo,
    authorized_repo_and_caller,
    body_json,
    check_body,
    hub,
    invalid,
    json_response,
    paginate,
    urls,
)
from localhub.store import Row

bp = Blueprint("reviews", __name__)
EVENTS = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}
DOC = "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request"


def _shapes(repo: Row, web: str | None = None) -> PullShapes:
    return hub().pulls.pull_shapes(repo, web)


def unprocessable(reason: str) -> ApiError:
    """GitHub's review refusals: 422 "Unprocessable Entity" with a list of reason strings."""
    return ApiError(422, "Unprocessable Entity", [reason], doc=DOC)


def _emit(repo: Row, event: str, action: str, pull: Row, user: Row, **objects: Any) -> None:
    shapes = hub().shapes()
    hub().events.emit(
        repo,
        event,
        {
            "action": action,
            **objects,
            "pull_request": hub().pulls.shape(pull, webhook=True),
            "repository": shapes.repo(repo, webhook=True),
            "sender": shapes.user(user),
        },
    )


@bp.post("/repos/<owner>/<name>/pulls/<int:number>/reviews")
def create_review(owner: str, name: str, number: int) -> Response:
    repo, user = authorized_repo_and_caller(owner, name, "read")
    pull = pull_or_404(repo, number)
    data = body_json()
    event = data.get("event")
    if event is not None and event not in EVENTS:
        invalid("PullRequestReview", "event", "invalid")
    state = EVENTS.get(event or "", "PENDING")
    body = str(data.get("body") or "")
    check_body("PullRequestReview", body)
    if pull["user_id"] == user["id"] and state in ("APPROVED", "CHANGES_REQUESTED"):
        verb = "approve" if state == "APPROVED" else "request changes on"
        raise unprocessable(f"Review Can not {verb} your own pull request")
    if state in ("CHANGES_REQUESTED", "COMMENTED") and not body and not data.get("comments"):
        raise unprocessable(f"Review Body is required when the event is {event}")
    review = pullstore.insert_review(
        hub().store, pull, user["id"], state, body, str(data.get("commit_id") or pull["head_sha"])
    )
    for comment in data.get("comments") or []:
        _add_comment(repo, pull, user, review["id"], comment, emit=state != "PENDING")
    shapes = _shapes(repo)
    if state != "PENDING":
        _emit(repo, "pull_request_review", "submitted", pull, user, review=shapes.review(review, pull))
    return json_response(_shapes(repo, urls().web).review(review, pull))


@bp.get("/repos/<owner>/<name>/pulls/<int:number>/reviews")
def list_reviews(owner: str, name: str, number: int) -> Response:
    repo = authorized_repo(owner, name, "read")
    pull = pull_or_404(repo, number)
    shapes = _shapes(repo, urls().web)
    return paginate(pullstore.reviews(hub().store, pull["issue_id"]), lambda r: shapes.review(r, pull))


def _add_comment(
    repo: Row, pull: Row, user: Row, review_id: int | None, data: dict[str, Any], emit: bool = True
) -> Row:
    if not str(data.get("body") or "").strip():
        invalid("PullRequestReviewComment", "body")
    check_body("PullRequestReviewComment", data.get("body"))
    files = {f.filename: f for f in _shapes(repo).files(pull)}
    path = data.get("path")
    if path not in files:
        raise ApiError(
            422,
            "Validation Failed",
            [
                {
                    "resource": "PullRequestReviewComment",
                    "code": "custom",
                    "field": "pull_request_review_thread.path",
                    "message": "could not be resolved",
                }
            ],
        )
    fields = {
        "path": path,
        "line": data.get("line") or data.get("position"),
        "side": data.get("side"),
        "start_line": data.get("start_line"),
        "commit_id": data.get("commit_id") or pull["head_sha"],
        "body": str(data["body"]),
        "diff_hunk": files[path].patch or "",
        "in_reply_to": data.get("in_reply_to"),
    }
    comment = pullstore.insert_review_comment(hub().store, pull, user["id"], review_id, fields)
    if emit:
        _emit(
            repo,
            "pull_request_review_comment",
            "created",
            pull,
            user,
            comment=_shapes(repo).review_comment(comment, pull),
        )
    return comment


def _parent_comment(pull: Row, comment_id: int) -> Row:
    """The review comment replied to; 422 unless it is on this PR."""
    parent = pullstore.review_comment(hub().store, comment_id)
    if parent is None or parent["pull_id"] != pull["issue_id"]:
        invalid("PullRequestReviewComment", "in_reply_to", "invalid")
    return parent


def _as_reply(data: dict[str, Any], parent: Row) -> dict[str, Any]:
    """A reply sits on its parent's line of its parent's file."""
    return {**data, "path": parent["path"], "line": parent["line"], "in_reply_to": parent["id"]}


def _lone_comment(repo: Row, pull: Row, user: Row, data: dict[str, Any]) -> Response:
    """A review comment posted on its own: GitHub files it under a COMMENTED review of its own."""
    review = pullstore.insert_review(hub().store, pull, user["id"], "COMMENTED", "", pull["head_sha"])
    comment = _add_comment(repo, pull, user, review["id"], data)
    return json_response(_shapes(repo, urls().web).review_comment(comment, pull), 201)


@bp.post("/repos/<owner>/<name>/pulls/<int:number>/comments")
def create_review_comment(owner: str, name: str, number: int) -> Response:
    repo, user = authorized_repo_and_caller(owner, name, "read")
    pull = pull_or_404(repo, number)
    data = body_json()
    if data.get("in_reply_to"):
        data = _as_reply(data, _parent_comment(pull, int(data["in_reply_to"])))
    return _lone_comment(repo, pull, user, data)


@bp.post("/repos/<owner>/<name>/pulls/<int:number>/comments/<int:comment_id>/replies")
def reply_to_review_comment(owner: str, name: str, number: int, comment_id: int) -> Response:
    repo, user = authorized_repo_and_caller(owner, name, "read")
    pull = pull_or_404(repo, number)
    parent = _parent_comment(pull, comment_id)
    return _lone_comment(repo, pull, user, _as_reply(body_json(), parent))


@bp.get("/repos/<owner>/<name>/pulls/<int:number>/comments")
def list_review_comments(owner: str, name: str, number: int) -> Response:
    repo = authorized_repo(owner, name, "read")
    pull = pull_or_404(repo, number)
    shapes = _shapes(repo, urls().web)
    return paginate(pullstore.review_comments(hub().store, pull["issue_id"]), lambda c: shapes.review_comment(c, pull))
