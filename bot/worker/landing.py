"""The landing job: the orchestra's merge queue (`merge.queue: batch` or `serial`), one job per repository.

Main never red: every commit the orchestra puts on the default branch is a tree CI passed as such.
The queue keeps its state on the forge (`bot/ledger/batches.py`): PRs waiting carry the `queued`
mark; the batch under test is one merge commit on `orchestra/queue/<default>` whose first parent is
the default branch's tip and whose other parents are the PRs' heads; its CI result is the check
runs and statuses on that commit. Each run of the job looks at the forge and advances the queue:

- no batch: build one from the queued PRs that are ready (their required checks green on their
  heads), oldest first, at most `merge.max_batch` (`serial`: one), merged on the current tip
  (`union_paths` keep both sides); a PR that conflicts with the tip goes to its conflict job, one
  that conflicts only with another PR of the batch waits for the next batch; force-push it to the
  queue branch, where CI runs as on any push. Fewer ready than a batch may hold while implementations
  wait for a free worker (where the executor can tell): wait for more to join, up to
  `merge.batch_wait_seconds` from the oldest ready head, on a timer — one CI run and one landing for
  several PRs instead of a worker taken from the implementations for each;
- a batch built on an older tip (someone else moved the default branch): rebuild it;
- a batch still being tested: nothing (its checks' completion runs this job again); one whose CI
  has not concluded `merge.batch_timeout_minutes` after it was built is rebuilt (a new commit, so CI
  runs again, `Orchestra-Queue-Retry`), at most `MAX_BATCH_RETRIES` times; then its PRs leave the
  queue and ask a person (`BatchExpired`). The sweep runs this job, so a batch whose CI never
  reports is looked at again without any event;
- a green batch: push its commit to the default branch, never forcing (a fast-forward: the forge
  marks each PR merged, as its head is now on the base); rejected because the tip moved: rebuild;
  then build the next batch, and delete the landed branches and close their tasks while its CI runs;
- a red batch of several PRs: bisect — test its first half alone (`Orchestra-Queue-Split`); when that
  lands, the rest is tested on the new tip with whatever joined the queue;
- a red batch of one PR: that PR breaks the combination. Unless the default branch itself is red
  (then the queue holds until it is green), the PR leaves the queue and goes back to its worker as a
  `fix_batch` job with the failing output and what landed before it (bot/worker/ci.py).

The job id is the repository's, so triggers fold into one run (and a trigger during a run runs it
once more); every run re-reads the forge, so running it twice does nothing twice.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

from bot import steering
from bot.errors import BatchExpired, GitFailed, LandingRefused, PushDeclined
from bot.forge.types import BranchRules, CheckState, PullSummary
from bot.git import PUSHED
from bot.ledger import batches
from bot.ledger.batches import Batch, Member
from bot.ledger.failures import report_failure
from bot.ledger.markers import read_section
from bot.ledger.taskbody import task_number_from_branch
from bot.queue.kinds import IMPLEMENT, JobRequest
from bot.worker.bounds import queued_label, unqueue
from bot.worker.merge import after_merge
from bot.worker.publish import SUMMARY_SECTION
from bot.worker.pulls import MERGEABLE_BACKOFF
from bot.worker.session import WorkerContext

log = logging.getLogger(__name__)

#: Steps one run takes at most (land, build; bisect; rebuild after a moved tip …).
MAX_STEPS = 6
#: Times a batch whose CI did not report in time is rebuilt before its PRs leave the queue.
MAX_BATCH_RETRIES = 2
sleep = time.sleep
clock = time.time


@dataclass
class Queue:
    """One run's view of the queue: the default branch, its rules, the open PRs (read once)."""

    ctx: WorkerContext
    default: str
    rules: BranchRules
    _open: list[PullSummary] | None = None
    said: list[str] = field(default_factory=list)
    #: PRs landed in this run, tidied (branch deleted, task closed) once the next batch is on its way.
    landed: list[PullSummary] = field(default_factory=list)

    @property
    def branch(self) -> str:
        return batches.queue_branch(self.default)

    def open_prs(self) -> list[PullSummary]:
        if self._open is None:
            self._open = self.ctx.forge.list_prs("open")
        return self._open

    def forget(self, numbers: list[int]) -> None:
        """These PRs left the queue in this run (landed, refused, sent back)."""
        self._open = [p for p in self.open_prs() if p.number not in numbers]

    def queued(self) -> list[PullSummary]:
        """Open orchestra PRs on the default branch with the queue's mark, oldest first."""
        label = queued_label(self.ctx)
        return sorted(
            (
                p
                for p in self.open_prs()
                if label in p.labels and p.base_ref == self.default and task_number_from_branch(p.head_ref) is not None
            ),
            key=lambda p: p.number,
        )

    def tip(self) -> str:
        sha = self.ctx.mirror.sha(self.default)
        if sha is None:
            raise GitFailed(f"the default branch `{self.default}` is not on the forge")
        return sha

    def current(self) -> Batch | None:
        """The batch on the queue branch, if the branch holds one."""
        sha = self.ctx.mirror.sha(self.branch)
        if sha is None:
            return None
        parents, text = self.ctx.mirror.commit(sha)
        return batches.parse(sha, parents, text)


