"""The synthetic repository the scale bench runs on: a package of modules, their tests and one shared spot."""

from __future__ import annotations

from pathlib import Path

from bot.modes.local.userrepo import git

IDENTITY = {
    "GIT_AUTHOR_NAME": "Bench Person",
    "GIT_AUTHOR_EMAIL": "bench@orchestra.local",
    "GIT_COMMITTER_NAME": "Bench Person",
    "GIT_COMMITTER_EMAIL": "bench@orchestra.local",
}

FILES = {
    # Without it the acceptance commands' bytecode is committed with every task, and every PR conflicts.
    ".gitignore": "__pycache__/\n*.pyc\n",
    "README.md": "# bench\n\nA synthetic project for `orchestra bench scale`.\n",
    "shared.py": '"""The one spot several tasks edit."""\n\nENTRIES = [\n    "base",\n]\n',
    "mods/__init__.py": '"""One module per task."""\n',
    "tests/__init__.py": "",
    # Raised bounds: every task may run at once, and one plan may hold every task.
    ".github/orchestra.yml": "max_parallel_tasks: 128\nplanner:\n  max_tasks: 100\n",
}


def make_bench_repo(root: Path) -> Path:
    """Write the synthetic project under `root/bench` and commit it on `main`."""
    repo = root / "bench"
    for path, text in FILES.items():
        target = repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "bench: the synthetic project", extra_env=IDENTITY)
    return repo
