"""Pull-request verbs against localhub with its local CI: one PR per head, failing checks read with
their output, a green PR merged, branches deleted idempotently."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.forge import Forge, RetryPolicy
from bot.forge.auth import forge_for
from bot.settings import Settings
from tests.support.git_repos import git
from tests.support.localhub import LocalhubApp, LocalhubHandle
from tests.support.waiting import wait_for


def test_pull_request_life_cycle(
    localhub: LocalhubHandle, localhub_app: LocalhubApp, git_repo_factory: Callable[..., Path]
) -> None:
    source = git_repo_factory({"README.md": "# cat\n"})
    for branch, files in (("orchestra/1-broken", {"a.txt": "a\n"}), ("orchestra/2-green", {"ok.txt": "ok\n"})):
        git(source, "checkout", "-q", "-b", branch, "main")
        for name, text in files.items():
            (source / name).write_text(text)
        git(source, "add", "-A")
        git(source, "commit", "-q", "-m", f"work on {branch}")
    git(source, "checkout", "-q", "main")
    localhub.add_user("octo")
    localhub.import_repo(source, "octo/cat", ci="test -f ok.txt")
    settings = Settings(
        app_id=str(localhub_app.app_id),
        private_key=localhub_app.private_key_pem,
        api_url=localhub.api_url,
        server_url=localhub.url,
        bot_login="orchestra[bot]",
    )
    forge: Forge = forge_for(
        settings, "octo/cat", localhub_app.installation_id, policy=RetryPolicy(scale=0.001, write_spacing_s=None)
    )

    broken = forge.open_or_update_pr("orchestra/1-broken", "main", "Task 1", "Closes #1")
    again = forge.open_or_update_pr("orchestra/1-broken", "main", "Task 1", "Closes #1\n\nupdated")
    assert again.number == broken.number and again.body.endswith("updated")
    assert forge.find_pr("orchestra/1-broken") == forge.get_pr(broken.number)
    green = forge.open_or_update_pr("orchestra/2-green", "main", "Task 2", "Closes #2")

    state = wait_for(
        lambda: (s := forge.check_state(broken.head_sha)).state != "pending" and s,
        timeout=60,
        what="CI on the broken branch",
    )
    assert state.state == "failure"
    assert state.failures[0].name == "ci" and "CI failed" in state.failures[0].title
    wait_for(lambda: forge.check_state(green.head_sha).state == "success", timeout=60, what="CI on the green branch")

    assert forge.merge_pr(green.number, "squash", sha=green.head_sha) is True
    assert forge.get_pr(green.number).merged
    assert forge.find_pr("orchestra/2-green") is None
    forge.delete_branch("orchestra/2-green")
    assert "orchestra/2-green" not in [b.name for b in forge.repo.get_branches()]
    forge.delete_branch("orchestra/2-green")  # already gone: not an error
    assert forge.merge_pr(broken.number, "squash", sha="0" * 40) is False  # head moved past the sha
