"""Git over smart HTTP at `/{owner}/{repo}.git` (upload-pack, receive-pack) with token basic auth."""

from __future__ import annotations

import gzip
import subprocess
import threading
from collections import defaultdict

from flask import Blueprint, Response, request

from localhub.auth import principal_for
from localhub.gitrepo import git_env
from localhub.repos import git_for
from localhub.rest import PERMISSION_ORDER, ApiError, hub
from localhub.store import Row

bp = Blueprint("githttp", __name__)
SERVICES = ("git-upload-pack", "git-receive-pack")
_push_locks: defaultdict[int, threading.Lock] = defaultdict(threading.Lock)
_push_locks_guard = threading.Lock()


def _push_lock(repo_id: int) -> threading.Lock:
    with _push_locks_guard:
        return _push_locks[repo_id]


def _pkt(line: str) -> bytes:
    data = line.encode()
    return f"{len(data) + 4:04x}".encode() + data


def _challenge(message: str = "Authentication required") -> Response:
    return Response(message + "\n", status=401, headers={"WWW-Authenticate": 'Basic realm="GitHub"'})


def _resolve(owner: str, repo_git: str, service: str) -> tuple[Row, Row | None] | Response:
    """The repo and the caller, or the answer refusing them (404 / 401 challenge / 403)."""
    repo = hub().store.repo(owner, repo_git.removesuffix(".git"))  # GitHub serves both spellings
    if repo is None:
        return Response("Repository not found.\n", status=404)
    try:
        principal = principal_for(hub().store, hub().config.app, request.headers.get("Authorization"))
    except ApiError:
        return _challenge("Invalid username or token. Password authentication is not supported.")
    user = principal.user
    needed = "write" if service == "git-receive-pack" else "read"
    if needed == "read" and not repo["private"]:
        return repo, user
    if user is None:
        return _challenge()
    if principal.installation_id is not None:
        return repo, user
    have = hub().store.permission(repo, user)
    if have is None and repo["private"]:
        return Response("Repository not found.\n", status=404)  # as GitHub: no hint it exists
    if have is None or PERMISSION_ORDER.index(have) < PERMISSION_ORDER.index(needed):
        return Response(f"Permission to {owner}/{repo['name']} denied to {user['login']}.\n", status=403)
    return repo, user


@bp.get("/<owner>/<repo_git>/info/refs")
def info_refs(owner: str, repo_git: str) -> Response:
    service = request.args.get("service", "")
    resolved = _resolve(owner, repo_git, service)
    if isinstance(resolved, Response):
        return resolved
    if service not in SERVICES:
        return Response("Please upgrade your git client (smart HTTP only).\n", status=403)
    repo, _ = resolved
    path = git_for(hub().store, repo).path
    out = subprocess.run(
        ["git", service.removeprefix("git-"), "--stateless-rpc", "--advertise-refs", str(path)],
        env=git_env(),
        capture_output=True,
        check=True,
    ).stdout
    body = _pkt(f"# service={service}\n") + b"0000" + out
    return Response(
        body,
        mimetype=f"application/x-{service}-advertisement",
        headers={"Cache-Control": "no-cache, max-age=0, must-revalidate", "Expires": "Fri, 01 Jan 1980 00:00:00 GMT"},
    )


def _request_body() -> bytes:
    data = request.stream.read()
    if request.headers.get("Content-Encoding", "").lower() in ("gzip", "x-gzip"):
        data = gzip.decompress(data)
    return data


def _rpc(repo: Row, service: str, data: bytes) -> bytes:
    path = git_for(hub().store, repo).path
    result = subprocess.run(
        ["git", service.removeprefix("git-"), "--stateless-rpc", str(path)],
        input=data,
        env=git_env(),
        capture_output=True,
    )
    return result.stdout


@bp.post("/<owner>/<repo_git>/git-upload-pack")
def upload_pack(owner: str, repo_git: str) -> Response:
    resolved = _resolve(owner, repo_git, "git-upload-pack")
    if isinstance(resolved, Response):
        return resolved
    repo, _ = resolved
    return Response(
        _rpc(repo, "git-upload-pack", _request_body()),
        mimetype="application/x-git-upload-pack-result",
        headers={"Cache-Control": "no-cache"},
    )


@bp.post("/<owner>/<repo_git>/git-receive-pack")
def receive_pack(owner: str, repo_git: str) -> Response:
    resolved = _resolve(owner, repo_git, "git-receive-pack")
    if isinstance(resolved, Response):
        return resolved
    repo, pusher = resolved
    assert pusher is not None
    data = _request_body()
    git = git_for(hub().store, repo)
    with _push_lock(repo["id"]):  # one push at a time per repo, so the ref diff is this push's
        before = git.refs()
        out = _rpc(repo, "git-receive-pack", data)
        after = git.refs()
    updates = [
        (ref, before.get(ref, "0" * 40), after.get(ref, "0" * 40))
        for ref in sorted(set(before) | set(after))
        if before.get(ref) != after.get(ref)
    ]
    if updates:
        hub().notify_push(repo, updates, pusher)
    return Response(out, mimetype="application/x-git-receive-pack-result", headers={"Cache-Control": "no-cache"})
