"""localhub serves PyGithub and git through a whole story: repo, push, labels, issues, sub-issues,
comments, assignees, pagination, contents, branches, refs and commits."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from github import GithubException

from tests.support.git_repos import git, make_repo


def test_pygithub_and_git_story(localhub, tmp_path: Path) -> None:
    localhub.add_user("alice")
    localhub.add_user("bob")
    gh = localhub.github("alice")
    me = gh.get_user()
    assert me.login == "alice"
    repo = me.create_repo("story", description="a story")
    assert repo.full_name == "alice/story"
    assert repo.clone_url == localhub.git_url("alice/story")

    # push over HTTP with a token
    work = make_repo(tmp_path / "work", {"README.md": "# story\n", "src/app.py": "print('hi')\n"})
    git(work, "push", localhub.git_url("alice/story", "alice"), "main")
    git(work, "checkout", "-q", "-b", "feature")
    (work / "src" / "app.py").write_text("print('feature')\n")
    git(work, "commit", "-qam", "feature work")
    git(work, "push", localhub.git_url("alice/story", "alice"), "feature")
    feature_sha = git(work, "rev-parse", "HEAD").strip()

    # contents, branches, refs, commits
    readme = repo.get_contents("README.md")
    assert base64.b64decode(readme.content) == b"# story\n"
    assert repo.get_contents("src/app.py", ref="feature").decoded_content == b"print('feature')\n"
    listing = repo.get_contents("src")
    assert [c.path for c in listing] == ["src/app.py"]
    assert repo.get_branch("feature").commit.sha == feature_sha
    assert {b.name for b in repo.get_branches()} == {"main", "feature"}
    ref = repo.get_git_ref("heads/feature")
    assert ref.object.sha == feature_sha
    commit = repo.get_commit("feature")
    assert commit.commit.message == "feature work"
    assert [f.filename for f in commit.files] == ["src/app.py"]
    ref.delete()
    with pytest.raises(GithubException) as missing:
        repo.get_branch("feature")
    assert missing.value.status == 404

    # labels, issues, assignees, comments
    repo.create_label("bug", "d73a4a", "Something is broken")
    assert [label.name for label in repo.get_labels()] == ["bug"]
    repo.add_to_collaborators("bob", "push")
    assert repo.get_collaborator_permission("bob") == "write"
    issue = repo.create_issue("Crash on start", body="It crashes.", labels=["bug"], assignees=["bob"])
    assert issue.number == 1
    assert [label.name for label in issue.labels] == ["bug"]
    assert [a.login for a in issue.assignees] == ["bob"]
    issue.add_to_labels("triaged")
    assert {label.name for label in repo.get_issue(1).labels} == {"bug", "triaged"}
    issue.remove_from_labels("bug")
    issue.set_labels("ready")
    assert [label.name for label in repo.get_issue(1).labels] == ["ready"]
    issue.remove_from_assignees("bob")
    issue.add_to_assignees("alice")
    assert [a.login for a in repo.get_issue(1).assignees] == ["alice"]

    bob_issue = localhub.github("bob").get_repo("alice/story").get_issue(1)
    comment = bob_issue.create_comment("I can reproduce it.")
    comment.edit("I can reproduce it on main.")
    assert [c.body for c in issue.get_comments()] == ["I can reproduce it on main."]
    assert repo.get_issue(1).comments == 1
    comment.delete()
    assert list(issue.get_comments()) == []

    # sub-issues: added by the child's id, listed, summarised, removed
    child_a = repo.create_issue("Task A")
    child_b = repo.create_issue("Task B")
    issue.add_sub_issue(child_a.id)
    issue.add_sub_issue(child_b.id)
    assert [s.number for s in issue.get_sub_issues()] == [child_a.number, child_b.number]
    child_a.edit(state="closed")
    summary = localhub.github("alice").get_repo("alice/story").get_issue(1).raw_data["sub_issues_summary"]
    assert summary == {"total": 2, "completed": 1, "percent_completed": 50}
    issue.remove_sub_issue(child_b.id)
    assert [s.number for s in issue.get_sub_issues()] == [child_a.number]

    # state and state_reason
    issue.edit(state="closed", state_reason="not_planned")
    closed = repo.get_issue(1)
    assert (closed.state, closed.state_reason, closed.closed_by.login) == ("closed", "not_planned", "alice")
    issue.edit(state="open")
    assert repo.get_issue(1).state_reason == "reopened"


def test_issue_list_filters_and_pagination(localhub) -> None:
    localhub.add_user("alice")
    repo = localhub.github("alice").get_user().create_repo("many")
    for n in range(1, 36):
        labels = ["even"] if n % 2 == 0 else []
        repo.create_issue(f"Issue {n}", labels=labels)
    repo.get_issue(3).edit(state="closed")

    open_issues = repo.get_issues(state="open")
    assert open_issues.totalCount == 34
    numbers = [i.number for i in open_issues]
    assert numbers == [n for n in range(35, 0, -1) if n != 3]  # newest first, across two pages
    assert [i.number for i in repo.get_issues(state="closed")] == [3]
    assert {i.number for i in repo.get_issues(state="all", labels=[repo.get_label("even")])} == set(range(2, 36, 2))
    assert repo.get_issues(state="all", assignee="none").totalCount == 35

    page = localhub.github("alice").get_repo("alice/many").get_issues(state="all")
    first_page = page.get_page(0)
    assert len(first_page) == 30


def test_errors_have_github_shape(localhub) -> None:
    localhub.add_user("alice")
    gh = localhub.github("alice")
    with pytest.raises(GithubException) as missing:
        gh.get_repo("alice/nope")
    assert missing.value.status == 404
    assert missing.value.data["message"] == "Not Found"
    assert "documentation_url" in missing.value.data
    repo = gh.get_user().create_repo("errs")
    with pytest.raises(GithubException) as invalid:
        repo.create_label("bad", "not-a-color")
    assert invalid.value.status == 422
    assert invalid.value.data["message"] == "Validation Failed"


def test_a_json_body_sent_with_a_form_content_type_is_read_as_json(localhub) -> None:
    """`curl -d '{...}'` sends application/x-www-form-urlencoded; GitHub reads the JSON anyway."""
    import requests

    token = localhub.add_user("alice")
    localhub.github("alice").get_user().create_repo("curl")
    answer = requests.post(
        f"{localhub.api_url}/repos/alice/curl/issues",
        data='{"title": "From curl", "labels": ["goal"]}',
        headers={"Authorization": f"token {token}", "Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["title"] == "From curl"
    assert [label["name"] for label in answer.json()["labels"]] == ["goal"]


def test_import_keeps_branches_and_head(localhub, tmp_path: Path) -> None:
    localhub.add_user("alice")
    source = make_repo(tmp_path / "src", {"a.txt": "a\n"}, branch="trunk")
    git(source, "branch", "side")
    localhub.import_repo(source, "alice/imported", ci="make test")
    repo = localhub.github("alice").get_repo("alice/imported")
    assert repo.default_branch == "trunk"
    assert {b.name for b in repo.get_branches()} == {"trunk", "side"}
    assert localhub.hub.store.repo("alice", "imported")["ci_command"] == "make test"


def test_remaining_core_endpoints(localhub, localhub_app, tmp_path: Path) -> None:
    """The core endpoints the story does not touch answer GitHub's shapes (checked by the fixture)."""
    import requests
    from github import Auth, GithubIntegration

    localhub.add_user("alice")
    gh = localhub.github("alice")
    headers = {"Authorization": f"token {localhub.token('alice')}"}
    api = localhub.api_url
    made = requests.post(
        f"{api}/orgs/acme/repos", json={"name": "tools", "auto_init": True}, headers=headers, timeout=10
    )
    assert made.status_code == 201 and made.json()["owner"]["type"] == "Organization"
    repo = gh.get_repo("acme/tools")
    assert repo.get_collaborator_permission("alice") == "admin"
    assert [c.login for c in repo.get_collaborators()] == ["alice"]
    assert gh.get_user("alice").login == "alice"
    main_sha = repo.get_branch("main").commit.sha
    ref = repo.create_git_ref("refs/heads/topic", main_sha)
    assert ref.ref == "refs/heads/topic"
    assert [r.ref for r in repo.get_git_matching_refs("heads/")] == ["refs/heads/main", "refs/heads/topic"]
    assert [c.sha for c in repo.get_commits()] == [main_sha]
    work = make_repo(tmp_path / "work", {"b.txt": "b\n"})  # unrelated history
    git(work, "push", "-q", localhub.git_url("acme/tools", "alice"), "main:side")
    side_sha = repo.get_branch("side").commit.sha
    with pytest.raises(GithubException) as not_ff:
        ref.edit(side_sha)
    assert not_ff.value.status == 422
    ref.edit(side_sha, force=True)
    assert repo.get_git_ref("heads/topic").object.sha == side_sha

    label = repo.create_label("old", "ffffff")
    label.edit("new", "000000", "renamed")
    assert repo.get_label("new").description == "renamed"
    issue = repo.create_issue("Parent", labels=["new"])
    issue.delete_labels()
    assert repo.get_issue(issue.number).labels == []
    repo.get_label("new").delete()
    assert [lab.name for lab in repo.get_labels()] == []
    child = repo.create_issue("Child")
    issue.add_sub_issue(child.id)
    parent = requests.get(f"{api}/repos/acme/tools/issues/{child.number}/parent", headers=headers, timeout=10)
    assert parent.json()["number"] == issue.number
    comment = child.create_comment("c")
    assert repo.get_issues_comments()[0].id == comment.id
    assert child.get_comment(comment.id).body == "c"

    integration = GithubIntegration(auth=Auth.AppAuth(localhub_app.app_id, localhub_app.private_key_pem), base_url=api)
    assert integration.get_org_installation("acme").id == localhub_app.installation_id
    assert integration.get_app().slug == "orchestra"


def test_schema_guard_reports_a_wrong_shape(localhub) -> None:
    """The fixture's response check is live: a body missing GitHub's required fields is reported."""
    from flask import Response

    from tests.support.localhub import _schema_check

    check = _schema_check(localhub)
    assert check is not None
    check("GET", "/repos/o/r/issues/1", Response('{"number": 1}', mimetype="application/json"))
    assert len(localhub.failures) == 1 and "GET /repos/o/r/issues/1" in localhub.failures[0]
    localhub.failures.clear()
