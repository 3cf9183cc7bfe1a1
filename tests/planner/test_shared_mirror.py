"""The planner's read-only checkout and the workers' worktrees share one mirror per repository, in either
order, and neither removes what the other fetched. Found in wave 2: worker first, the planner failed with
"'origin' does not appear to be a git repository"; planner after worker, its `fetch --prune` deleted the
worker's branch refs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.git import REMOTE_PREFIX, Identity, Mirror
from tests.support.git_repos import git
from tests.support.planner_bed import REPO, Bed

BRANCH = "orchestra/9-feature"


def _push_branch(bed: Bed, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", bed.hub.git_url(REPO, "acme"), str(clone))
    git(clone, "checkout", "-q", "-b", BRANCH)
    (clone / "shop" / "feature.py").write_text("FEATURE = True\n")
    git(clone, "add", "-A")
    git(clone, "commit", "-qm", "A task's work")
    git(clone, "push", "-q", "origin", BRANCH)


def _planner_sees_main(bed: Bed, state: Path) -> None:
    planner = bed.planner(model=lambda: None)
    planner.state_dir = state
    with planner.worktree() as root:
        assert (root / "shop" / "cart.py").read_text().startswith("class Cart")


@pytest.mark.parametrize("order", ["worker-first", "planner-first"])
def test_planner_and_worker_share_one_mirror_and_keep_every_branch(bed: Bed, tmp_path: Path, order: str) -> None:
    _push_branch(bed, tmp_path)
    state = tmp_path / f"state-{order}"
    worker = Mirror.of(bed.forge(), state, Identity("Orchestra Bot", "bot@example.com"))
    if order == "planner-first":
        _planner_sees_main(bed, state)
    worker.fetch()
    tip = worker.sha(BRANCH)
    assert tip is not None
    _planner_sees_main(bed, state)
    assert worker.sha(BRANCH) == tip  # the planner's fetch pruned nothing of the worker's
    with worker.worktree(REMOTE_PREFIX + BRANCH) as wt:
        assert (wt.path / "shop" / "feature.py").read_text() == "FEATURE = True\n"
    assert [p.name for p in (state / "mirrors").iterdir() if p.suffix == ".git"] == ["acme__shop.git"]
