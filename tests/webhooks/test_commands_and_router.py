"""The command parser finds `/orchestra <verb> [text]`; routers compose; handlers only describe jobs."""

from __future__ import annotations

import pytest

from bot.commands import VERBS, Command, parse
from bot.queue.kinds import JobRequest
from bot.steering import verb_table
from webhooks.event import Event, orchestra_task_number
from webhooks.router import Router


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/orchestra plan", Command("plan", "")),
        ("  /orchestra  REPLAN  split it\nand this too", Command("replan", "split it\nand this too")),
        ("Thanks!\n/orchestra fix use the new API", Command("fix", "use the new API")),
        ("/orchestra", Command("help", "")),
        ("/orchestra dance", Command("dance", "")),
        ("> /orchestra cancel\nno thanks", None),
        ("/orchestrate all", None),
        ("see /orchestra plan in the docs", None),
        (None, None),
    ],
)
def test_parse(body: str | None, expected: Command | None) -> None:
    assert parse(body) == expected


def test_every_documented_verb_is_known() -> None:
    assert set(VERBS) == {"plan", "replan", "approve", "status", "pause", "resume", "cancel", "retry", "fix"}
    assert not Command("dance").known and Command("plan").known


def test_the_verb_table_refuses_unknown_verbs() -> None:
    with pytest.raises(ValueError):
        verb_table({"dance": lambda ctx: None})


def test_composed_router_runs_every_matching_handler_and_dedupes_jobs() -> None:
    first, second = Router(), Router()

    @first.register("issues", action="opened")
    def opened(event: Event) -> list[JobRequest]:
        return [event.job("plan", number=1)]

    @second.register("issues")
    def any_issue(event: Event) -> list[JobRequest]:
        return [event.job("plan", number=1), event.job("dispatch", number=1)]

    router = Router.compose(first, second)
    event = Event("issues", {"action": "opened", "repository": {"full_name": "o/r"}})
    assert [job.kind for job in router.dispatch(event)] == ["plan", "dispatch"]
    closed = Event("issues", {"action": "closed", "repository": {"full_name": "o/r"}})
    assert [job.kind for job in router.dispatch(closed)] == ["plan", "dispatch"]
    assert router.events == {"issues"}


@pytest.mark.parametrize(
    ("branch", "number"),
    [("orchestra/12-add-login", 12), ("orchestra/7", 7), ("orchestra/x-1", None), ("feature/12-x", None), (None, None)],
)
def test_orchestra_branch_names_the_task(branch: str | None, number: int | None) -> None:
    assert orchestra_task_number(branch) == number
