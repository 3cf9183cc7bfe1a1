"""The `command` job entry point, as a worker runs it (settings from the environment, App auth on
localhub): a read-only sender gets one polite reply; an invalid repo config is reported once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.jobs import command
from bot.modes.server import worker_runtime
from bot.settings import Settings
from tests.support.localhub import LocalhubApp, LocalhubHandle


@pytest.fixture
def hub_repo(
    localhub: LocalhubHandle,
    localhub_app: LocalhubApp,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
    git_repo_factory: Callable[..., Path],
) -> Callable[[dict], object]:
    for name, value in {
        "ORCHESTRA_APP_ID": str(localhub_app.app_id),
        "ORCHESTRA_PRIVATE_KEY": localhub_app.private_key_pem,
        "ORCHESTRA_API_URL": localhub.api_url,
        "ORCHESTRA_SERVER_URL": localhub.url,
        "ORCHESTRA_REDIS_URL": redis_url,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("ORCHESTRA_TOKEN", "GITHUB_TOKEN", "ORCHESTRA_BOT_LOGIN"):
        monkeypatch.delenv(name, raising=False)
    localhub.add_user("octo")
    localhub.add_user("reader")

    def make(files: dict) -> object:
        localhub.import_repo(git_repo_factory(files), "octo/cat")
        return localhub.github("octo").get_repo("octo/cat")

    return make


def test_read_only_sender_gets_one_polite_reply(hub_repo: Callable[[dict], object], localhub: LocalhubHandle) -> None:
    repo = hub_repo({"README.md": "# cat\n"})
    issue = repo.create_issue("Goal", "x")
    for _ in range(2):
        command(
            worker_runtime(Settings.from_env()),
            repo="octo/cat",
            number=issue.number,
            comment_id=77,
            verb="cancel",
            text="",
            sender="reader",
            installation_id=7,
        )
    comments = list(issue.get_comments())
    assert len(comments) == 1 and "only people with write access" in comments[0].body
    assert repo.get_issue(issue.number).state == "open"


def test_invalid_repo_config_is_reported_once(hub_repo: Callable[[dict], object]) -> None:
    repo = hub_repo({"README.md": "# cat\n", ".github/orchestra.yml": "label_prefix: 'no spaces allowed'\n"})
    issue = repo.create_issue("Goal", "x")
    for _ in range(2):
        reply = command(
            worker_runtime(Settings.from_env()),
            repo="octo/cat",
            number=issue.number,
            comment_id=78,
            verb="plan",
            text="",
            sender="octo",
            installation_id=7,
        )
    comments = list(issue.get_comments())
    assert len(comments) == 1 and ".github/orchestra.yml:label_prefix" in comments[0].body
    assert reply is not None and "configuration is invalid" in reply


def test_help_is_answered_with_the_command_list(hub_repo: Callable[[dict], object]) -> None:
    repo = hub_repo({"README.md": "# cat\n"})
    issue = repo.create_issue("Goal", "x")
    for comment_id, verb in ((78, "help"), (79, "frobnicate")):
        command(
            worker_runtime(Settings.from_env()),
            repo="octo/cat",
            number=issue.number,
            comment_id=comment_id,
            verb=verb,
            text="",
            sender="octo",
            installation_id=7,
        )
    help_reply, unknown_reply = (c.body for c in issue.get_comments())
    assert "Commands I understand" in help_reply and "I don't know" not in help_reply
    assert "I don't know `/orchestra frobnicate`" in unknown_reply and "Commands I understand" in unknown_reply


def test_without_write_access_one_reply_per_thread_whatever_is_sent(hub_repo: Callable[[dict], object]) -> None:
    repo = hub_repo({"README.md": "# cat\n"})
    issue = repo.create_issue("Goal", "x")
    replies = [
        command(
            worker_runtime(Settings.from_env()),
            repo="octo/cat",
            number=issue.number,
            comment_id=80 + n,
            verb=verb,
            text="",
            sender="reader",
            installation_id=7,
        )
        for n, verb in enumerate(["help", "frobnicate", "plan", "help", "cancel"])
    ]
    assert replies[0] is not None and "Commands I understand" in replies[0] and replies[1:] == [None] * 4
    assert [c.body.count("Commands I understand") for c in issue.get_comments()] == [1]
