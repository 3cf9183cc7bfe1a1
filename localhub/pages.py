"""Human-readable pages (server-rendered HTML) so a person can watch what the agents do.

`/` lists repositories; `/{o}/{r}/issues` and `/{o}/{r}/pulls` list issues and PRs; one page per
issue (`/{o}/{r}/issues/{n}`) and per PR (`/{o}/{r}/pull/{n}`) shows body, comments, labels,
assignees, sub-issues, and for a PR its mergeability, checks and reviews. Bodies of issues, PRs,
comments and reviews are rendered as GitHub-flavoured Markdown (`localhub.gfm`: HTML comments
dropped, raw HTML sanitised). Only public repositories are shown (the pages take no
credentials). `/{o}/{r}.git/...` stays git's.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request
from werkzeug.wrappers import Response

from localhub import checkstore, gfm, pullstore
from localhub.rest import hub, urls
from localhub.store import Row

bp = Blueprint("pages", __name__, template_folder="templates")


def _public_repo(owner: str, name: str) -> Row:
    repo = hub().store.repo(owner, name)
    if repo is None or repo["private"]:
        abort(404)
    return repo


def _full(repo: Row) -> str:
    return f"{hub().store.user_by_id(repo['owner_id'])['login']}/{repo['name']}"


def _count(repo_id: int, is_pull: int) -> int:
    row = hub().store.one(
        "SELECT COUNT(*) AS n FROM issues WHERE repo_id=? AND is_pull=? AND state='open'", (repo_id, is_pull)
    )
    return int(row["n"]) if row else 0


@bp.get("/")
def index() -> str:
    repos = [
        {
            "full_name": _full(r),
            "default_branch": r["default_branch"],
            "pushed_at": r["pushed_at"],
            "open_issues": _count(r["id"], 0),
            "open_pulls": _count(r["id"], 1),
        }
        for r in hub().store.repos()
        if not r["private"]
    ]
    return render_template("index.html", repos=repos)


def _badge(row: Row) -> str:
    return "merged" if row.get("merged_at") else row["state"]


def _listing(owner: str, name: str, is_pull: int) -> str:
    repo = _public_repo(owner, name)
    state = request.args.get("state", "open")
    sql, args = "SELECT * FROM issues WHERE repo_id=? AND is_pull=?", [repo["id"], is_pull]
    if state in ("open", "closed"):
        sql += " AND state=?"
        args.append(state)
    shapes = hub().shapes(urls().web)
    items = []
    for row in hub().store.all(sql + " ORDER BY number DESC", args):
        assignees = hub().store.all(
            "SELECT u.login FROM users u JOIN issue_assignees a ON a.user_id=u.id WHERE a.issue_id=? ORDER BY u.login",
            (row["id"],),
        )
        items.append(
            {
                "number": row["number"],
                "title": row["title"],
                "badge": _badge(row),
                "labels": shapes.issue_labels(row["id"]),
                "updated_at": row["updated_at"],
                "user": hub().store.user_by_id(row["user_id"])["login"],
                "assignees": [a["login"] for a in assignees],
            }
        )
    return render_template(
        "list.html",
        full_name=_full(repo),
        items=items,
        kind_title="Pull requests" if is_pull else "Issues",
        path="pull" if is_pull else "issues",
    )


@bp.get("/<owner>/<name>/issues")
def issues(owner: str, name: str) -> str:
    return _listing(owner, name, 0)


@bp.get("/<owner>/<name>/pulls")
def pulls(owner: str, name: str) -> str:
    return _listing(owner, name, 1)


def _timeline(issue: Row, pull: Row | None, repo_path: str) -> list[dict[str, Any]]:
    """Comments, reviews and review comments in time order, each `body` rendered as Markdown."""
    store = hub().store
    items = [
        {"user": store.user_by_id(c["user_id"])["login"], "what": "commented", "at": c["created_at"], "body": c["body"]}
        for c in store.all("SELECT * FROM comments WHERE issue_id=?", (issue["id"],))
    ]
    if pull is not None:
        items += [
            {
                "user": store.user_by_id(r["user_id"])["login"],
                "what": f"reviewed: {r['state']}",
                "at": r["submitted_at"] or "",
                "body": r["body"],
            }
            for r in pullstore.reviews(store, pull["issue_id"])
            if r["state"] != "PENDING" and (r["body"] or r["state"] != "COMMENTED")
        ]
        items += [
            {
                "user": store.user_by_id(c["user_id"])["login"],
                "what": f"on {c['path']}:{c['line'] or ''}",
                "at": c["created_at"],
                "body": c["body"],
            }
            for c in pullstore.review_comments(store, pull["issue_id"])
        ]
    for item in items:
        item["body"] = gfm.render(item["body"], repo_path)
    return sorted(items, key=lambda item: item["at"])


def _issue_page(repo: Row, issue: Row, pull: Row | None) -> str:
    store = hub().store
    full_name = _full(repo)
    context: dict[str, Any] = {
        "full_name": full_name,
        "issue": hub().shapes(urls().web).issue(issue),
        "badge": _badge(issue),
        "body": gfm.render(issue["body"], f"/{full_name}"),
        "timeline": _timeline(issue, pull, f"/{full_name}"),
        "pull": None,
        "parent": store.issue_by_id(issue["parent_id"]) if issue["parent_id"] else None,
        "children": store.all("SELECT * FROM issues WHERE parent_id=? ORDER BY id", (issue["id"],)),
    }
    if pull is not None:
        context["pull"] = hub().pulls.shape(pull, urls().web)
        sha = context["pull"]["head"]["sha"]
        context["checks"] = checkstore.runs_for(store, repo["id"], sha)
        context["statuses"] = checkstore.statuses_for(store, repo["id"], sha, latest=True)
    return render_template("issue.html", **context)


@bp.get("/<owner>/<name>/issues/<int:number>")
def issue(owner: str, name: str, number: int) -> str | Response:
    repo = _public_repo(owner, name)
    row = hub().store.issue(repo["id"], number)
    if row is None:
        abort(404)
    if row["is_pull"]:
        return redirect(f"/{_full(repo)}/pull/{number}")
    return _issue_page(repo, row, None)


@bp.get("/<owner>/<name>/pull/<int:number>")
def pull(owner: str, name: str, number: int) -> str | Response:
    repo = _public_repo(owner, name)
    row = pullstore.pull(hub().store, repo["id"], number)
    if row is None:
        if hub().store.issue(repo["id"], number) is not None:
            return redirect(f"/{_full(repo)}/issues/{number}")
        abort(404)
    return _issue_page(repo, row, row)
