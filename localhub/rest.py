"""Helpers every REST blueprint shares: errors, JSON answers, pagination, the caller, the repo."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urlencode

from flask import Response, current_app, g, request

from localhub.store import Row

DOCS = "https://docs.github.com/rest"
PERMISSION_ORDER = ["read", "triage", "write", "maintain", "admin"]


class ApiError(Exception):
    """An answer in GitHub's error shape: `{"message", "documentation_url"}` (+ `errors`)."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: list | None = None,
        headers: dict[str, str] | None = None,
        doc: str = DOCS,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers or {}
        self.doc = doc

    def response(self) -> Response:
        body: dict[str, Any] = {"message": self.message, "documentation_url": self.doc}
        if self.errors is not None:
            body["errors"] = self.errors
        if self.status in (401, 403, 404, 409, 422, 405):
            body["status"] = str(self.status)
        resp = json_response(body, self.status)
        for key, value in self.headers.items():
            resp.headers[key] = value
        return resp


def fail(status: int, message: str, errors: list | None = None) -> NoReturn:
    raise ApiError(status, message, errors)


def not_found() -> NoReturn:
    raise ApiError(404, "Not Found")


def invalid(resource: str, field: str, code: str = "missing_field", message: str | None = None) -> NoReturn:
    error: dict[str, Any] = {"resource": resource, "field": field, "code": code}
    if message:
        error["message"] = message
    raise ApiError(422, "Validation Failed", [error])


#: GitHub refuses issue, pull request and comment bodies longer than this (characters).
MAX_BODY_CHARS = 65_536


def check_body(resource: str, value: Any) -> None:
    """GitHub's 422 for a body over `MAX_BODY_CHARS`. Issues and pull requests (GitHub names both
    `Issue` here) and reviews say `body is too long ...` on field `body`; comments (`IssueComment`,
    `PullRequestReviewComment`) say `Body is too long ...` on field `data`."""
    if not isinstance(value, str) or len(value) <= MAX_BODY_CHARS:
        return
    if resource in ("IssueComment", "PullRequestReviewComment"):
        invalid(resource, "data", "unprocessable", f"Body is too long (maximum is {MAX_BODY_CHARS} characters)")
    invalid(resource, "body", "custom", f"body is too long (maximum is {MAX_BODY_CHARS} characters)")


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def no_content() -> Response:
    return Response(status=204)


def body_json() -> dict[str, Any]:
    """The request's JSON object (GitHub answers 400 "Problems parsing JSON" otherwise).

    Like GitHub, the body is read as JSON whatever the Content-Type (`curl -d` sends a form type).
    """
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise ApiError(400, "Problems parsing JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "Problems parsing JSON")
    return data


@dataclass(frozen=True)
class Urls:
    """The web and API roots of this localhub as the caller reached it (PyGithub checks host:port)."""

    web: str

    @property
    def api(self) -> str:
        return self.web + "/api/v3"


def urls() -> Urls:
    return Urls(request.host_url.rstrip("/"))


def hub() -> Any:
    """The LocalHub serving this request."""
    return current_app.config["LOCALHUB"]


def caller() -> Row | None:
    """The user row of the authenticated caller (None when anonymous)."""
    return g.get("user")


def require_caller() -> Row:
    user = caller()
    if user is None:
        raise ApiError(401, "Requires authentication", doc=DOCS + "/users/users#get-the-authenticated-user")
    return user


def repo_or_404(owner: str, name: str) -> Row:
    repo = hub().store.repo(owner, name)
    if repo is None:
        not_found()
    return repo


def user_or_404(login: str) -> Row:
    user = hub().store.user_by_login(login)
    if user is None:
        not_found()
    return user


def collaborator_or_404(repo: Row, login: str) -> Row:
    """The user `login`; 404 unless they hold a permission on `repo` (collaborators, assignees)."""
    user = hub().store.user_by_login(login)
    if user is None or hub().store.permission(repo, user) is None:
        not_found()
    return user


def has_permission(repo: Row, needed: str) -> bool:
    user = caller()
    if user is None:
        return needed == "read" and not repo["private"]
    if g.get("installation_id") is not None:
        return True  # the App is installed on every repository with write access
    have = hub().store.permission(repo, user)
    if have is None:
        return needed == "read" and not repo["private"]
    return PERMISSION_ORDER.index(have) >= PERMISSION_ORDER.index(needed)


def require_permission(repo: Row, needed: str) -> None:
    """403 (404 for private repos the caller cannot read) unless the caller holds `needed`."""
    if has_permission(repo, needed):
        return
    if not has_permission(repo, "read"):
        not_found()
    if caller() is None:
        raise ApiError(401, "Requires authentication")
    fail(
        403,
        "Must have admin rights to Repository."
        if needed == "admin"
        else "Resource not accessible by integration"
        if g.get("installation_id")
        else "Must have push access to repository.",
    )


def authorized_repo(owner: str, name: str, needed: str) -> Row:
    """The repository, once the caller holds `needed` on it (404 / 403 as `require_permission`)."""
    repo = repo_or_404(owner, name)
    require_permission(repo, needed)
    return repo


def authorized_repo_and_caller(owner: str, name: str, needed: str) -> tuple[Row, Row]:
    """The repository and the signed-in caller (401 when anonymous), once the caller holds `needed`."""
    repo = repo_or_404(owner, name)
    user = require_caller()
    require_permission(repo, needed)
    return repo, user


def require_author_or(repo: Row, user: Row, row: Row, needed: str) -> None:
    """The author of `row` (an issue, comment or PR) may change it; anyone else needs `needed`."""
    if row["user_id"] != user["id"]:
        require_permission(repo, needed)


def page_args() -> tuple[int, int]:
    try:
        page = max(1, int(request.args.get("page", 1)))
        per_page = min(100, max(1, int(request.args.get("per_page", 30))))
    except ValueError:
        fail(422, "Invalid pagination parameters")
    return page, per_page


def paginate(items: Sequence[Any], shape: Callable[[Any], Any]) -> Response:
    """A page of `items` shaped by `shape`, with GitHub's `Link` header (next/last/first/prev)."""
    page, per_page = page_args()
    total = len(items)
    last = max(1, -(-total // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    resp = json_response([shape(item) for item in chunk])
    links = []
    base = urls().web + request.path

    def link(p: int, rel: str) -> str:
        args = {k: v for k, v in request.args.items() if k != "page"}
        args["page"] = str(p)
        return f'<{base}?{urlencode(args)}>; rel="{rel}"'

    if page > 1:
        links += [link(page - 1, "prev"), link(1, "first")]
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    if links:
        resp.headers["Link"] = ", ".join(links)
    return resp


def shapes() -> Any:
    """Serializers bound to the URL the caller used (a `localhub.shapes.Shapes`)."""
    return hub().shapes(urls().web)


def permissions_of(repo: Row) -> dict[str, bool]:
    """The `permissions` object of a repository for the caller."""
    return {
        name: has_permission(repo, level)
        for name, level in (
            ("admin", "admin"),
            ("maintain", "maintain"),
            ("push", "write"),
            ("triage", "triage"),
            ("pull", "read"),
        )
    }
