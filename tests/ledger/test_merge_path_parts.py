"""The merge path's parts: a batch commit says what it holds (and only a commit whose parents agree is a batch);
attempts count failures and give races back; the config's queue keys; union merges in the worker's mirror
that write nothing into the repository; pushes refused by a protected branch are told from stale ones."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot.errors import ConfigError, PushDeclined
from bot.git import PUSHED, STALE, Identity, Mirror, base_env, push_outcome
from bot.ledger import attempts as attempts_mod
from bot.ledger import batches
from bot.llm.types import Usage
from bot.repoconfig import RepoConfig, parse_repo_config
from tests.support.git_repos import git, make_repo

A, B, T = "a" * 40, "b" * 40, "c" * 40


def test_a_batch_commit_round_trips_and_only_agreeing_parents_make_a_batch() -> None:
    members = [batches.Member(12, A, "Add the login page", "Adds /login.\n\nWith tests."), batches.Member(15, B, "Fix")]
    text = batches.message("main", T, members, ["ci"], split_rest=[17, 20])
    assert text.startswith("Merge queue: #12, #15 into main\n\n#12 Add the login page\nAdds /login. With tests.\n")
    batch = batches.parse("d" * 40, [T, A, B], text)
    assert batch is not None and batch.base == T and batch.numbers == [12, 15]
    assert batch.members[0].title == "Add the login page" and batch.checks == ("ci",) and batch.split_rest == (17, 20)
    assert batches.without_trailers(text).endswith("#15 Fix") and "Orchestra-Queue" not in batches.without_trailers(
        text
    )
    assert batches.parse("d" * 40, [T, B, A], text) is None  # parents in another order: not ours
    assert batches.parse("d" * 40, [A, B], text) is None
    assert batches.parse("d" * 40, [T, A], "Merge branch 'x'\n") is None
    quoted = batches.message("main", T, [batches.Member(3, A, "Fix #2", "It fixes: #7; see #9")], [])
    assert "#3 Fix (#2)\nIt fixes: (#7); see #9\n" in quoted  # landing it on main closes no other issue
    assert batches.is_queue_branch("refs/heads/orchestra/queue/main") and not batches.is_queue_branch("orchestra/12-x")
    assert batches.group_pr(f"refs/heads/gh-readonly-queue/main/pr-104-{A}") == (104, A)
    assert batches.group_pr("refs/heads/feature") is None


def test_attempts_count_failures_and_give_back_what_worked() -> None:
    counters = attempts_mod.Attempts().start_conflict("base1")
    assert counters.conflict_spent == 1
    counters = counters.conflict_resolved("base1").start_conflict("base2").conflict_resolved("base2")
    assert counters.conflict == 2 and counters.conflict_spent == 0
    fix = attempts_mod.Attempts().start_ci_fix("head1").ci_fix_pushed("head1", "head2", base="tip1")
    assert fix.ci_fix_spent == 1 and fix.ci_fix_open is not None
    assert fix.give_back_ci_fix().ci_fix_spent == 0 and fix.give_back_ci_fix().ci_fix == 1
    body = attempts_mod.write("Closes #3", fix)
    assert attempts_mod.read(body) == fix  # the open fix survives on the forge
    used = attempts_mod.Attempts().add_usage(
        "ci_fix", Usage(input_tokens=900, output_tokens=200, cost_usd=0.5), seconds=7200
    )
    assert attempts_mod.over_ceiling(used, tokens=1000, usd=10, agent_hours=5) is not None
    assert "agent time" in (attempts_mod.over_ceiling(used, tokens=10_000, usd=10, agent_hours=2) or "")
    assert attempts_mod.over_ceiling(used, tokens=10_000, usd=10, agent_hours=3) is None


def test_the_queue_keys_of_the_config() -> None:
    assert RepoConfig().merge.queue == "batch" and RepoConfig().merge.batch_size == 8
    assert parse_repo_config("merge:\n  queue: off\n").merge.queue == "off"  # YAML 1.1 reads `off` as false
    assert parse_repo_config("merge: {queue: serial, max_batch: 4}").merge.batch_size == 1
    assert RepoConfig().merge.union_paths == ["CHANGES*", "CHANGELOG*", "HISTORY*", "NEWS*"]
    assert parse_repo_config("budgets: {pr: {tokens: 10, agent_hours: 0.5}}").budgets.pr.usd == 20.0
    with pytest.raises(ConfigError, match=r"merge.union_paths: '\*\.md merge=ours' is not a plain gitattributes"):
        parse_repo_config("merge: {union_paths: ['*.md merge=ours']}")
    with pytest.raises(ConfigError, match="merge.queue: 'on' is not allowed"):
        parse_repo_config("merge: {queue: 'on'}")


def test_union_paths_merge_keeping_both_sides_and_write_nothing_into_the_repository(tmp_path: Path) -> None:
    source = make_repo(tmp_path / "src", {"CHANGES.md": "# Changes\n", "docs/NEWS": "news\n", "app.py": "x = 1\n"})
    for branch, line in (("one", "- one"), ("two", "- two")):
        git(source, "checkout", "-q", "-b", branch, "main")
        (source / "CHANGES.md").write_text(f"# Changes\n{line}\n")
        (source / "docs/NEWS").write_text(f"news\n{line}\n")
        git(source, "commit", "-qam", branch)
    git(source, "checkout", "-q", "main")
    git(source, "checkout", "-q", "-b", "three", "main")
    (source / "app.py").write_text("x = 3\n")
    git(source, "commit", "-qam", "three")
    git(source, "checkout", "-q", "one")
    (source / "app.py").write_text("x = 2\n")
    git(source, "commit", "-qam", "one changes app.py too")
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(source), str(remote)], check=True, env=base_env())
    mirror = Mirror(
        tmp_path / "state",
        "o/r",
        str(remote),
        dict,
        Identity("Bot", "bot@example.com"),
        union_paths=["CHANGES*", "NEWS*"],
    )
    mirror.fetch()
    with mirror.worktree("refs/remotes/origin/main") as worktree:
        assert worktree.merge("refs/remotes/origin/one", "one") == []
        assert worktree.merge("refs/remotes/origin/two", "two") == []  # CHANGES.md and docs/NEWS: both kept
        assert (worktree.path / "CHANGES.md").read_text() == "# Changes\n- one\n- two\n"
        assert (worktree.path / "docs/NEWS").read_text() == "news\n- one\n- two\n"
        assert worktree.merge("refs/remotes/origin/three", "three") == ["app.py"]  # other files still conflict
        worktree.abort_merge()
        assert not (worktree.path / ".gitattributes").exists()
        assert "attributes" not in worktree.git("config", "--list").stdout
    assert not (mirror.path / "info" / "attributes").exists()
    plain = Mirror(tmp_path / "state", "o/r", str(remote), dict, Identity("Bot", "bot@example.com"))
    with plain.worktree("refs/remotes/origin/one") as worktree:  # the same mirror, without union paths
        assert worktree.merge("refs/remotes/origin/two", "two") == ["CHANGES.md", "docs/NEWS"]


@pytest.mark.parametrize(
    ("stderr", "expected"),
    [
        (" ! [rejected]        HEAD -> main (fetch first)", STALE),
        ("!\trefs/heads/main:refs/heads/main\t[rejected] (non-fast-forward)", STALE),
        ("", PUSHED),
    ],
)
def test_a_stale_push_is_told_from_a_pushed_one(stderr: str, expected: str) -> None:
    done = subprocess.CompletedProcess(["git", "push"], 0 if expected == PUSHED else 1, "", stderr)
    assert push_outcome(done, "main") == expected


def test_a_push_the_forge_declines_says_why_at_once() -> None:
    text = " ! [remote rejected] HEAD -> main (protected branch hook declined)"
    done = subprocess.CompletedProcess(["git", "push"], 1, "", f"To forge\n{text}\nerror: failed to push some refs")
    with pytest.raises(PushDeclined, match="protected branch hook declined"):
        push_outcome(done, "main")


def test_a_union_merge_keeps_the_blank_lines_between_changelog_entries(tmp_path: Path) -> None:
    head = "Changes\n=======\n\nv1\n- old\n"
    source = make_repo(tmp_path / "src", {"CHANGES.rst": head})
    for branch, entry in (("one", "- one\n  continued\n\n"), ("two", "- two\n\n")):
        git(source, "checkout", "-q", "-b", branch, "main")
        (source / "CHANGES.rst").write_text(head.replace("v1\n", entry + "v1\n"))
        git(source, "commit", "-qam", branch)
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(source), str(remote)], check=True, env=base_env())
    mirror = Mirror(
        tmp_path / "state", "o/r", str(remote), dict, Identity("Bot", "bot@example.com"), union_paths=["CHANGES*"]
    )
    mirror.fetch()
    with mirror.worktree("refs/remotes/origin/one") as worktree:
        assert worktree.merge("refs/remotes/origin/two", "two") == []
        merged = (worktree.path / "CHANGES.rst").read_text()
    # git's own `union` driver trims the common blank line off both sides: "- one\n  continued\n- two\n\n"
    assert merged == "Changes\n=======\n\n- one\n  continued\n\n- two\n\nv1\n- old\n"


def test_a_union_merge_writes_a_heading_both_sides_added_once(tmp_path: Path) -> None:
    """Two tasks that each open the same "Unreleased" section: one heading, both entries, apart."""
    old = "v8.0.2 (2025-01-01)\n===================\n\n- old\n"
    source = make_repo(tmp_path / "src", {"CHANGELOG.rst": old})
    for branch, entry in (("one", "- Add ``evict()``."), ("two", "- Add ``peek()``.")):
        git(source, "checkout", "-q", "-b", branch, "main")
        (source / "CHANGELOG.rst").write_text(f"v8.1.0 (UNRELEASED)\n===================\n\n{entry}\n\n\n{old}")
        git(source, "commit", "-qam", branch)
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(source), str(remote)], check=True, env=base_env())
    mirror = Mirror(
        tmp_path / "state", "o/r", str(remote), dict, Identity("Bot", "bot@example.com"), union_paths=["CHANGELOG*"]
    )
    mirror.fetch()
    with mirror.worktree("refs/remotes/origin/one") as worktree:
        assert worktree.merge("refs/remotes/origin/two", "two") == []
        merged = (worktree.path / "CHANGELOG.rst").read_text()
    assert merged == ("v8.1.0 (UNRELEASED)\n===================\n\n- Add ``evict()``.\n\n- Add ``peek()``.\n\n\n" + old)