def land(ctx: WorkerContext) -> str:
    """The land job's core; returns what it did in a few words."""
    merge = ctx.config.merge
    queue = Queue(ctx, ctx.forge.default_branch(), BranchRules())
    if merge.policy != "auto" or merge.queue == "off":
        _clear(queue)  # as the mirror last saw it: no fetch for a repository without the queue
        return f"the orchestra's queue is off (merge.policy {merge.policy}, merge.queue {merge.queue})"
    queue.rules = ctx.forge.branch_rules(queue.default)
    if queue.rules.merge_queue:
        _clear(queue)
        return "the forge's merge queue lands PRs on this branch"
    ctx.mirror.fetch()
    batch = queue.current()
    try:
        for _ in range(MAX_STEPS):
            if batch is None:
                _build(queue)
                break
            batch, done = _advance(queue, batch)
            if done:
                break
    finally:
        for pr in queue.landed:  # after the next batch was pushed (its CI runs meanwhile), however the run ends
            _landed(ctx, pr)
    return "; ".join(queue.said) or "nothing to do"


def _advance(queue: Queue, batch: Batch) -> tuple[Batch | None, bool]:
    """One step on the current batch: (the batch to look at next, whether this run is done)."""
    ctx = queue.ctx
    if batch.base != queue.tip():
        queue.said.append(f"batch {batch.sha[:8]} was built on an older {queue.default}: rebuilding")
        return None, False
    checks = ctx.forge.check_state(batch.sha, list(batch.checks) or None)
    if checks.state == "pending":
        if _overdue(queue, batch):
            return _timed_out(queue, batch)
        queue.said.append(f"testing {_names(batch)} ({batch.sha[:8]})")
        return batch, True
    if checks.state == "success":
        _land(queue, batch)
        return None, False
    if len(batch.members) > 1:
        half = math.ceil(len(batch.members) / 2)
        first, rest = batch.numbers[:half], batch.numbers[half:]
        queue.said.append(f"batch {_names(batch)} is red: testing {', '.join(f'#{n}' for n in first)} alone")
        if not _build(queue, only=first, rest=rest):
            _build(queue)
        return None, True
    held = _blame(queue, batch, checks)
    return (batch, True) if held else (None, False)


def _overdue(queue: Queue, batch: Batch) -> bool:
    """True when the batch's CI has not concluded within `merge.batch_timeout_minutes` of its building."""
    age = clock() - queue.ctx.mirror.committed_at(batch.sha)
    return age > queue.ctx.config.merge.batch_timeout_minutes * 60


def _timed_out(queue: Queue, batch: Batch) -> tuple[Batch | None, bool]:
    """Rebuild a batch whose CI never reported (CI runs again on the new commit); past the retries, expire it."""
    minutes = queue.ctx.config.merge.batch_timeout_minutes
    if batch.retries < MAX_BATCH_RETRIES:
        queue.said.append(f"batch {_names(batch)} ({batch.sha[:8]}) has had no CI result for {minutes} min: rebuilding")
        if not _build(queue, only=batch.numbers, rest=list(batch.split_rest), retries=batch.retries + 1):
            _build(queue)
        return None, True
    ctx = queue.ctx
    error = BatchExpired(
        f"Batch `{batch.sha[:8]}` ({_names(batch)}) was built {batch.retries + 1} times and CI "
        f"reported no result on it within {minutes} minutes any time."
    )
    for pr in [p for p in queue.queued() if p.number in batch.numbers]:
        unqueue(ctx, pr)
        report_failure(ctx.forge, ctx.config, pr.number, error, step="land", task=task_number_from_branch(pr.head_ref))
    queue.forget(batch.numbers)
    queue.said.append(f"batch {_names(batch)} expired: CI never reported on it")
    return None, False


