"""An edit of a goal's title or body becomes a `goal_edited` job carrying its sender and the digest of the text
it left (the job approves exactly that text, never a later edit); other edits, and edits of other issues,
make no job; the bot's own section in the body does not change the digest."""

from __future__ import annotations

from typing import Any

from bot.ledger import markers
from bot.ledger.goaltext import digest
from tests.support.schemas import webhook_examples
from webhooks.event import Event
from webhooks.handlers import ROUTER


def _edited(labels: list[str], changes: dict[str, Any]) -> dict[str, Any]:
    payload = next(e for e in webhook_examples("issues") if e["action"] == "edited")
    payload["issue"].update(
        labels=[{"name": name} for name in labels],
        title="Add a checkout",
        body="Customers can pay.\r\n",
        state="open",
        updated_at="2026-01-02T03:04:05Z",
    )
    payload["changes"] = changes
    return payload


def test_an_edit_of_a_goal_becomes_a_goal_edited_job() -> None:
    payload = _edited(["orchestra:goal"], {"body": {"from": "old"}})
    [job] = ROUTER.dispatch(Event("issues", payload))
    assert job.kind == "goal_edited"
    assert job.args["sender"] == payload["sender"]["login"] and job.args["number"] == payload["issue"]["number"]
    assert job.args["text_sha256"] == digest("Add a checkout", "Customers can pay.")
    assert job.args["edited_at"] == "2026-01-02T03:04:05Z"


def test_other_edits_make_no_job() -> None:
    assert ROUTER.dispatch(Event("issues", _edited([], {"body": {"from": "old"}}))) == []
    assert ROUTER.dispatch(Event("issues", _edited(["orchestra:goal"], {}))) == []  # e.g. only the milestone


def test_the_bots_own_section_does_not_change_the_digest() -> None:
    body = markers.write_section("Customers can pay.", "tasks", "- [ ] #3 Task")
    assert digest("Add a checkout", body) == digest("Add a checkout", "Customers can pay.\r\n")
    assert digest("Add a checkout", "Customers can pay!") != digest("Add a checkout", "Customers can pay.")
