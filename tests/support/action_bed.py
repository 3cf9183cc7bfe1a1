"""A repository on localhub set up as the Action sees it: the workflow file, a bot token, recorded events."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localhub.events import APP_HOOK_ID
from tests.support.git_repos import make_repo
from tests.support.localhub import LocalhubHandle
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = (ROOT / "docs" / "action-workflow.yml").read_text()
REPO = "alice/shop"
BOT = "orchestra-ci"


@dataclass
class ActionRepo:
    """`alice/shop` on localhub with the example workflow; `bot` may write, `bob` may only read."""

    hub: LocalhubHandle
    tmp: Path

    def env(self, event: str, payload: dict[str, Any], **extra: str) -> dict[str, str]:
        """The environment a runner gives `orchestra action` for `event`."""
        path = self.tmp / f"event-{event}-{payload.get('action', 'none')}.json"
        path.write_text(json.dumps(payload))
        return {
            "GITHUB_EVENT_NAME": event,
            "GITHUB_EVENT_PATH": str(path),
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_API_URL": self.hub.api_url,
            "GITHUB_SERVER_URL": self.hub.url,
            "GITHUB_RUN_ID": "101",
            "GITHUB_WORKFLOW_REF": f"{REPO}/.github/workflows/orchestra.yml@refs/heads/main",
            "RUNNER_TEMP": str(self.tmp / "runner"),
            "ORCHESTRA_TOKEN": self.hub.tokens[BOT],
            "ORCHESTRA_BOT_LOGIN": BOT,
            "ORCHESTRA_LOG_LEVEL": "WARNING",
            **extra,
        }

    def dispatches(self) -> list[dict[str, Any]]:
        import requests

        resp = requests.get(f"{self.hub.url}/_localhub/dispatches", params={"repo": REPO}, timeout=10)
        resp.raise_for_status()
        return list(resp.json())

    def record_events(self) -> None:
        """From now on localhub records every event it emits (sent to a closed port, kept in its store)."""
        self.hub.set_app_webhook(f"http://127.0.0.1:{free_port()}/webhook", None)

    def recorded(self, event: str, action: str) -> dict[str, Any]:
        """The payload of the last recorded `event` with `action`."""
        self.hub.drain()
        for row in self.hub.hub.events.deliveries(APP_HOOK_ID):  # newest first
            if row["event"] == event and row["action"] == action:
                return dict(json.loads(row["payload"]))
        raise AssertionError(f"localhub emitted no {event}.{action}")


def make_action_repo(hub: LocalhubHandle, tmp: Path, files: dict[str, str] | None = None) -> ActionRepo:
    """Import a small project with `.github/workflows/orchestra.yml` as `alice/shop`."""
    hub.add_user("alice")
    hub.add_user("bob")
    hub.add_user(BOT)
    source = make_repo(
        tmp / "shop-src",
        {
            "README.md": "# shop\n",
            "shop/__init__.py": "",
            "shop/cart.py": "def total(items):\n    return sum(items)\n",
            ".github/workflows/orchestra.yml": WORKFLOW,
            **(files or {}),
        },
    )
    hub.import_repo(source, REPO)
    hub.github("alice").get_repo(REPO).add_to_collaborators(BOT, "push")
    return ActionRepo(hub, tmp)
