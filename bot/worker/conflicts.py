"""Conflicts: after the default branch moves, find the orchestra PRs that no longer merge and resolve them.

`scan_conflicts` polls each open orchestra PR until the forge has computed `mergeable` (bounded
backoff) and enqueues a `resolve_conflict` job for each conflicting one. `resolve_conflict`
merges the default branch into the PR branch in a worktree. Paths of `merge.union_paths`
(changelog-like files) merge keeping both sides, so a conflict only they had is merged mechanically:
pushed with no model call and no attempt. When other files conflict, the conflict-role agent
resolves them with BOTH intents in its prompt (this PR's task, and the descriptions of the commits
that landed since the merge base); then the acceptance commands run again and the merge is pushed —
also when they fail (the combination breaks this PR: CI reports it on the new head and the CI-fix
job adapts the PR). Bounded by `max_conflict_attempts` failed attempts (an attempt is spent when it
starts and given back once its resolution is pushed with its acceptance passing, so a resolution
overtaken by another merge costs nothing) and by the PR's ceiling of total work (`budgets.pr`).
"""

from __future__ import annotations

import re

from bot.errors import ConflictUnresolved
from bot.forge.types import PullRequest
from bot.git import REMOTE_PREFIX, Worktree
from bot.ledger import attempts as attempts_mod
from bot.ledger import comments, labels
from bot.ledger.batches import without_trailers
from bot.ledger.failures import clear_failure
from bot.ledger.labels import State
from bot.queue.kinds import JobRequest
from bot.settings import Role
from bot.worker import publish
from bot.worker.bounds import check_ceiling, timed_run, unqueue
from bot.worker.ci import pr_task
from bot.worker.implement import agent_error
from bot.worker.pulls import conflicting, open_orchestra_prs, settled
from bot.worker.session import Task, WorkerContext, task_prompt_context, verify

#: The step name failures of this job are reported under (bot/jobs.py).
STEP = "resolve_conflict"
MARKERS = re.compile(r"^(<{7}|={7}|>{7})( |$)", re.MULTILINE)
#: Characters of one conflicted file shown in the prompt.
HUNK_CHARS = 12_000


def scan_conflicts(ctx: WorkerContext, base_sha: str) -> list[int]:
    """Enqueue a conflict job for every open orchestra PR on the default branch that no longer merges."""
    default = ctx.forge.default_branch()
    found = []
    for pull in open_orchestra_prs(ctx.forge):
        if pull.base_ref != default:
            continue
        pr = settled(ctx.forge, pull.number)
        if pr.state == "open" and conflicting(pr):
            ctx.executor.submit(
                JobRequest.make(
                    "resolve_conflict",
                    repo=ctx.repo,
                    pr=pr.number,
                    base_sha=base_sha,
                    installation_id=ctx.installation_id,
                )
            )
            found.append(pr.number)
    return found


