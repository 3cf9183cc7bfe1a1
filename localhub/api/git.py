"""Contents, branches, git refs and commits, read from (and refs written to) the bare repo."""

from __future__ import annotations

from flask import Blueprint, Response, request

from localhub import gitshapes, protection
from localhub.gitrepo import ZERO_SHA, GitFailed
from localhub.repos import git_for
from localhub.rest import (
    authorized_repo,
    body_json,
    fail,
    hub,
    invalid,
    json_response,
    no_content,
    not_found,
    paginate,
    require_caller,
    shapes,
)
from localhub.store import Row

bp = Blueprint("git", __name__)


def _repo(owner: str, name: str, needed: str = "read") -> tuple[Row, str]:
    repo = authorized_repo(owner, name, needed)
    return repo, f"{hub().store.user_by_id(repo['owner_id'])['login']}/{repo['name']}"


@bp.get("/repos/<owner>/<name>/contents/", defaults={"path": ""})
@bp.get("/repos/<owner>/<name>/contents/<path:path>")
def get_contents(owner: str, name: str, path: str) -> Response:
    repo, full = _repo(owner, name)
    git = git_for(hub().store, repo)
    rev = request.args.get("ref") or repo["default_branch"]
    sha = git.resolve(rev)
    if sha is None:
        fail(404, f"No commit found for the ref {rev}")
    path = path.strip("/")
    entry = git.entry(sha, path)
    if entry is None:
        not_found()
    if entry.type == "tree":
        entries = git.list_tree(sha, path)
        return json_response([gitshapes.content(shapes(), full, git, rev, e, False) for e in entries])
    return json_response(gitshapes.content(shapes(), full, git, rev, entry, True))


@bp.get("/repos/<owner>/<name>/branches")
def list_branches(owner: str, name: str) -> Response:
    repo, full = _repo(owner, name)
    branches = sorted(git_for(hub().store, repo).branches().items())
    protected = protection.protected_branches(hub().store, repo["id"])
    if request.args.get("protected") in ("true", "false"):
        wanted = request.args["protected"] == "true"
        branches = [(b, sha) for b, sha in branches if (b in protected) == wanted]
    return paginate(
        branches, lambda pair: gitshapes.short_branch(shapes(), full, pair[0], pair[1], pair[0] in protected)
    )


@bp.get("/repos/<owner>/<name>/branches/<path:branch>")
def get_branch(owner: str, name: str, branch: str) -> Response:
    repo, full = _repo(owner, name)
    git = git_for(hub().store, repo)
    sha = git.branches().get(branch)
    if sha is None:
        fail(404, "Branch not found")
    config = protection.protection(hub().store, repo["id"], branch)
    return json_response(gitshapes.branch(shapes(), full, git, branch, sha, config))


@bp.get("/repos/<owner>/<name>/git/ref/<path:ref>")
def get_ref(owner: str, name: str, ref: str) -> Response:
    repo, full = _repo(owner, name)
    sha = git_for(hub().store, repo).refs().get(f"refs/{ref}")
    if sha is None:
        not_found()
    return json_response(gitshapes.ref(shapes(), full, f"refs/{ref}", sha))


@bp.get("/repos/<owner>/<name>/git/refs/<path:ref>")
def get_refs(owner: str, name: str, ref: str) -> Response:
    """An exact ref answers one object; a prefix (`heads/feat`) answers the matching list."""
    repo, full = _repo(owner, name)
    refs = git_for(hub().store, repo).refs()
    exact = refs.get(f"refs/{ref}")
    if exact is not None:
        return json_response(gitshapes.ref(shapes(), full, f"refs/{ref}", exact))
    matching = [(r, s) for r, s in sorted(refs.items()) if r.startswith(f"refs/{ref}")]
    if not matching:
        not_found()
    return json_response([gitshapes.ref(shapes(), full, r, s) for r, s in matching])