def _land(queue: Queue, batch: Batch) -> None:
    """Fast-forward the default branch to the green batch; then tidy the landed PRs."""
    ctx = queue.ctx
    by_number = {p.number: p for p in queue.queued()}
    if any(by_number.get(m.number) is None or by_number[m.number].head_sha != m.head for m in batch.members):
        queue.said.append(f"batch {batch.sha[:8]} is out of date (a PR changed or left the queue): rebuilding")
        return
    try:
        pushed = ctx.mirror.push_commit(batch.sha, queue.default)
    except PushDeclined as exc:
        _refused(queue, batch, [by_number[m.number] for m in batch.members], exc)
        return
    if pushed != PUSHED:
        queue.said.append(f"{queue.default} moved before batch {batch.sha[:8]} landed: rebuilding")
        ctx.mirror.fetch()
        return
    queue.said.append(f"landed {_names(batch)} ({batch.sha[:8]})")
    ctx.mirror.fetch()
    queue.forget(batch.numbers)
    queue.landed += [by_number[member.number] for member in batch.members]


def _refused(queue: Queue, batch: Batch, prs: list[PullSummary], exc: PushDeclined) -> None:
    """The forge refuses the push to the default branch: each PR says why and needs a person."""
    ctx = queue.ctx
    error = LandingRefused(f"Batch `{batch.sha[:8]}` ({_names(batch)}) passed CI but could not land: {exc}")
    for pr in prs:
        unqueue(ctx, pr)
        report_failure(ctx.forge, ctx.config, pr.number, error, step="land", task=task_number_from_branch(pr.head_ref))
    queue.forget(batch.numbers)
    queue.said.append(f"the forge refused the push of batch {batch.sha[:8]} to {queue.default}")


def _landed(ctx: WorkerContext, pr: PullSummary) -> None:
    """Once the forge has marked the PR merged (its head is on the base): delete its branch, close its task."""
    current = ctx.forge.get_pr(pr.number)
    for delay in MERGEABLE_BACKOFF:
        if current.merged or current.state != "open":
            break
        sleep(delay)
        current = ctx.forge.get_pr(pr.number)
    if not current.merged:
        log.warning("PR #%s of %s landed but is not marked merged yet; its branch is kept", pr.number, ctx.repo)
        return
    after_merge(ctx, current)


def _blame(queue: Queue, batch: Batch, checks: CheckState) -> bool:
    """A red batch of one: send its PR back to its worker (True when the queue holds instead)."""
    ctx = queue.ctx
    tip = ctx.forge.check_state(batch.base, list(batch.checks) or None)
    if tip.state == "failure" or (tip.state == "pending" and tip.seen):
        queue.said.append(f"held: {queue.default} itself is {tip.state} at {batch.base[:8]}; the queue waits for it")
        return True
    member = batch.members[0]
    pr = next((p for p in queue.open_prs() if p.number == member.number), None)
    if pr is not None:
        unqueue(ctx, pr)
        ctx.executor.submit(
            JobRequest.make(
                "fix_batch",
                repo=ctx.repo,
                pr=member.number,
                head_sha=member.head,
                batch_sha=batch.sha,
                base_sha=batch.base,
                installation_id=ctx.installation_id,
            )
        )
        queue.forget([member.number])
    names = ", ".join(f.name for f in checks.failures)
    queue.said.append(f"#{member.number} fails ({names}) with what landed before it: sent back to its worker")
    return False


def _build(queue: Queue, only: list[int] | None = None, rest: list[int] | None = None, retries: int = 0) -> bool:
    """Build and push the next batch (from `only`, when bisecting); False when there was nothing to test."""
    ctx = queue.ctx
    ready = _ready(queue, only)
    if not ready:
        if only is None:
            _clear(queue)
            queue.said.append("nothing queued is ready")
        return False
    if only is None and _gathering(queue, ready):
        return True
    tip = queue.tip()
    members: list[Member] = []
    seen: set[str] = set()
    with ctx.mirror.worktree(tip) as worktree:
        for pr, checks in ready:
            if not ctx.mirror.has(pr.head_sha):
                ctx.mirror.fetch()
                if not ctx.mirror.has(pr.head_sha):  # its head moved since the list: the next run sees it
                    continue
            if worktree.merge(pr.head_sha, f"Queue #{pr.number}"):
                worktree.abort_merge()
                _conflicting(queue, pr, tip, first=not members)
                continue
            members.append(Member(pr.number, pr.head_sha, pr.title, _summary(pr.body)))
            seen.update(checks.seen)
        if not members:
            if only is None:
                _clear(queue)
            return False
        wanted = list(queue.rules.required) or sorted(seen)
        text = batches.message(queue.default, tip, members, wanted, rest, retries)
        sha = ctx.mirror.commit_tree(worktree.head(), [tip, *(m.head for m in members)], text)
    ctx.mirror.push_commit(sha, queue.branch, force=True)
    ctx.mirror.fetch()
    queue.said.append(f"testing {', '.join(f'#{m.number}' for m in members)} on {queue.branch} ({sha[:8]})")
    return True


