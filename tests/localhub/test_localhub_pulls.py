"""Pull requests on localhub driven by PyGithub and git: mergeability computed by real git (null,
then true/clean or false/dirty), merge and squash-merge, GitHub's 405/409/422 answers, closing
keywords closing issues on merge, synchronize on push, files and reviews."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from github import GithubException
from github.PullRequest import PullRequest
from github.Repository import Repository

from tests.support.git_repos import git, make_repo
from tests.support.localhub import LocalhubHandle
from tests.support.waiting import wait_for


def branch_commit(work: Path, branch: str, files: dict[str, str], message: str, start: str = "main") -> None:
    git(work, "checkout", "-q", "-B", branch, start)
    for name, text in files.items():
        (work / name).write_text(text)
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", message)


@pytest.fixture
def story(localhub: LocalhubHandle, tmp_path: Path) -> tuple[Repository, Path]:
    """Repo `alice/app` with branches feature (clean), clash (conflicts with main), topic; a clone."""
    localhub.add_user("alice")
    work = make_repo(tmp_path / "src", {"app.py": "x = 1\ny = 2\n", "README.md": "# app\n"})
    branch_commit(work, "feature", {"feature.py": "print('feature')\n"}, "add feature")
    branch_commit(work, "clash", {"app.py": "x = 100\ny = 2\n"}, "clash on x")
    branch_commit(work, "topic", {"topic.py": "t = 1\n"}, "topic one")
    branch_commit(work, "topic", {"topic2.py": "t = 2\n"}, "topic two", start="topic")
    branch_commit(work, "main", {"app.py": "x = 10\ny = 2\n"}, "main moves x", start="main")
    localhub.import_repo(work, "alice/app")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", localhub.git_url("alice/app", "alice"), str(clone))
    return localhub.github("alice").get_repo("alice/app"), clone


def settled(pr: PullRequest) -> PullRequest:
    """Poll the PR until GitHub-style background mergeability is known."""

    def known() -> Any:
        pr.update()
        return pr if pr.mergeable is not None else None

    return wait_for(known, timeout=15, what=f"mergeability of #{pr.number}")


def test_mergeable_and_conflicting_prs(story: tuple[Repository, Path]) -> None:
    repo, _ = story
    good = repo.create_pull(title="Feature", body="adds a feature", head="feature", base="main")
    bad = repo.create_pull(title="Clash", body="", head="clash", base="main")
    assert good.number == 1 and bad.number == 2 and good.merged is False
    assert settled(good).mergeable is True and good.mergeable_state == "clean"
    assert settled(bad).mergeable is False and bad.mergeable_state == "dirty"
    assert good.head.sha == repo.get_branch("feature").commit.sha and good.base.ref == "main"
    assert [f.filename for f in good.get_files()] == ["feature.py"]
    assert good.commits == 1 and good.additions == 1 and good.changed_files == 1
    as_issue = repo.get_issue(1)
    assert as_issue.pull_request is not None and as_issue.title == "Feature"
    assert [p.number for p in repo.get_pulls(state="open")] == [2, 1]
    assert [p.number for p in repo.get_pulls(head="alice:clash")] == [2]


def test_merge_closes_referenced_issue(story: tuple[Repository, Path], localhub: LocalhubHandle) -> None:
    repo, _ = story
    issue = repo.create_issue("Need a feature")
    other = repo.create_issue("Unrelated")
    pr = repo.create_pull(
        title="Feature", body=f"Fixes #{issue.number}, see #{other.number}", head="feature", base="main"
    )
    status = pr.merge(merge_method="merge")
    assert status.merged and len(status.sha) == 40
    pr.update()
    assert pr.merged and pr.state == "closed" and pr.merge_commit_sha == status.sha
    main = repo.get_branch("main").commit
    assert main.sha == status.sha and len(main.parents) == 2
    assert main.commit.message.startswith(f"Merge pull request #{pr.number} from alice/feature")
    issue.update()
    assert issue.state == "closed" and issue.state_reason == "completed"
    other.update()
    assert other.state == "open"
    with pytest.raises(GithubException) as again:
        pr.merge()
    assert again.value.status == 405 and again.value.data["message"] == "Pull Request is not mergeable"
    assert pr.is_merged()


def test_squash_merge_makes_one_commit(story: tuple[Repository, Path]) -> None:
    repo, _ = story
    before = repo.get_branch("main").commit.sha
    pr = repo.create_pull(title="Topic", body="", head="topic", base="main")
    status = pr.merge(merge_method="squash")
    head = repo.get_commit(status.sha)
    assert [p.sha for p in head.parents] == [before]
    assert head.commit.message.startswith(f"Topic (#{pr.number})")
    assert "* topic one" in head.commit.message and "* topic two" in head.commit.message
    assert {f.filename for f in head.files} == {"topic.py", "topic2.py"}


def test_rebase_merge_replays_commits(story: tuple[Repository, Path]) -> None:
    repo, _ = story
    before = repo.get_branch("main").commit.sha
    pr = repo.create_pull(title="Topic", body="", head="topic", base="main")
    status = pr.merge(merge_method="rebase")
    tip = repo.get_commit(status.sha)
    assert tip.commit.message.strip() == "topic two"
    assert tip.parents[0].parents[0].sha == before


def test_conflicting_pr_is_refused_with_405(story: tuple[Repository, Path]) -> None:
    repo, _ = story
    pr = repo.create_pull(title="Clash", body="", head="clash", base="main")
    with pytest.raises(GithubException) as refused:
        pr.merge()
    assert refused.value.status == 405 and refused.value.data["message"] == "Pull Request is not mergeable"
    assert repo.get_pull(pr.number).merged is False


def test_stale_sha_is_refused_with_409(story: tuple[Repository, Path]) -> None:
    repo, _ = story
    pr = repo.create_pull(title="Feature", body="", head="feature", base="main")
    with pytest.raises(GithubException) as refused:
        pr.merge(sha="0" * 40)
    assert refused.value.status == 409
    assert refused.value.data["message"] == "Head branch was modified. Review and try the merge again."


def test_create_is_refused_with_github_422_bodies(story: tuple[Repository, Path]) -> None:
    repo, _ = story
    repo.create_pull(title="Feature", body="", head="feature", base="main")
    with pytest.raises(GithubException) as duplicate:
        repo.create_pull(title="Again", body="", head="feature", base="main")
    assert duplicate.value.status == 422
    assert duplicate.value.data["errors"][0]["message"] == "A pull request already exists for alice:feature."
    with pytest.raises(GithubException) as missing:
        repo.create_pull(title="Nowhere", body="", head="no-such-branch", base="main")
    assert missing.value.status == 422 and missing.value.data["errors"][0]["field"] == "head"
    repo.create_git_ref("refs/heads/same", repo.get_branch("main").commit.sha)
    with pytest.raises(GithubException) as none:
        repo.create_pull(title="None", body="", head="same", base="main")
    assert none.value.data["errors"][0]["message"] == "No commits between main and same"


def test_push_to_head_synchronizes_and_push_to_base_recomputes(
    story: tuple[Repository, Path], localhub: LocalhubHandle
) -> None:
    repo, clone = story
    pr = repo.create_pull(title="Feature", body="", head="feature", base="main")
    assert settled(pr).mergeable is True
    git(clone, "checkout", "-q", "main")
    (clone / "feature.py").write_text("print('main made this')\n")
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", "main adds feature.py too")
    git(clone, "push", "-q", "origin", "main")
    assert settled(pr).mergeable is False and pr.mergeable_state == "dirty"
    git(clone, "checkout", "-q", "feature")
    git(clone, "merge", "-q", "-X", "ours", "origin/main", "-m", "merge main")
    git(clone, "push", "-q", "origin", "feature")
    assert settled(pr).mergeable is True
    assert pr.head.sha == git(clone, "rev-parse", "HEAD").strip()


def test_update_title_and_close_without_merge(story: tuple[Repository, Path]) -> None:
    repo, _ = story
    pr = repo.create_pull(title="Feature", body="", head="feature", base="main")
    pr.edit(title="Better title", state="closed")
    pr.update()
    assert pr.title == "Better title" and pr.state == "closed" and pr.merged is False
    assert [p.number for p in repo.get_pulls(state="closed")] == [pr.number]
    pr.edit(state="open")
    assert repo.get_pull(pr.number).state == "open"


def test_reviews_and_review_comments(story: tuple[Repository, Path], localhub: LocalhubHandle) -> None:
    repo, _ = story
    localhub.add_user("bob")
    repo.add_to_collaborators("bob", "push")
    pr = repo.create_pull(title="Feature", body="", head="feature", base="main")
    with pytest.raises(GithubException) as own:
        pr.create_review(body="mine is great", event="APPROVE")
    assert own.value.status == 422 and own.value.data["errors"] == ["Review Can not approve your own pull request"]
    as_bob = localhub.github("bob").get_repo("alice/app").get_pull(pr.number)
    as_bob.create_review(body="please rename", event="REQUEST_CHANGES")
    as_bob.create_review(body="LGTM", event="APPROVE")
    assert [(r.user.login, r.state) for r in pr.get_reviews()] == [("bob", "CHANGES_REQUESTED"), ("bob", "APPROVED")]
    head = repo.get_commit(pr.head.sha)
    comment = as_bob.create_review_comment("why print?", head, "feature.py", line=1, side="RIGHT")
    assert comment.path == "feature.py" and comment.line == 1 and "+print('feature')" in comment.diff_hunk
    reply = pr.create_review_comment_reply(comment.id, "it's a demo")
    assert reply.in_reply_to_id == comment.id
    assert [c.body for c in pr.get_review_comments()] == ["why print?", "it's a demo"]


def test_deleting_the_head_branch_closes_the_pr(story: tuple[Repository, Path]) -> None:
    repo, clone = story
    pr = repo.create_pull(title="Feature", body="", head="feature", base="main")
    git(clone, "push", "-q", "origin", "--delete", "feature")
    pr.update()
    assert pr.state == "closed" and pr.merged is False


def test_pushing_the_head_onto_the_base_marks_the_pr_merged(story: tuple[Repository, Path]) -> None:
    repo, clone = story
    pr = repo.create_pull(title="Feature", body="Closes #99", head="feature", base="main")
    git(clone, "checkout", "-q", "main")
    git(clone, "merge", "-q", "--no-edit", "origin/feature")
    git(clone, "push", "-q", "origin", "main")
    pr.update()
    assert pr.merged and pr.state == "closed" and pr.merged_by.login == "alice"


def test_closing_keywords_are_githubs() -> None:
    from localhub.pullflow import closing_references

    text = "Fixes #1, closes: #2 and RESOLVED #3; fix #1 again. Mentions #4, prefix#5, unfixes #6, Close #7"
    assert closing_references(text) == [1, 2, 3, 7]