def conflict_hunks(worktree: Worktree, paths: list[str]) -> list[dict[str, str]]:
    """Each conflicted file's text (with its markers), capped around the first conflict."""
    files = []
    for path in paths:
        try:
            text = (worktree.path / path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = "(binary or unreadable file; decide with `run git show :2:PATH` / `:3:PATH`)"
        if len(text) > HUNK_CHARS:
            first = max(0, text.find("<<<<<<<") - 2000)
            text = ("…\n" if first else "") + text[first : first + HUNK_CHARS] + "\n…"
        files.append({"path": path, "hunks": text})
    return files


def unresolved(worktree: Worktree, paths: list[str]) -> list[str]:
    """The paths that still hold conflict markers."""
    left = []
    for path in paths:
        file = worktree.path / path
        if file.is_file() and MARKERS.search(file.read_text(encoding="utf-8", errors="replace")):
            left.append(path)
    return left


def resolve_conflict(ctx: WorkerContext, pr_number: int, base_sha: str) -> str:
    """The resolve_conflict job's core; returns what it did in a few words."""
    pr = ctx.forge.get_pr(pr_number)
    if pr.state != "open":
        return "PR is not open"
    counters = attempts_mod.read(pr.body)
    if base_sha in counters.conflict_bases:
        return "already tried for this base"
    task = pr_task(ctx, pr)
    ctx.mirror.fetch()
    base = REMOTE_PREFIX + pr.base_ref
    with ctx.mirror.worktree(REMOTE_PREFIX + pr.head_ref) as worktree:
        conflicted = worktree.merge(base, f"Merge {pr.base_ref} into {pr.head_ref}")
        if not conflicted:  # clean, or only `union_paths` touched by both: merged mechanically, no attempt
            if worktree.head() == pr.head_sha:
                return f"up to date with {pr.base_ref}"
            publish.push(ctx, worktree, pr.head_ref)
            _failure_gone(ctx, pr, task.number)
            return f"merged {pr.base_ref} mechanically (no conflict left for an agent)"
        limit = ctx.config.max_conflict_attempts
        if counters.conflict_spent >= limit:
            raise ConflictUnresolved(
                f"{counters.conflict_spent} of {limit} conflict attempts failed on PR #{pr.number}; "
                f"it still conflicts with `{pr.base_ref}`."
            )
        check_ceiling(ctx, pr.number, counters)
        counters = counters.start_conflict(base_sha)
        attempts_mod.save(ctx.forge, pr.number, counters)  # spent until the resolution is pushed: a crash spends it
        labels.set_state(ctx.forge, task.number, State.WORKING, ctx.config)
        unqueue(ctx, pr)
        counters, summary, failing = _resolve(ctx, pr, task, worktree, counters, conflicted)
        sha = publish.push(ctx, worktree, pr.head_ref)
        if failing is None:  # pushed and passing: not a failure
            attempts_mod.save(ctx.forge, pr.number, counters.conflict_resolved(base_sha))
    labels.set_state(ctx.forge, task.number, State.REVIEW, ctx.config)
    _failure_gone(ctx, pr, task.number)
    files = ", ".join(f"`{p}`" for p in conflicted)
    after = (
        ""
        if failing is None
        else (
            "\n\n**The acceptance commands fail on the merged result** (this attempt counts against "
            "`max_conflict_attempts`); CI tells what fails and the CI-fix job adapts this PR:\n\n"
            f"```\n{failing}\n```"
        )
    )
    comments.upsert(
        ctx.forge,
        pr.number,
        f"conflict-{counters.conflict}",
        f"**Merged `{pr.base_ref}` into this branch** (pushed `{sha[:8]}`; conflicts in {files}).\n\n{summary}{after}",
    )
    outcome = "" if failing is None else "; its acceptance fails: left to CI and the CI fix"
    return f"merged {pr.base_ref} ({len(conflicted)} conflicted files){outcome}"


def _failure_gone(ctx: WorkerContext, pr: PullRequest, task: int) -> None:
    """A merge was pushed: an earlier failed conflict job no longer stands — its `needs-human` mark on the PR
    goes (the sweep skips PRs that carry it, so a stale one kept the PR from ever being looked at again), and
    its failure comments say it was resolved. The task's own label was set by the caller."""
    needs_human = ctx.config.label(State.NEEDS_HUMAN.value)
    if needs_human not in pr.labels:
        return
    ctx.forge.remove_label(pr.number, needs_human)
    for number in (task, pr.number):
        clear_failure(ctx.forge, number, STEP)
    if labels.state_from_labels(ctx.config.label_prefix, ctx.forge.get_issue(task).labels) == State.NEEDS_HUMAN:
        labels.set_state(ctx.forge, task, State.REVIEW, ctx.config)


def _resolve(
    ctx: WorkerContext,
    pr: PullRequest,
    task: Task,
    worktree: Worktree,
    counters: attempts_mod.Attempts,
    conflicted: list[str],
) -> tuple[attempts_mod.Attempts, str, str | None]:
    """The conflict agent resolves the merge in progress: (usage, its report, the tail of the acceptance
    commands when they fail on the resolved merge, else None). ConflictUnresolved when it did not resolve
    it (the attempt stays spent).

    A resolution whose acceptance fails is still committed and pushed: the merge is done, and what fails
    is the combination of this PR with what landed — CI says so on the new head and the CI-fix job,
    with that output, adapts the PR (the queue never lands a red head). Refusing it instead left the PR
    unmerged with the same failure each time main moved, until its attempts ran out.
    """
    # What landed: the commits of the merge in progress that the PR's head lacks (`HEAD..MERGE_HEAD`, both
    # fixed shas of this worktree). Never through `merge-base` of a remote ref: a fetch running at the same
    # time can leave that empty, and `base..base` named nothing.
    landed = ctx.mirror.log_messages(worktree.head(), worktree.merge_head())
    variables = {
        **task_prompt_context(ctx, task),
        "pr_number": pr.number,
        "base_branch": pr.base_ref,
        "landed": [without_trailers(text) for text in landed],
        "conflicts": conflict_hunks(worktree, conflicted),
    }
    result, seconds = timed_run(ctx, Role.CONFLICT, variables, worktree, label=f"conflict-{task.number}")
    counters = counters.add_usage(Role.CONFLICT.value, result.usage, seconds)
    attempts_mod.save(ctx.forge, pr.number, counters)
    if not result.ok:
        raise agent_error(result, f"the conflict resolution of PR #{pr.number} did not finish")
    left = unresolved(worktree, conflicted)
    if left:
        raise ConflictUnresolved(f"conflict markers remain in {', '.join(left)}")
    verification = verify(ctx, worktree, task.acceptance)
    worktree.commit_all(f"Merge {pr.base_ref} into {pr.head_ref}")
    return counters, result.report.markdown(), None if verification.ok else verification.tail
