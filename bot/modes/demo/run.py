"""`orchestra demo`: local mode on the bundled example project with `scripted:demo`, no keys and no network."""

from __future__ import annotations

from pathlib import Path

from bot.modes.demo import DEMO_MODEL
from bot.modes.demo.example import make_demo_repo
from bot.modes.demo.plan import GOAL_BODY, GOAL_TITLE
from bot.modes.local.progress import Display
from bot.modes.local.result import RunSummary
from bot.modes.local.run import Goal, run_local
from bot.modes.local.session import LocalOptions
from bot.settings import Settings


def run_demo(
    display: Display,
    workers: int = 4,
    directory: Path | None = None,
    timeout_s: float = 600.0,
    settings: Settings | None = None,
) -> RunSummary:
    """Make the example repository, run the demo goal on it, and return the summary."""
    repo = make_demo_repo(directory)
    display.message(
        f"Example project `unitconv` committed at {repo}. The model is {DEMO_MODEL}: "
        "a scripted demonstration device, not a model — it plays planner, workers, CI fixer and "
        "conflict resolver so the real machinery can be watched without keys or network."
    )
    options = LocalOptions(repo=repo, workers=workers, model=DEMO_MODEL, merge=None, repo_name="unitconv")
    return run_local(options, settings or Settings(), Goal(GOAL_TITLE, GOAL_BODY), display, timeout_s=timeout_s)
