"""A run started by the fan-out (`workflow_dispatch` with input `task`) implements that task in its own
process: the task is claimed, its branch pushed and one pull request opened that closes it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.forge.retry import RetryPolicy
from bot.ledger.taskbody import TaskSpec, render_task_body
from bot.llm.scripted import call, register_script, turns, unregister_script
from bot.llm.types import Reply
from bot.modes.action import run_action
from tests.support import schemas
from tests.support.action_bed import BOT, REPO, make_action_repo
from tests.support.localhub import LocalhubHandle

SCRIPT = "action-worker"
FAST = RetryPolicy(attempts=3, scale=0.001, write_spacing_s=None)


@pytest.fixture
def scripted_worker() -> Iterator[str]:
    register_script(
        SCRIPT,
        turns(
            [
                Reply(
                    tool_calls=[
                        call(
                            "write_file",
                            path="shop/tax.py",
                            content="RATE = 0.2\n\n\ndef tax(cents):\n    return round(cents * RATE)\n",
                        )
                    ]
                ),
                Reply(tool_calls=[call("finish", status="done", summary="Added shop/tax.py", notes=["20 % flat"])]),
            ]
        ),
    )
    try:
        yield f"scripted:{SCRIPT}"
    finally:
        unregister_script(SCRIPT)


def test_dispatched_run_opens_the_tasks_pull_request(
    localhub: LocalhubHandle, tmp_path: Path, scripted_worker: str
) -> None:
    repo = make_action_repo(localhub, tmp_path)
    alice = localhub.github("alice").get_repo(REPO)
    goal = alice.create_issue(title="Taxes", body="Add tax.")
    spec = TaskSpec(
        goal=goal.number,
        key="tax",
        title="Add sales tax",
        objective="Add shop/tax.py.",
        owned_paths=["shop/tax.py"],
        acceptance_commands=["test -f shop/tax.py"],
    )
    for name in ("orchestra:task", "orchestra:ready"):
        alice.create_label(name, "ededed")
    task = alice.create_issue(
        title=spec.title, body=render_task_body(spec), labels=["orchestra:task", "orchestra:ready"]
    )
    repo.record_events()
    task.create_comment("recording a payload to borrow its repository object")
    base = repo.recorded("issue_comment", "created")
    payload = schemas.webhook_examples("workflow_dispatch")[0]
    payload.pop("organization", None)
    payload.update(
        repository=base["repository"],
        inputs={"task": str(task.number)},
        ref="refs/heads/main",
        workflow=".github/workflows/orchestra.yml",
        sender={**base["sender"], "login": BOT, "type": "Bot"},
    )

    report = run_action(
        repo.env(
            "workflow_dispatch",
            payload,
            ORCHESTRA_MODEL_WORKER=scripted_worker,
            ORCHESTRA_GIT_AUTHOR_EMAIL="bot@example.com",
        ),
        forge_policy=FAST,
    )

    assert report.ok, report.failures
    [pull] = list(alice.get_pulls(state="open"))
    assert pull.head.ref.startswith(f"orchestra/{task.number}-") and f"#{task.number}" in pull.body
    assert [f.filename for f in pull.get_files()] == ["shop/tax.py"]
    labels = [label.name for label in alice.get_issue(task.number).labels]
    assert "orchestra:review" in labels and repo.dispatches() == []
