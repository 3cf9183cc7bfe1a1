"""The bundled example project (`bot/demo/project/`, a small real Python library) made into a git repository."""

from __future__ import annotations

import shutil
import tempfile
from importlib import resources
from pathlib import Path

from bot.modes.local.userrepo import git

IDENTITY = {
    "GIT_AUTHOR_NAME": "Demo Person",
    "GIT_AUTHOR_EMAIL": "demo@orchestra.local",
    "GIT_COMMITTER_NAME": "Demo Person",
    "GIT_COMMITTER_EMAIL": "demo@orchestra.local",
}


def project_source() -> Path:
    """Where the bundled project's files are (package data of `bot.modes.demo`)."""
    return Path(str(resources.files("bot.modes.demo") / "project"))


def make_demo_repo(target: Path | None = None) -> Path:
    """Copy the example project to `target` (default: a new temp dir) and commit it on `main`."""
    root = Path(target) if target is not None else Path(tempfile.mkdtemp(prefix="orchestra-demo-"))
    repo = root / "unitconv"
    if repo.exists():
        raise FileExistsError(f"{repo} already exists; pick another --dir")
    shutil.copytree(project_source(), repo, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "unitconv: lengths", extra_env=IDENTITY)
    return repo
