"""The plan job honours the repository's own `label_prefix`: a goal labelled `acme:goal` in a repository
configured with `label_prefix: acme` is planned into `acme:task` issues; `orchestra:goal` there is not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.git_repos import git
from tests.support.model_server import ModelServer, Turn
from tests.support.planner_bed import REPO, Bed, task

PLAN = {"tasks": [task("models", "Order model", ["shop/order.py"]), task("docs", "Checkout docs", ["docs/c.md"])]}


def _commit_config(bed: Bed, tmp_path: Path, text: str) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", bed.hub.git_url(REPO, "acme"), str(clone))
    (clone / ".github" / "orchestra.yml").write_text(text)
    git(clone, "commit", "-qam", "Use our own label prefix")
    git(clone, "push", "-q", "origin", "HEAD:main")


def test_the_plan_job_plans_goals_under_the_repositorys_own_prefix(
    bed: Bed, model_server: ModelServer, tmp_path: Path
) -> None:
    model_server.policy(lambda body, provider: Turn(tool_calls=[("submit_plan", PLAN)]))
    _commit_config(bed, tmp_path, "max_parallel_tasks: 10\nlabel_prefix: acme\n")
    repo = bed.person()
    foreign = repo.create_issue("Not ours", "An orchestra:goal label under another prefix.", labels=["orchestra:goal"])
    bed.submit("plan", foreign.number)
    bed.work()
    assert list(repo.get_issue(foreign.number).get_sub_issues()) == []
    assert len(model_server.requests) == 0

    repo.create_label("acme:goal", "5319e7")
    goal = repo.create_issue("Add a checkout", "Customers can pay.", labels=["acme:goal"])
    bed.submit("plan", goal.number)
    bed.work()
    subs: list[Any] = list(repo.get_issue(goal.number).get_sub_issues())
    assert len(subs) == 2
    for sub in subs:
        names = {label.name for label in repo.get_issue(sub.number).labels}
        assert names == {"acme:task", "acme:ready"}
