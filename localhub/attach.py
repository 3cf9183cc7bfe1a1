"""Attach pull requests, checks, Actions, local CI, the merge queue and auto-merge to a `LocalHub`
(`hub.pulls`, `hub.checks`, `hub.workflows`, `hub.ci`, `hub.merge_queue`, `hub.auto_merge`)."""

from __future__ import annotations

from typing import Any

from localhub.automerge import AutoMerge
from localhub.checkruns import Checks
from localhub.ci import LocalCI
from localhub.mergequeue import MergeQueue
from localhub.pullflow import PullFlow
from localhub.workflows import Workflows

DEFAULT_CI_CONCURRENCY = 2
DEFAULT_CI_TIMEOUT = 600.0  # seconds


def attach(hub: Any) -> None:
    """Give `hub` its PR flow, checks and CI; react to pushes; close the pools on `hub.stop()`."""
    hub.checks = Checks(hub)
    hub.workflows = Workflows(hub)
    hub.ci = LocalCI(
        hub.workflows,
        hub.store.state_dir / "ci",
        concurrency=getattr(hub.config, "ci_concurrency", DEFAULT_CI_CONCURRENCY),
        timeout=getattr(hub.config, "ci_timeout", DEFAULT_CI_TIMEOUT),
    )
    hub.workflows.abandon_unfinished()
    hub.pulls = PullFlow(hub)
    hub.on_push(hub.pulls.on_push)
    hub.merge_queue = MergeQueue(hub)
    hub.auto_merge = AutoMerge(hub)
    hub.on_push(hub.merge_queue.on_push)
    hub.checks.on_change.extend([hub.merge_queue.checks_changed, hub.auto_merge.checks_changed])
    hub.pull_issue_changes.append(hub.pulls.on_issue_change)
    hub.on_stop.extend([hub.ci.close, hub.pulls.close])
