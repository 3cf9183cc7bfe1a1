"""localhub.gitops on throw-away bare repos: real-git mergeability, merge/squash/rebase commits,
compare-and-swap ref updates, PR file lists and fresh checkouts."""

from __future__ import annotations

from pathlib import Path

import pytest

from localhub import gitops
from tests.support.git_repos import git, make_repo

ME = gitops.Identity("Merger", "merger@example.com")


def commit(work: Path, branch: str, files: dict[str, str | None], message: str) -> str:
    """Commit `files` (None deletes) on `branch` (created from HEAD when missing) in `work`."""
    exists = branch in git(work, "branch", "--format=%(refname:short)").split()
    git(work, "checkout", "-q", *([branch] if exists else ["-b", branch]))
    for name, text in files.items():
        if text is None:
            git(work, "rm", "-q", name)
        else:
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            (work / name).write_text(text)
            git(work, "add", name)
    git(work, "commit", "-q", "-m", message)
    return git(work, "rev-parse", "HEAD").strip()


@pytest.fixture
def repos(tmp_path: Path) -> tuple[Path, Path]:
    """(work, bare): a work repo with main + branches `ok`, `clash`, `topic`, and its bare clone."""
    work = make_repo(tmp_path / "work", {"a.txt": "one\ntwo\nthree\n", "b.txt": "bee\n"})
    commit(work, "ok", {"c.txt": "new file\n"}, "add c")
    git(work, "checkout", "-q", "main")
    commit(work, "clash", {"a.txt": "one\nTWO (clash)\nthree\n"}, "clash edits a")
    git(work, "checkout", "-q", "main")
    commit(work, "topic", {"b.txt": "bee\nmore\n"}, "topic 1")
    commit(work, "topic", {"d.txt": "dee\n"}, "topic 2")
    commit(work, "main", {"a.txt": "one\nTWO (main)\nthree\n"}, "main edits a")
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    return work, bare


def test_check_merge_reports_clean_tree_and_conflicted_files(repos: tuple[Path, Path]) -> None:
    _, bare = repos
    clean = gitops.check_merge(bare, "main", "ok")
    assert clean.clean and len(clean.tree) == 40
    clash = gitops.check_merge(bare, "main", "clash")
    assert not clash.clean and clash.conflicts == ("a.txt",)


def test_merge_commit_has_two_parents_and_both_sides(repos: tuple[Path, Path]) -> None:
    _, bare = repos
    base, head = gitops.rev_parse(bare, "main"), gitops.rev_parse(bare, "ok")
    assert base and head
    sha = gitops.merge_commit(bare, base, head, "Merge pull request #1 from o/ok\n", ME)
    assert git(bare, "rev-parse", f"{sha}^1").strip() == base
    assert git(bare, "rev-parse", f"{sha}^2").strip() == head
    assert git(bare, "show", f"{sha}:c.txt") == "new file\n"
    assert "TWO (main)" in git(bare, "show", f"{sha}:a.txt")
    assert git(bare, "show", "-s", "--format=%an <%ae>", sha).strip() == "Merger <merger@example.com>"


def test_squash_commit_has_one_parent_and_all_changes(repos: tuple[Path, Path]) -> None:
    _, bare = repos
    base, head = gitops.rev_parse(bare, "main"), gitops.rev_parse(bare, "topic")
    assert base and head
    sha = gitops.squash_commit(bare, base, head, "Topic (#2)\n", ME)
    assert git(bare, "rev-list", "--parents", "-n1", sha).split() == [sha, base]
    assert git(bare, "show", f"{sha}:d.txt") == "dee\n"
    assert git(bare, "show", f"{sha}:b.txt") == "bee\nmore\n"


def test_merge_of_conflicting_head_raises(repos: tuple[Path, Path]) -> None:
    _, bare = repos
    with pytest.raises(gitops.GitOpsError, match="a.txt"):
        gitops.merge_commit(bare, "main", "clash", "m", ME)


