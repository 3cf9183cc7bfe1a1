"""The forge client spends the rate budget with care, against localhub's metering: a list that did not
change answers 304 and costs nothing; lists come in pages of 100; before the budget runs out the
client spreads its calls over the time to the reset; a repository's comments say where they are."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from github import Auth

from bot.forge import Forge, RetryPolicy
from tests.support.localhub import LocalhubHandle

REPO = "octo/cat"


def forge(localhub: LocalhubHandle, token: str, sleeps: list[float] | None = None) -> Forge:
    policy = RetryPolicy(write_spacing_s=None, sleep=(sleeps.append if sleeps is not None else lambda s: None))
    return Forge(
        REPO, Auth.Token(token), api_url=localhub.api_url, server_url=localhub.url, bot_login="octo", policy=policy
    )


def setup(localhub: LocalhubHandle, git_repo_factory: Callable[..., Path]) -> str:
    token = localhub.add_user("octo")
    localhub.import_repo(git_repo_factory({"README.md": "# cat\n"}), REPO)
    return token


def test_an_unchanged_list_answers_304_and_costs_no_budget(
    localhub: LocalhubHandle, git_repo_factory: Callable[..., Path]
) -> None:
    token = setup(localhub, git_repo_factory)
    repo = localhub.github(token).get_repo(REPO)
    for n in range(120):
        repo.create_issue(f"issue {n}")
    reader = forge(localhub, token)
    assert len(reader.list_issues(state="all")) == 120  # two pages of 100
    spent = reader.rate_left[0]
    again = forge(localhub, token)  # another Forge of this process (a later job, the next look)
    assert len(again.list_issues(state="all")) == 120
    assert again.calls["not_modified"] == 2 and again.rate_left[0] == spent  # both pages 304: free
    repo.create_issue("one more")
    assert len(again.list_issues(state="all")) == 121
    assert again.rate_left[0] < spent


def test_calls_slow_down_before_the_budget_runs_out(
    localhub: LocalhubHandle, git_repo_factory: Callable[..., Path]
) -> None:
    token = setup(localhub, git_repo_factory)
    issue = localhub.github(token).get_repo(REPO).create_issue("watched")
    localhub.hub.ratelimit.budget = 40
    sleeps: list[float] = []
    client = forge(localhub, token, sleeps)
    seen = []
    while True:
        remaining = client.rate_left[0]
        if 0 <= remaining <= 2:
            break
        paused = len(sleeps)
        client.update_issue(issue.number, body=f"edit {remaining}")  # a write: never a 304
        seen.append((remaining, len(sleeps) > paused))
    client.update_issue(issue.number, body="one more")
    # No pause while more than a tenth of the budget was left; a pause once it was not, long enough to
    # spread what is left over the hour to the reset (capped at the policy's `max_pace_s`).
    assert not any(paused for remaining, paused in seen if remaining > 4)
    assert any(paused for remaining, paused in seen if remaining <= 4)
    assert sleeps and sleeps[-1] == client.policy.max_pace_s


def test_repository_comments_name_their_issue_and_time(
    localhub: LocalhubHandle, git_repo_factory: Callable[..., Path]
) -> None:
    token = setup(localhub, git_repo_factory)
    repo = localhub.github(token).get_repo(REPO)
    first, second = repo.create_issue("one"), repo.create_issue("two")
    first.create_comment("hello")
    second.create_comment("/orchestra status")
    found = forge(localhub, token).list_repo_comments()
    assert [(c.issue_number, c.body) for c in found] == [(first.number, "hello"), (second.number, "/orchestra status")]
    assert all(c.created_at.startswith("20") for c in found)
    assert forge(localhub, token).list_repo_comments(since="2999-01-01T00:00:00Z") == []


def test_listing_sub_issues_costs_the_list_not_a_request_per_issue(
    localhub: LocalhubHandle, git_repo_factory: Callable[..., Path]
) -> None:
    """Found by the chaos suite: each listed sub-issue was fetched again (PyGithub completing the
    `pull_request` attribute a list answer lacks), so a goal's handoff under 10% forge faults failed
    its retries and the goal never closed."""
    token = setup(localhub, git_repo_factory)
    client = forge(localhub, token)
    goal = client.create_issue("goal", "the goal")
    for n in range(6):
        client.add_sub_issue(goal.number, client.create_issue(f"task {n}", "a task").id)
    reader = forge(localhub, token)
    reader.get_issue(goal.number)
    before = reader.rate_left[0]
    assert [issue.title for issue in reader.list_sub_issues(goal.number)] == [f"task {n}" for n in range(6)]
    assert not any(issue.is_pull for issue in reader.list_sub_issues(goal.number))
    assert before - reader.rate_left[0] <= 4  # two lists of one page each, and the goal's GET before each