def _gathering(queue: Queue, ready: list[tuple[PullSummary, CheckState]]) -> bool:
    """True when this batch waits for more PRs to join (`merge.batch_wait_seconds`): it is smaller
    than a batch may be, implementations wait for a free worker (the workers are saturated, so a
    landing per PR would take a worker from them each time), and its oldest PR's head is younger
    than the wait. The job looks again from a timer when the wait is over (every PR that becomes
    ready meanwhile wakes it too). With workers to spare it lands what is ready at once. Only where
    the executor can tell what waits and wake a job later (in-process); elsewhere what is ready lands now."""
    ctx = queue.ctx
    merge = ctx.config.merge
    queued = getattr(ctx.executor, "queued", None)
    later = getattr(ctx.executor, "submit_later", None)
    if not merge.batch_wait_seconds or len(ready) >= merge.batch_size or queued is None or later is None:
        return False
    waiting = queued(IMPLEMENT)
    heads = [pr.head_sha for pr, _ in ready if ctx.mirror.has(pr.head_sha)]
    if not waiting or not heads:
        return False
    waited = clock() - min(ctx.mirror.committed_at(sha) for sha in heads)
    if waited >= merge.batch_wait_seconds:
        return False
    left = merge.batch_wait_seconds - waited
    later(JobRequest.make("land", repo=ctx.repo, installation_id=ctx.installation_id), left + 0.5)
    queue.said.append(
        f"gathering a batch: {len(ready)} ready, {waiting} implementation(s) waiting for a worker; "
        f"building in {left:.0f} s at the latest"
    )
    return True


def _ready(queue: Queue, only: list[int] | None) -> list[tuple[PullSummary, CheckState]]:
    """Queued PRs whose required checks are green on their heads, oldest first, at most one batch."""
    ctx = queue.ctx
    wanted = queue.queued() if only is None else [p for p in queue.queued() if p.number in only]
    ready: list[tuple[PullSummary, CheckState]] = []
    approvals = ctx.config.merge.required_approvals
    for pr in wanted:
        if len(ready) >= ctx.config.merge.batch_size:
            break
        checks = ctx.forge.check_state(pr.head_sha, queue.rules.required)
        if checks.state == "failure":
            unqueue(ctx, pr)  # its own CI failed: its fix job takes it from here
            continue
        if checks.state == "pending" or (
            approvals and steering.approvals(ctx.forge, ctx.config, pr.number) < approvals
        ):
            continue
        ready.append((pr, checks))
    return ready


def _conflicting(queue: Queue, pr: PullSummary, tip: str, first: bool) -> None:
    """A PR that does not merge into the batch: with the tip itself → its conflict job; else the next batch."""
    if not first:
        queue.said.append(f"#{pr.number} conflicts with a PR ahead of it: next batch")
        return
    unqueue(queue.ctx, pr)
    queue.ctx.executor.submit(
        JobRequest.make(
            "resolve_conflict",
            repo=queue.ctx.repo,
            pr=pr.number,
            base_sha=tip,
            installation_id=queue.ctx.installation_id,
        )
    )
    queue.said.append(f"#{pr.number} conflicts with {queue.default}: resolve_conflict enqueued")


def _clear(queue: Queue) -> None:
    """Delete the queue branch when it exists (nothing is under test)."""
    if queue.ctx.mirror.sha(queue.branch) is not None:
        queue.ctx.forge.delete_branch(queue.branch)


def _summary(body: str) -> str:
    section = read_section(body, SUMMARY_SECTION) or ""
    marker = "### Summary"
    if marker in section:
        section = section.split(marker, 1)[1].split("###", 1)[0]
    return section.strip()


def _names(batch: Batch) -> str:
    return ", ".join(f"#{n}" for n in batch.numbers)
