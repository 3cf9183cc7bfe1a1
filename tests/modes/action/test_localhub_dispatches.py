"""localhub accepts `workflow_dispatch` requests as GitHub does (204; ref, workflow trigger and inputs
checked) and records each one for tests at `/_localhub/dispatches`."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from github import Auth

from bot.errors import PermissionDenied
from bot.forge.client import Forge
from bot.forge.retry import RetryPolicy
from tests.support import schemas
from tests.support.action_bed import BOT, REPO, make_action_repo
from tests.support.localhub import LocalhubHandle

NO_DISPATCH = "name: ci\non:\n  push:\njobs: {}\n"


def _forge(localhub: LocalhubHandle, login: str) -> Forge:
    return Forge(
        REPO,
        Auth.Token(localhub.tokens[login]),
        api_url=localhub.api_url,
        server_url=localhub.url,
        bot_login=BOT,
        policy=RetryPolicy(attempts=1, write_spacing_s=None),
    )


def test_forge_dispatch_is_recorded(localhub: LocalhubHandle, tmp_path: Path) -> None:
    repo = make_action_repo(localhub, tmp_path)
    _forge(localhub, BOT).dispatch_workflow("orchestra.yml", "main", {"task": "7"})
    [dispatch] = repo.dispatches()
    assert dispatch["workflow"] == "orchestra.yml" and dispatch["ref"] == "main"
    assert dispatch["inputs"] == {"task": "7"} and dispatch["sender"] == BOT
    assert len(dispatch["sha"]) == 40


def test_a_reader_cannot_dispatch(localhub: LocalhubHandle, tmp_path: Path) -> None:
    repo = make_action_repo(localhub, tmp_path)
    localhub.hub.response_checks.clear()  # 403 is GitHub's answer; its description omits it
    with pytest.raises(PermissionDenied, match="actions: write"):
        _forge(localhub, "bob").dispatch_workflow("orchestra.yml", "main", {"task": "7"})
    assert repo.dispatches() == []


@pytest.mark.parametrize(
    ("workflow", "body", "status", "message"),
    [
        (
            "orchestra.yml",
            {"ref": "main", "inputs": {"task": "1", "extra": "x"}},
            422,
            'Unexpected inputs provided: ["extra"]',
        ),
        ("orchestra.yml", {"ref": "nope"}, 422, "No ref found for: nope"),
        ("orchestra.yml", {"inputs": {}}, 422, '"ref" wasn\'t supplied'),
        ("missing.yml", {"ref": "main"}, 404, "Not Found"),
        ("ci.yml", {"ref": "main"}, 422, "Workflow does not have 'workflow_dispatch' trigger"),
    ],
)
def test_github_refusals(
    localhub: LocalhubHandle, tmp_path: Path, workflow: str, body: dict, status: int, message: str
) -> None:
    repo = make_action_repo(localhub, tmp_path, {".github/workflows/ci.yml": NO_DISPATCH})
    localhub.hub.response_checks.clear()  # GitHub gives these errors; its description omits them
    resp = requests.post(
        f"{localhub.api_url}/repos/{REPO}/actions/workflows/{workflow}/dispatches",
        json=body,
        headers={"Authorization": f"token {localhub.tokens[BOT]}"},
        timeout=10,
    )
    assert resp.status_code == status
    assert message in resp.json()["message"]
    schemas.validate_rest_error(status, resp.json())
    assert repo.dispatches() == []


def test_required_inputs_must_be_given(localhub: LocalhubHandle, tmp_path: Path) -> None:
    workflow = "on:\n  workflow_dispatch:\n    inputs:\n      task:\n        required: true\njobs: {}\n"
    repo = make_action_repo(localhub, tmp_path, {".github/workflows/one.yml": workflow})
    localhub.hub.response_checks.clear()
    url = f"{localhub.api_url}/repos/{REPO}/actions/workflows/one.yml/dispatches"
    headers = {"Authorization": f"token {localhub.tokens[BOT]}"}
    missing = requests.post(url, json={"ref": "main"}, headers=headers, timeout=10)
    assert missing.status_code == 422 and missing.json()["message"] == "Required input 'task' not provided"
    given = requests.post(url, json={"ref": "refs/heads/main", "inputs": {"task": "3"}}, headers=headers, timeout=10)
    assert given.status_code == 204 and given.content == b""
    assert [d["inputs"] for d in repo.dispatches()] == [{"task": "3"}]
