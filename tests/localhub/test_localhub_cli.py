"""`orchestra localhub import` creates a repo from a local clone; `python -m localhub serve` serves
the REST API with the users given on the command line, and App mode announces its installation."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import requests

from bot.cli import main
from localhub.server import HubConfig, LocalHub
from tests.support.git_repos import git, make_repo


def test_import_command(tmp_path: Path, capsys) -> None:
    source = make_repo(tmp_path / "src", {"a.txt": "a\n"}, branch="develop")
    git(source, "branch", "release")
    state = tmp_path / "state"
    assert (
        main(["localhub", "import", str(source), "--repo", "acme/tool", "--ci", "pytest -q", "--state", str(state)])
        == 0
    )
    assert "acme/tool" in capsys.readouterr().out
    hub = LocalHub(HubConfig(state_dir=state))
    try:
        repo = hub.store.repo("acme", "tool")
        assert (repo["default_branch"], repo["ci_command"]) == ("develop", "pytest -q")
        assert (state / "git" / "acme" / "tool.git").is_dir()
    finally:
        hub.stop()
    assert main(["localhub", "import", str(source), "--repo", "acme/tool", "--state", str(state)]) == 2


def test_import_with_a_relative_state_directory(tmp_path: Path) -> None:
    source = make_repo(tmp_path / "src", {"a.txt": "a\n"})
    result = subprocess.run(
        [sys.executable, "-m", "localhub", "import", "src", "--repo", "acme/rel", "--state", "state"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "state" / "git" / "acme" / "rel.git").is_dir()
    assert source.is_dir()


def test_serve_command(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "localhub",
            "serve",
            "--port",
            "0",
            "--state",
            str(tmp_path / "state"),
            "--user",
            "alice:secret-token",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stderr.readline() if proc.stderr else ""
        match = re.search(r"serving (http://\S+) ", line)
        assert match, line
        resp = requests.get(
            f"{match.group(1)}/api/v3/user", headers={"Authorization": "token secret-token"}, timeout=10
        )
        assert resp.json()["login"] == "alice"
        assert resp.json()["url"] == f"{match.group(1)}/api/v3/users/alice"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_app_mode_announces_installation_once(localhub, localhub_app, webhook_receiver) -> None:
    localhub.add_user("alice")
    localhub.github("alice").get_user().create_repo("installed")
    localhub.set_app_webhook(webhook_receiver.url, "s3cret")
    assert localhub.hub.announce_installation() is True
    localhub.restart()
    assert localhub.hub.announce_installation() is False
    localhub.drain()
    [delivery] = webhook_receiver.events("installation")
    body = delivery.json()
    assert body["action"] == "created"
    assert body["installation"]["id"] == localhub_app.installation_id
    assert [r["full_name"] for r in body["repositories"]] == ["alice/installed"]
