"""localhub's human-readable pages render what is on the forge: the repo list, issue and PR lists,
an issue page (body, comments, labels, sub-issues) and a PR page (mergeability, checks, reviews);
git's `/{o}/{r}.git/...` URLs keep working next to them."""

from __future__ import annotations

from pathlib import Path

import requests

from tests.support.git_repos import git, make_repo
from tests.support.localhub import LocalhubHandle


def test_pages_show_issues_and_pull_requests(localhub: LocalhubHandle, tmp_path: Path) -> None:
    localhub.add_user("alice")
    work = make_repo(tmp_path / "src", {"app.py": "x = 1\n"})
    git(work, "checkout", "-q", "-b", "feature")
    (work / "app.py").write_text("x = 2\n")
    git(work, "commit", "-q", "-am", "feature")
    localhub.import_repo(work, "alice/app", ci="echo from-ci; exit 1")
    repo = localhub.github("alice").get_repo("alice/app")
    goal = repo.create_issue("Ship <the> goal", body="Goal body text", labels=["orchestra:goal"])
    task = repo.create_issue("First task")
    goal.add_sub_issue(task.id)
    goal.create_comment("A comment from the planner")
    pr = repo.create_pull(title="Implement the task", body=f"Closes #{task.number}", head="feature", base="main")
    assert localhub.hub.ci.drain(60)

    def page(path: str) -> str:
        resp = requests.get(localhub.url + path, timeout=10)
        assert resp.status_code == 200, (path, resp.status_code)
        assert resp.headers["Content-Type"].startswith("text/html")
        return resp.text

    assert "alice/app" in page("/")
    assert "Ship &lt;the&gt; goal" in page("/alice/app/issues") and "Implement the task" not in page(
        "/alice/app/issues"
    )
    assert "Implement the task" in page("/alice/app/pulls")
    goal_page = page(f"/alice/app/issues/{goal.number}")
    assert "Goal body text" in goal_page and "A comment from the planner" in goal_page
    assert "orchestra:goal" in goal_page and "First task" in goal_page
    pr_page = page(f"/alice/app/pull/{pr.number}")
    assert "Implement the task" in pr_page and "feature → main" in pr_page
    assert "from-ci" in pr_page and "failure" in pr_page
    redirected = requests.get(f"{localhub.url}/alice/app/issues/{pr.number}", timeout=10)
    assert redirected.url.endswith(f"/alice/app/pull/{pr.number}")
    assert requests.get(f"{localhub.url}/alice/app/issues/999", timeout=10).status_code == 404
    refs = requests.get(f"{localhub.url}/alice/app.git/info/refs?service=git-upload-pack", timeout=10)
    assert refs.status_code == 200 and b"refs/heads/main" in refs.content
