"""Everything the bot writes fits GitHub's 65,536 characters (cut, its hidden data kept, with a pointer to the
whole text), and a failure report leaves its label even when its comment cannot be written, and the other
way round."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from github import Auth, GithubException

from bot.errors import AgentFailed, ConfigError
from bot.forge.client import Forge
from bot.forge.limits import MAX_BODY_CHARS, BodyTooLong, fit
from bot.forge.retry import RetryPolicy
from bot.ledger import comments, labels, markers
from bot.ledger.failures import failure_marker, report_failure
from bot.repoconfig import RepoConfig
from tests.support.localhub import LocalhubHandle


def test_fit_keeps_short_text_and_the_hidden_data_of_long_text() -> None:
    assert fit("short") == "short"
    data = markers.data_marker("record", {"version": 3})
    text = f"{markers.tag('status')}\nhead\n" + "x" * 200_000 + f"\ntail\n{data}"
    cut = fit(text, "the whole text is in the worker log")
    assert len(cut) <= MAX_BODY_CHARS
    assert cut.startswith(markers.tag("status")) and cut.endswith(data)
    assert markers.read_data(cut, "record") == {"version": 3}
    assert "characters cut here" in cut and "the whole text is in the worker log" in cut
    two = fit("a" * 50_000 + "<!-- x -->" + "b" * 50_000)
    assert len(two) <= MAX_BODY_CHARS and two.count("characters cut here") == 1 and "<!-- x -->" in two
    with pytest.raises(BodyTooLong):
        fit("<!-- " + "y" * 70_000 + " -->")


@pytest.fixture
def forge(localhub: LocalhubHandle, git_repo_factory: Callable[..., Path]) -> Forge:
    token = localhub.add_user("octo")
    localhub.import_repo(git_repo_factory({"README.md": "# cat\n"}), "octo/cat")
    return Forge(
        "octo/cat",
        Auth.Token(token),
        api_url=localhub.api_url,
        server_url=localhub.url,
        bot_login="octo",
        policy=RetryPolicy(write_spacing_s=None, scale=0.001),
    )


def test_the_forge_cuts_every_body_it_writes(forge: Forge, caplog: pytest.LogCaptureFixture) -> None:
    huge = "z" * 100_000
    issue = forge.create_issue("Big", huge)
    assert len(issue.body) <= MAX_BODY_CHARS and "characters cut here" in issue.body
    with caplog.at_level(logging.WARNING, logger="bot.forge.base"):
        comment = forge.comment(issue.number, huge)
    assert len(comment.body) <= MAX_BODY_CHARS
    assert any(huge in record.getMessage() for record in caplog.records)  # the pointer is true: the log has it all
    assert len(forge.edit_comment(comment.id, huge + "!").body) <= MAX_BODY_CHARS
    assert len(forge.update_issue(issue.number, body=huge + "?").body) <= MAX_BODY_CHARS
    # An upsert of the same long text again is recognised as unchanged: no edit.
    first = comments.upsert(forge, issue.number, "big", huge)
    before = forge.calls["edit_comment"]
    assert comments.upsert(forge, issue.number, "big", huge).id == first.id
    assert forge.calls["edit_comment"] == before


def test_a_huge_failure_comment_is_cut_and_the_label_is_set(forge: Forge) -> None:
    labels.ensure(forge, RepoConfig())
    task = forge.create_issue("Task", "t", labels=["orchestra:task", "orchestra:working"]).number
    error = ConfigError(".github/orchestra.yml: " + "[[['lol', 'lol'], ['lol']]] " * 300_000)  # ~9 MB, as a bomb made
    report_failure(forge, RepoConfig(), task, error, step="implement")
    failure = comments.find(forge, task, failure_marker("implement"))
    assert failure is not None and len(failure.body) <= MAX_BODY_CHARS
    assert "The orchestra configuration is invalid." in failure.body and "characters cut here" in failure.body
    assert "orchestra:needs-human" in forge.get_issue(task).labels


def test_a_comment_that_cannot_be_written_never_keeps_the_label_off(
    forge: Forge, monkeypatch: pytest.MonkeyPatch
) -> None:
    labels.ensure(forge, RepoConfig())
    task = forge.create_issue("Task", "t", labels=["orchestra:task", "orchestra:working"]).number

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise GithubException(422, {"message": "Validation Failed"}, None)

    monkeypatch.setattr(forge, "comment", refuse)
    report_failure(forge, RepoConfig(), task, AgentFailed("the agent gave up"), step="implement")
    assert "orchestra:needs-human" in forge.get_issue(task).labels
    monkeypatch.undo()

    second = forge.create_issue("Task 2", "t", labels=["orchestra:task", "orchestra:working"]).number
    monkeypatch.setattr(forge, "replace_labels", refuse)
    report_failure(forge, RepoConfig(), second, AgentFailed("the agent gave up"), step="implement")
    assert comments.find(forge, second, failure_marker("implement")) is not None