@bp.get("/repos/<owner>/<name>/git/matching-refs/", defaults={"ref": ""})
@bp.get("/repos/<owner>/<name>/git/matching-refs/<path:ref>")
def matching_refs(owner: str, name: str, ref: str) -> Response:
    repo, full = _repo(owner, name)
    refs = sorted(git_for(hub().store, repo).refs().items())
    return json_response([gitshapes.ref(shapes(), full, r, s) for r, s in refs if r.startswith(f"refs/{ref}")])


@bp.get("/repos/<owner>/<name>/git/refs")
def list_refs(owner: str, name: str) -> Response:
    repo, full = _repo(owner, name)
    refs = sorted(git_for(hub().store, repo).refs().items())
    return paginate(refs, lambda pair: gitshapes.ref(shapes(), full, *pair))


@bp.post("/repos/<owner>/<name>/git/refs")
def create_ref(owner: str, name: str) -> Response:
    repo, full = _repo(owner, name, "write")
    pusher = require_caller()
    data = body_json()
    ref, sha = data.get("ref"), data.get("sha")
    if not isinstance(ref, str) or not ref.startswith("refs/") or ref.count("/") < 2:
        invalid("Reference", "ref", "invalid", "ref must start with 'refs/' and have at least two slashes.")
    if not isinstance(sha, str):
        invalid("Reference", "sha")
    git = git_for(hub().store, repo)
    if ref in git.refs():
        fail(422, "Reference already exists")
    if git.resolve(sha) is None:
        fail(422, "Object does not exist")
    git.update_ref(ref, sha, ZERO_SHA)
    hub().notify_push(repo, [(ref, ZERO_SHA, sha)], pusher)
    return json_response(gitshapes.ref(shapes(), full, ref, sha), 201)


@bp.patch("/repos/<owner>/<name>/git/refs/<path:ref>")
def update_ref(owner: str, name: str, ref: str) -> Response:
    repo, full = _repo(owner, name, "write")
    pusher = require_caller()
    data = body_json()
    git = git_for(hub().store, repo)
    refname = f"refs/{ref}"
    old = git.refs().get(refname)
    new = data.get("sha")
    if old is None:
        fail(422, "Reference does not exist")
    if not isinstance(new, str) or git.resolve(new) is None:
        fail(422, "Object does not exist")
    if not git.is_ancestor(old, new) and not data.get("force"):
        fail(422, "Update is not a fast forward")
    git.update_ref(refname, new, old)
    hub().notify_push(repo, [(refname, old, new)], pusher)
    return json_response(gitshapes.ref(shapes(), full, refname, new))


@bp.delete("/repos/<owner>/<name>/git/refs/<path:ref>")
def delete_ref(owner: str, name: str, ref: str) -> Response:
    repo, _ = _repo(owner, name, "write")
    pusher = require_caller()
    git = git_for(hub().store, repo)
    refname = f"refs/{ref}"
    old = git.refs().get(refname)
    if old is None:
        fail(422, "Reference does not exist")
    git.delete_ref(refname)
    hub().notify_push(repo, [(refname, old, ZERO_SHA)], pusher)
    return no_content()


@bp.get("/repos/<owner>/<name>/commits/<path:ref>")
def get_commit(owner: str, name: str, ref: str) -> Response:
    repo, full = _repo(owner, name)
    git = git_for(hub().store, repo)
    sha = git.resolve(ref)
    if sha is None:
        fail(422, f"No commit found for SHA: {ref}")
    return json_response(gitshapes.commit(shapes(), full, git, sha))


@bp.get("/repos/<owner>/<name>/commits")
def list_commits(owner: str, name: str) -> Response:
    repo, full = _repo(owner, name)
    git = git_for(hub().store, repo)
    rev = request.args.get("sha") or repo["default_branch"]
    if git.resolve(rev) is None:
        if not git.branches():
            fail(409, "Git Repository is empty.")
        fail(404, f"No commit found for SHA: {rev}")
    try:
        args = ["rev-list", "--max-count=1000", rev]
        if request.args.get("path"):
            args += ["--", request.args["path"]]
        shas = git.text(*args).split()
    except GitFailed:
        not_found()
    return paginate(shas, lambda sha: gitshapes.commit(shapes(), full, git, sha, with_files=False))
