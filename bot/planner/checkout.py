"""A read-only checkout of a repository's default branch for the planner: a bare mirror plus a worktree.

The mirror lives under the state dir and is fetched on each use; the token travels per command
as `http.extraHeader` through `GIT_CONFIG_COUNT/KEY/VALUE` in the environment, never into
`.git/config` or a URL. A file lock serialises fetches and worktree changes on one mirror
between jobs of one machine. (The worker's workspace does the same for writable worktrees;
the two can share one mirror module once both exist.)
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bot.errors import ForgeUnavailable
from bot.forge.client import Forge

GIT_TIMEOUT_S = 600


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return {**base, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
            **(extra or {})}


def _git(args: list[str], env: dict[str, str] | None = None) -> str:
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, env=_env(env), timeout=GIT_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise ForgeUnavailable(f"git {args[0]} timed out after {GIT_TIMEOUT_S}s") from exc
    if done.returncode != 0:
        raise ForgeUnavailable(f"git {args[0]} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


def mirror_path(state_dir: Path, repo: str) -> Path:
    return state_dir / "mirrors" / (re.sub(r"[^A-Za-z0-9._-]", "__", repo) + ".git")


@contextlib.contextmanager
def _locked(mirror: Path) -> Iterator[None]:
    mirror.parent.mkdir(parents=True, exist_ok=True)
    with open(str(mirror) + ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def update_mirror(forge: Forge, state_dir: Path) -> Path:
    """Clone the bare mirror when missing, else fetch; return its path."""
    mirror = mirror_path(state_dir, forge.repo_full_name)
    auth = forge.git_env()
    with _locked(mirror):
        if not (mirror / "HEAD").exists():
            _git(["clone", "--mirror", "--quiet", forge.git_remote_url(), str(mirror)], auth)
        else:
            _git(["-C", str(mirror), "fetch", "--prune", "--quiet", "origin"], auth)
    return mirror


@contextlib.contextmanager
def readonly_checkout(forge: Forge, state_dir: Path, ref: str | None = None) -> Iterator[Path]:
    """A detached worktree of `ref` (default: the default branch), removed afterwards."""
    mirror = update_mirror(forge, state_dir)
    branch = ref or forge.default_branch()
    (state_dir / "checkouts").mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="plan-", dir=state_dir / "checkouts"))
    with _locked(mirror):
        _git(["-C", str(mirror), "worktree", "add", "--detach", "--force", str(path), branch])
    try:
        yield path
    finally:
        with _locked(mirror):
            with contextlib.suppress(ForgeUnavailable):
                _git(["-C", str(mirror), "worktree", "remove", "--force", str(path)])
            shutil.rmtree(path, ignore_errors=True)
            with contextlib.suppress(ForgeUnavailable):
                _git(["-C", str(mirror), "worktree", "prune"])
