"""A failure comment tells the real cause: a bad `models:` entry is fixed in the file on the default
branch; a missing key is fixed in the workers' environment — not "the file named above" for both."""

from __future__ import annotations

from pathlib import Path

from bot import jobs, runtime
from bot.forge.auth import forge_for
from bot.forge.retry import RetryPolicy
from bot.settings import RoleModels
from tests.support.git_repos import git
from tests.support.model_server import ModelServer
from tests.support.planner_bed import REPO, Bed


def _commit_config(bed: Bed, tmp_path: Path, text: str) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", bed.hub.git_url(REPO, "acme"), str(clone))
    (clone / ".github" / "orchestra.yml").write_text(text)
    git(clone, "commit", "-qam", "Pick a planner model")
    git(clone, "push", "-q", "origin", "HEAD:main")


def _failure(bed: Bed, number: int) -> str:
    bodies = [c.body for c in bed.person().get_issue(number).get_comments() if "How to recover" in c.body]
    assert len(bodies) == 1, bodies
    return bodies[0]


def test_the_recovery_names_the_file_or_the_variable(bed: Bed, model_server: ModelServer, tmp_path: Path) -> None:
    _commit_config(bed, tmp_path, "max_parallel_tasks: 10\nmodels:\n  planner: antropic:claude-opus-4-5\n")
    goal = bed.goal()
    bed.submit("plan", goal)
    bed.work()
    comment = _failure(bed, goal)
    assert "model spec 'antropic:claude-opus-4-5': unknown provider" in comment
    assert "Fix `models.planner` in `.github/orchestra.yml` on the default branch" in comment

    # The environment names the planner's model (it beats the file) but the key is missing there.
    given = RoleModels(planner="openai:gpt-test", given={"planner": "ORCHESTRA_MODEL_PLANNER"})
    settings = bed.settings.model_copy(update={"models": given})
    runtime.install(
        runtime.Runtime(
            settings=settings,
            executor=bed.executor,
            jobs=jobs.FUNCTIONS,
            forge_factory=lambda name, inst: forge_for(
                settings, name, inst, policy=RetryPolicy(write_spacing_s=None, scale=0.001)
            ),
            model_env={"OPENAI_BASE_URL": model_server.openai_base_url},
        )
    )
    other = bed.goal("Add a wishlist")
    bed.submit("plan", other)
    bed.work()
    comment = _failure(bed, other)
    assert "model openai:gpt-test: set OPENAI_API_KEY" in comment
    assert "Fix the environment variable `OPENAI_API_KEY` where the orchestra runs" in comment
    assert "default branch" not in comment
    assert model_server.requests == []