def test_rebase_replays_each_commit_keeping_authors(repos: tuple[Path, Path]) -> None:
    _, bare = repos
    base = gitops.rev_parse(bare, "main")
    assert base
    tip = gitops.rebase_commits(bare, base, "topic", ME)
    assert git(bare, "log", "--format=%s", f"{base}..{tip}").split("\n")[:2] == ["topic 2", "topic 1"]
    assert git(bare, "show", "-s", "--format=%an|%cn", tip).strip() == "Test Person|Merger"
    assert gitops.is_ancestor(bare, base, tip)
    assert git(bare, "show", f"{tip}:d.txt") == "dee\n"
    assert "TWO (main)" in git(bare, "show", f"{tip}:a.txt")


def test_rebase_of_conflicting_head_is_refused(repos: tuple[Path, Path]) -> None:
    _, bare = repos
    with pytest.raises(gitops.NotRebaseable, match="a.txt"):
        gitops.rebase_commits(bare, "main", "clash", ME)


def test_update_ref_is_compare_and_swap(repos: tuple[Path, Path]) -> None:
    _, bare = repos
    main, ok = gitops.rev_parse(bare, "main"), gitops.rev_parse(bare, "ok")
    assert main and ok
    with pytest.raises(gitops.RefConflict):
        gitops.update_ref(bare, "refs/heads/main", ok, old=ok)
    assert gitops.rev_parse(bare, "main") == main
    gitops.update_ref(bare, "refs/heads/main", ok, old=main)
    assert gitops.rev_parse(bare, "main") == ok
    gitops.update_ref(bare, "refs/heads/fresh", ok, old=None)
    with pytest.raises(gitops.RefConflict):
        gitops.update_ref(bare, "refs/heads/fresh", main, old=None)


def test_commits_between_and_ancestry(repos: tuple[Path, Path]) -> None:
    _, bare = repos
    assert len(gitops.commits_between(bare, "main", "topic")) == 2
    assert gitops.commits_between(bare, "topic", "main") != []
    assert gitops.rev_parse(bare, "no-such-branch") is None
    assert not gitops.is_ancestor(bare, "main", "topic")


def test_changed_files_lists_status_counts_and_patch(repos: tuple[Path, Path]) -> None:
    work, bare = repos
    commit(work, "mixed", {"b.txt": None, "e.txt": "e1\ne2\n"}, "mixed")
    git(work, "mv", "a.txt", "renamed.txt")
    git(work, "commit", "-q", "-m", "rename")
    git(work, "push", "-q", str(bare), "mixed")
    files = {f.filename: f for f in gitops.changed_files(bare, "main", "mixed")}
    assert files["e.txt"].status == "added" and files["e.txt"].additions == 2
    assert files["e.txt"].patch == "@@ -0,0 +1,2 @@\n+e1\n+e2"
    assert files["b.txt"].status == "removed" and files["b.txt"].deletions == 1 and files["b.txt"].sha is None
    assert files["renamed.txt"].status == "renamed" and files["renamed.txt"].previous_filename == "a.txt"
    assert files["renamed.txt"].patch is None and files["renamed.txt"].changes == 0


def test_changed_files_use_the_fork_point_not_the_base_tip(repos: tuple[Path, Path]) -> None:
    _, bare = repos
    names = [f.filename for f in gitops.changed_files(bare, "main", "topic")]
    assert sorted(names) == ["b.txt", "d.txt"]  # main's later edit of a.txt is not the PR's


def test_checkout_and_read_blob(repos: tuple[Path, Path], tmp_path: Path) -> None:
    _, bare = repos
    sha = gitops.rev_parse(bare, "ok")
    assert sha
    dest = gitops.checkout(bare, sha, tmp_path / "ci" / "run1")
    assert (dest / "c.txt").read_text() == "new file\n"
    assert git(dest, "rev-parse", "HEAD").strip() == sha
    assert git(dest, "remote").strip() == ""  # the checkout cannot push back to the forge
    assert gitops.read_blob(bare, sha, "c.txt") == b"new file\n"
    assert gitops.read_blob(bare, sha, "missing.txt") is None
