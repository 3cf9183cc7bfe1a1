"""app.yml subscribes to exactly the events the routers handle and asks for exactly the bot's permissions."""

from pathlib import Path

import yaml

from webhooks.handlers import ROUTER

MANIFEST = Path(__file__).resolve().parents[2] / "app.yml"


def test_manifest_events_are_the_routed_events() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert set(manifest["default_events"]) == ROUTER.events
    assert manifest["hook_attributes"]["url"].endswith("/webhook")


def test_manifest_permissions_are_exactly_what_the_bot_uses() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert manifest["default_permissions"] == {
        "issues": "write",
        "pull_requests": "write",
        "contents": "write",
        "checks": "read",
        "statuses": "read",
        "metadata": "read",
        "actions": "write",
    }
