"""Workflow events, which only a GitHub Action sees: its own fan-out and CI that is itself a workflow.

Events made with an Action's `GITHUB_TOKEN` start no workflow runs except `workflow_dispatch`
(the orchestra's fan-out of tasks: input `task`) and `workflow_run` (a CI workflow finished:
its `check_suite` would start no workflow). Composed into the Action's router only
(`webhooks.handlers.ACTION_ROUTER`); the App server sees `check_suite`/`check_run` instead.
"""

from __future__ import annotations

from collections.abc import Iterator

from bot.queue.kinds import JobRequest
from webhooks.event import Event
from webhooks.handlers.checks import check_jobs
from webhooks.payload import Fields
from webhooks.router import Router

router = Router()


@router.register("workflow_dispatch")
def on_workflow_dispatch(event: Event) -> Iterator[JobRequest]:
    """A run started for one task (input `task`) implements that task."""
    inputs = Fields(event.payload).obj("inputs")
    task = str(inputs.data.get("task") or "").strip().lstrip("#")
    if task.isdigit():
        yield event.job("implement", number=int(task))


@router.register("workflow_run", action="completed")
def on_workflow_run_completed(event: Event) -> Iterator[JobRequest]:
    """CI that is itself a workflow finished on an orchestra branch: fix it or merge."""
    run = Fields(event.payload).obj("workflow_run")
    yield from check_jobs(
        event,
        run.optional_text("conclusion"),
        run.optional_text("head_branch"),
        run.optional_text("head_sha"),
        run.objects("pull_requests"),
    )
