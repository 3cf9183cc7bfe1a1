"""GitHub's JSON shapes of commits, branches, refs and contents, read from a bare repo."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from localhub.gitrepo import BareRepo, TreeEntry
from localhub.shapes import JSON, Shapes, node_id


def _person_user(shapes: Shapes, email: str) -> JSON | None:
    """The user a commit identity maps to (by email, then by the local part as login)."""
    store = shapes.store
    row = store.one("SELECT * FROM users WHERE email=?", (email,))
    if row is None:
        row = store.user_by_login(email.split("@", 1)[0])
    return shapes.user(row) if row else None


def commit(shapes: Shapes, full: str, git: BareRepo, sha: str, with_files: bool = True) -> JSON:
    info = git.commit(sha)
    api = f"{shapes.api}/repos/{full}"
    data: JSON = {
        "sha": info.sha,
        "node_id": node_id("C", int(info.sha[:12], 16)),
        "url": f"{api}/commits/{info.sha}",
        "html_url": f"{shapes.web}/{full}/commit/{info.sha}",
        "comments_url": f"{api}/commits/{info.sha}/comments",
        "commit": {
            "url": f"{api}/git/commits/{info.sha}",
            "author": {"name": info.author_name, "email": info.author_email, "date": info.author_date},
            "committer": {"name": info.committer_name, "email": info.committer_email, "date": info.committer_date},
            "message": info.message,
            "tree": {"sha": info.tree, "url": f"{api}/git/trees/{info.tree}"},
            "comment_count": 0,
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
                "verified_at": None,
            },
        },
        "author": _person_user(shapes, info.author_email),
        "committer": _person_user(shapes, info.committer_email),
        "parents": [
            {"sha": p, "url": f"{api}/commits/{p}", "html_url": f"{shapes.web}/{full}/commit/{p}"} for p in info.parents
        ],
    }
    if with_files:
        changes = git.changed_files(sha)
        files = [
            {
                "sha": None,
                "filename": path,
                "status": status,
                "additions": 0,
                "deletions": 0,
                "changes": 0,
                "blob_url": f"{shapes.web}/{full}/blob/{sha}/{path}",
                "raw_url": f"{shapes.web}/{full}/raw/{sha}/{path}",
                "contents_url": f"{api}/contents/{quote(path)}?ref={sha}",
            }
            for key, status in (("added", "added"), ("removed", "removed"), ("modified", "modified"))
            for path in changes[key]
        ]
        data["stats"] = {"total": 0, "additions": 0, "deletions": 0}
        data["files"] = files
    return data


def branch(
    shapes: Shapes, full: str, git: BareRepo, name: str, sha: str, protection: dict[str, Any] | None = None
) -> JSON:
    """`branch-with-protection`; `protection` is the branch's classic protection config, if any."""
    api = f"{shapes.api}/repos/{full}/branches/{quote(name, safe='')}"
    checks = (protection or {}).get("required_status_checks") or {"checks": []}
    level = (
        "off" if not checks["checks"] else "everyone" if protection and protection["enforce_admins"] else "non_admins"
    )
    return {
        "name": name,
        "commit": commit(shapes, full, git, sha, with_files=False),
        "_links": {"self": api, "html": f"{shapes.web}/{full}/tree/{name}"},
        "protected": protection is not None,
        "protection": {
            "enabled": protection is not None,
            "required_status_checks": {
                "enforcement_level": level,
                "contexts": [c["context"] for c in checks["checks"]],
                "checks": [{"context": c["context"], "app_id": c["app_id"]} for c in checks["checks"]],
            },
        },
        "protection_url": f"{api}/protection",
    }


def short_branch(shapes: Shapes, full: str, name: str, sha: str, protected: bool = False) -> JSON:
    return {
        "name": name,
        "commit": {"sha": sha, "url": f"{shapes.api}/repos/{full}/commits/{sha}"},
        "protected": protected,
    }


def ref(shapes: Shapes, full: str, refname: str, sha: str) -> JSON:
    api = f"{shapes.api}/repos/{full}"
    return {
        "ref": refname,
        "node_id": node_id("REF", abs(hash(refname)) % 10**9),
        "url": f"{api}/git/{refname}",
        "object": {"type": "commit", "sha": sha, "url": f"{api}/git/commits/{sha}"},
    }


#: The contents API inlines a file's content up to this size (GitHub's 1 MB); above, `encoding: none`.
MAX_CONTENT_BYTES = 1024 * 1024


def content(shapes: Shapes, full: str, git: BareRepo, rev: str, entry: TreeEntry, with_body: bool) -> JSON:
    api = f"{shapes.api}/repos/{full}"
    kind = {"blob": "file", "tree": "dir", "commit": "submodule"}[entry.type]
    if entry.mode == "120000":
        kind = "symlink"
    self_url = f"{api}/contents/{quote(entry.path)}?ref={quote(rev, safe='')}"
    git_url = f"{api}/git/{'trees' if kind == 'dir' else 'blobs'}/{entry.sha}"
    html = f"{shapes.web}/{full}/{'tree' if kind == 'dir' else 'blob'}/{rev}/{entry.path}"
    data: dict[str, Any] = {
        "type": kind,
        "size": entry.size if kind == "file" else 0,
        "name": entry.path.rsplit("/", 1)[-1],
        "path": entry.path,
        "sha": entry.sha,
        "url": self_url,
        "git_url": git_url,
        "html_url": html,
        "download_url": f"{shapes.web}/{full}/raw/{rev}/{entry.path}" if kind == "file" else None,
        "_links": {"self": self_url, "git": git_url, "html": html},
    }
    if with_body and kind == "file" and entry.size > MAX_CONTENT_BYTES:
        # GitHub answers files over 1 MB without their content (only the `raw` media type has it).
        data.update({"content": "", "encoding": "none"})
    elif with_body and kind in ("file", "symlink"):
        raw = git.blob(entry.sha)
        encoded = base64.encodebytes(raw).decode()
        data.update({"content": encoded, "encoding": "base64"})
        if kind == "symlink":
            data["target"] = raw.decode(errors="replace")
    return data
