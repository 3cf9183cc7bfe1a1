"""GitHub's merge queue: a merge group destroyed because its checks failed sends the PR back to its worker.

`merge_group` `destroyed` with reason `dequeued` (the group's required checks failed, every group
ahead of it having passed) becomes a `fix_batch` job: the group head, built on `base_sha`, is the
combination that failed. With reason `merged`, a `maybe_merge` job tidies the landed PR (branch,
task). `checks_requested` needs nothing from the bot: CI runs on the group head. Composed into the
App's router only: a workflow cannot be triggered by `merge_group` `destroyed`.
"""

from __future__ import annotations

from collections.abc import Iterator

from bot.ledger.batches import group_pr
from bot.queue.kinds import JobRequest
from webhooks.event import Event
from webhooks.payload import Fields
from webhooks.router import Router

router = Router()


@router.register("merge_group", action="destroyed")
def on_merge_group_destroyed(event: Event) -> Iterator[JobRequest]:
    payload = Fields(event.payload)
    group = payload.obj("merge_group")
    found = group_pr(group.optional_text("head_ref"))
    if found is None:
        return
    number, head = found
    reason = payload.optional_text("reason")
    if reason == "dequeued":
        yield event.job(
            "fix_batch",
            pr=number,
            head_sha=head,
            batch_sha=group.text("head_sha"),
            base_sha=group.optional_text("base_sha") or "",
        )
    elif reason == "merged":
        yield event.job("maybe_merge", pr=number, branch=None, head_sha=head)
