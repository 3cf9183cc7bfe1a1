"""localhub keeps its state across a restart, and 16 concurrent clients lose no write: issue
numbers stay unique and dense, every comment lands."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.support.git_repos import git, make_repo


def test_state_survives_restart(localhub, tmp_path: Path) -> None:
    token = localhub.add_user("alice")
    repo = localhub.github("alice").get_user().create_repo("durable")
    work = make_repo(tmp_path / "work", {"a.txt": "a\n"})
    git(work, "push", localhub.git_url("alice/durable", "alice"), "main")
    issue = repo.create_issue("Before restart", labels=["kept"])
    issue.create_comment("still here")
    child = repo.create_issue("Child")
    issue.add_sub_issue(child.id)
    port = localhub.hub.config.port

    localhub.restart()

    assert localhub.hub.config.port == port
    again = localhub.github(token).get_repo("alice/durable")
    kept = again.get_issue(1)
    assert (kept.title, [label.name for label in kept.labels]) == ("Before restart", ["kept"])
    assert [c.body for c in kept.get_comments()] == ["still here"]
    assert [s.number for s in kept.get_sub_issues()] == [2]
    assert again.get_contents("a.txt").decoded_content == b"a\n"
    assert again.create_issue("After restart").number == 3


def test_sixteen_concurrent_clients_lose_no_write(localhub) -> None:
    logins = [f"user{i}" for i in range(16)]
    tokens = [localhub.add_user(login) for login in logins]
    owner = localhub.github(tokens[0]).get_user().create_repo("busy")
    for login in logins[1:]:
        owner.add_to_collaborators(login, "push")

    def work(token: str) -> list[int]:
        repo = localhub.github(token).get_repo("user0/busy")
        numbers = []
        for n in range(4):
            issue = repo.create_issue(f"from {token[:12]} #{n}")
            issue.create_comment("first")
            issue.create_comment("second")
            numbers.append(issue.number)
        return numbers

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(work, tokens))

    numbers = sorted(n for chunk in results for n in chunk)
    assert numbers == list(range(1, 65))  # unique and dense
    repo = localhub.github(tokens[0]).get_repo("user0/busy")
    assert repo.get_issues(state="all").totalCount == 64
    assert repo.get_issues_comments().totalCount == 128
    assert all(repo.get_issue(n).comments == 2 for n in (1, 32, 64))
