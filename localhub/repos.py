"""Creating repositories: an empty or initialised bare repo, or one imported from a local clone."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from localhub.gitrepo import BareRepo, GitFailed, git_env
from localhub.store import Row, Store, now_iso


class RepoExists(ValueError):
    """A repository with that name already exists for that owner."""


def git_for(store: Store, repo: Row) -> BareRepo:
    owner = store.user_by_id(repo["owner_id"])
    return BareRepo(store.git_path(owner["login"], repo["name"]))


def create_repo(
    store: Store,
    owner: Row,
    name: str,
    *,
    description: str | None = None,
    private: bool = False,
    default_branch: str = "main",
    auto_init: bool = False,
    ci_command: str | None = None,
) -> Row:
    """Insert the repo row and initialise its bare repo (with a README commit if `auto_init`)."""
    if store.repo(owner["login"], name) is not None:
        raise RepoExists(f"{owner['login']}/{name}")
    stamp = now_iso()
    with store.write() as db:
        db.execute(
            "INSERT INTO repos(owner_id, name, description, private, default_branch, ci_command,"
            " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
            (owner["id"], name, description, int(private), default_branch, ci_command, stamp, stamp),
        )
    repo = store.repo(owner["login"], name)
    assert repo is not None
    bare = git_for(store, repo)
    bare.init(default_branch)
    if auto_init:
        _initial_commit(bare, default_branch, f"# {name}\n\n{description or ''}\n".rstrip() + "\n")
        touch_pushed(store, repo["id"])
    return store.get("SELECT * FROM repos WHERE id=?", (repo["id"],))


def _initial_commit(bare: BareRepo, branch: str, readme: str) -> None:
    env = {
        **git_env(),
        "GIT_AUTHOR_NAME": "localhub",
        "GIT_AUTHOR_EMAIL": "localhub@localhost",
        "GIT_COMMITTER_NAME": "localhub",
        "GIT_COMMITTER_EMAIL": "localhub@localhost",
    }
    blob = bare.run("hash-object", "-w", "--stdin", input=readme.encode()).decode().strip()
    tree = bare.run("mktree", input=f"100644 blob {blob}\tREADME.md\n".encode()).decode().strip()
    commit = (
        subprocess.run(
            ["git", "commit-tree", tree, "-m", "Initial commit"],
            cwd=bare.path,
            env=env,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    bare.update_ref(f"refs/heads/{branch}", commit)


def touch_pushed(store: Store, repo_id: int) -> None:
    stamp = now_iso()
    with store.write() as db:
        db.execute("UPDATE repos SET pushed_at=?, updated_at=? WHERE id=?", (stamp, stamp, repo_id))


def import_repo(store: Store, source: Path, owner: Row, name: str, ci_command: str | None = None) -> Row:
    """Create `owner/name` from the local repository at `source`: every branch and tag.

    The default branch is the source's HEAD branch.
    """
    source = Path(source).resolve()
    head = subprocess.run(
        ["git", "symbolic-ref", "--short", "HEAD"], cwd=source, env=git_env(), capture_output=True, text=True
    )
    default_branch = head.stdout.strip() if head.returncode == 0 else "main"
    repo = create_repo(store, owner, name, default_branch=default_branch, ci_command=ci_command)
    bare = git_for(store, repo)
    with tempfile.TemporaryDirectory() as scratch:
        env = {**git_env(), "HOME": scratch}
        result = subprocess.run(
            ["git", "push", "--quiet", str(bare.path), "refs/heads/*:refs/heads/*", "refs/tags/*:refs/tags/*"],
            cwd=source,
            env=env,
            capture_output=True,
            text=True,
        )
    if result.returncode != 0:
        raise GitFailed(f"import from {source}: {result.stderr.strip()}")
    touch_pushed(store, repo["id"])
    return store.get("SELECT * FROM repos WHERE id=?", (repo["id"],))


def set_ci_command(store: Store, repo_id: int, command: str | None) -> None:
    with store.write() as db:
        db.execute("UPDATE repos SET ci_command=? WHERE id=?", (command, repo_id))


def owner_login(store: Store, repo: Row) -> str:
    return str(store.user_by_id(repo["owner_id"])["login"])
