"""The sweep: submit every job the forge's state calls for and that no live job is doing.

One code path for `orchestra reconcile` (after Redis was wiped), the periodic `sweep` job (a
webhook answered 503 or never delivered, a trigger missed) and local mode's timer. It reads the
repository's unfinished work from the forge and, for each piece, submits the job that moves it:

- a goal never planned (no record, no task), with a plan recorded but not published, or with a
  re-plan request not applied → `plan` (not a goal that asked for a person: `needs-human`);
- a handoff not yet folded into its goal's plan, or a planned goal with no open task left (its
  completion was missed) → `handoff` for the goal;
- an `/orchestra` command without the bot's reply → `command`;
- an open orchestra PR that conflicts (base not tried yet) → `resolve_conflict`; whose checks
  failed (head not tried yet) → `fix_ci`; green under the `auto` merge policy → `maybe_merge`
  (the checks are those its base branch requires, when protection or a ruleset names some);
- a PR in the orchestra's merge queue (the `queued` mark) → the repository's `land` job, which also
  rebuilds or expires a batch whose CI never reported (bot/worker/landing.py);
- a stale claim (`working`, no open PR, no live implement job) → `implement` again; when its
  last job failed with its retries spent, the task is labelled `needs-human` instead (its
  failure comment says what happened): a person decides, and its slot frees;
- a closed task or sub-goal still carrying a state label → the label is removed;
- and the repository's dispatch (bot/planner/dispatch.py): dependants of closed tasks become
  ready, ready sub-goals get their `plan`, ready tasks get `implement` within the cap.

Idempotent: a job already live is not submitted again, each job re-checks the forge before it
acts, and a second run right after the first submits nothing. Cost per run, in forge requests
(all reads conditional, so what did not change answers 304 and costs no rate-limit budget on
GitHub): the config (2), open goals, open tasks, open PRs, comments since `since`, closed tasks
and goals updated since `since` (1 page each), one comment list per open goal, and per open
orchestra PR its checks (2) and mergeability (1); plus one read per closed dependency and per
closed task with a handoff in the window, and the writes it makes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot import steering
from bot.commands import parse
from bot.forge.client import Forge
from bot.forge.types import BranchRules, Comment, PullSummary
from bot.ledger import attempts as attempts_mod
from bot.ledger import labels, markers
from bot.ledger.comments import is_bot
from bot.ledger.goaltree import goal_position
from bot.ledger.labels import QUEUED, Kind, State, label_name, state_from_labels
from bot.ledger.record import (
    HANDOFF_MARKER,
    REPLAN_MARKER,
    PlannerRecord,
    load_record,
    pending_replans,
)
from bot.ledger.taskbody import branch_name, parse_task_body, task_number_from_branch
from bot.planner.dispatch import Backlog, dispatch_repository, implement_job
from bot.queue.kinds import Executor, JobRequest, Scheduler, SubmitResult, failed
from bot.repoconfig import RepoConfig

log = logging.getLogger(__name__)

#: How far back a sweep looks for commands and handoffs, at least (a sweep runs every few minutes).
MIN_LOOKBACK = timedelta(hours=1)


@dataclass
class ReconcileReport:
    """What a pass submitted (`new`), found already live (`live`), and repaired on the forge."""

    new: list[str] = field(default_factory=list)
    live: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)

    def add(self, job_id: str, new: bool) -> None:
        (self.new if new else self.live).append(job_id)

    @property
    def quiet(self) -> bool:
        """True when the pass changed nothing."""
        return not self.new and not self.repaired


def lookback(interval_s: float) -> str:
    """The `since` of a periodic sweep: four intervals back, at least an hour (ISO 8601, UTC)."""
    span = max(MIN_LOOKBACK, timedelta(seconds=4 * interval_s))
    return iso(datetime.now(UTC) - span)


def iso(moment: datetime) -> str:
    """GitHub's timestamp form, `YYYY-MM-DDTHH:MM:SSZ` (UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Sweep:
    """One pass over one repository (see the module docstring)."""

    forge: Forge
    config: RepoConfig
    executor: Executor
    installation_id: int | None
    since: str | None
    report: ReconcileReport = field(default_factory=ReconcileReport)

    def run(self) -> ReconcileReport:
        backlog = Backlog.read(self.forge, self.config)
        pulls = [p for p in self.forge.list_prs("open") if task_number_from_branch(p.head_ref) is not None]
        comments = self._recent(self.forge.list_repo_comments(self.since))
        records = self._goals(backlog)
        self._handoffs(backlog, records, comments)
        self._commands(comments)
        self._pulls(pulls)
        self._claims(backlog, pulls)
        self._closed()
        self._dispatch(backlog)
        return self.report

    # -- submitting ----------------------------------------------------------------------------
    def _submit(self, job: JobRequest) -> None:
        """Submit `job` unless it is live, or its last run failed (a person's retry is awaited)."""
        if self.executor.live(job.job_id):
            self.report.add(job.job_id, False)
        elif not failed(self.executor, job.job_id):
            self.report.add(job.job_id, self.executor.submit(job).new)

    def _job(self, kind: str, **args: object) -> JobRequest:
        return JobRequest.make(kind, repo=self.forge.repo_full_name, installation_id=self.installation_id, **args)

    def _recent(self, comments: list[Comment]) -> list[Comment]:
        """Comments written in the window (`since` filters on the update time; an old comment edited
        lately is not news)."""
        if self.since is None:
            return comments
        start = _parse_time(self.since)
        return [c for c in comments if not c.created_at or _parse_time(c.created_at) >= start]

    # -- goals -----------------------------------------------------------------------------------
    def _goals(self, backlog: Backlog) -> dict[int, PlannerRecord]:
        """Plan goals that need it; complete planned goals with nothing open. Returns the records read."""
        records: dict[int, PlannerRecord] = {}
        open_under = {t.spec.goal for t in backlog.items()}
        needs_human = label_name(self.config.label_prefix, State.NEEDS_HUMAN)
        paused = label_name(self.config.label_prefix, State.PAUSED)
        for goal in sorted(backlog.goals.values(), key=lambda i: i.number):
            parent, _depth = goal_position(goal)
            state = state_from_labels(self.config.label_prefix, goal.labels)
            if goal.is_pull or needs_human in goal.labels or (parent is not None and state != State.WORKING):
                continue  # a person is asked; or a sub-goal dispatch has not started yet
            comments = self.forge.list_comments(goal.number)
            record = records[goal.number] = load_record(self.forge, goal.number, comments)
            unplanned = record.version == 0 and goal.number not in open_under  # no record, no task
            if unplanned or record.pending is not None or pending_replans(self.forge, comments):
                self._submit(self._job("plan", number=goal.number))
            elif record.version > 0 and goal.number not in open_under and paused not in goal.labels:
                self._submit(self._job("handoff", number=goal.number))  # its completion was missed
        return records

    def _handoffs(self, backlog: Backlog, records: dict[int, PlannerRecord], comments: list[Comment]) -> None:
        """A handoff in the window not in its goal's record, on a task a worker has run on → `handoff`."""
        for comment in comments:
            if not is_bot(self.forge, comment) or not markers.has_tag(comment.body, HANDOFF_MARKER):
                continue
            issue = backlog.issue(comment.issue_number or 0)
            spec = parse_task_body(issue.body) if issue is not None else None
            if issue is None or spec is None or spec.goal not in records or spec.kind == "subgoal":
                continue
            state = state_from_labels(self.config.label_prefix, issue.labels)
            if issue.state == "open" and state in (None, State.WAITING, State.READY):
                continue  # the planner reads handoffs of tasks a worker has run on (bot/ledger/record.py)
            record = records[spec.goal]
            if record.version > 0 and comment.id not in record.handoffs_done:
                self._submit(self._job("handoff", number=spec.goal))

    def _commands(self, comments: list[Comment]) -> None:
        """An `/orchestra` command in the window with no reply of the bot's → its `command` job."""
        answered = {tag for c in comments if is_bot(self.forge, c) for tag in markers.names(c.body)}
        for comment in comments:
            command = parse(comment.body)
            if command is None or is_bot(self.forge, comment) or comment.issue_number is None:
                continue
            if {f"reply-{comment.id}", f"{REPLAN_MARKER}-{comment.id}"} & answered:
                continue
            self._submit(
                self._job(
                    "command",
                    number=comment.issue_number,
                    comment_id=comment.id,
                    verb=command.verb,
                    text=command.text,
                    sender=comment.author,
                )
            )

    # -- pull requests and claims ----------------------------------------------------------------
    def _pulls(self, pulls: list[PullSummary]) -> None:
        """Each open orchestra PR gets the job its state calls for (see the module docstring)."""
        needs_human = label_name(self.config.label_prefix, State.NEEDS_HUMAN)
        bases: dict[str, str] = {}
        rules: dict[str, BranchRules] = {}
        self._queue(pulls)
        for pull in pulls:
            if needs_human in pull.labels:
                continue
            pr = self.forge.get_pr(pull.number)
            if pr.state != "open":
                continue
            tried = attempts_mod.read(pr.body)
            if pr.mergeable is False or pr.mergeable_state == "dirty":
                base = bases.setdefault(pr.base_ref, self.forge.branch_sha(pr.base_ref))
                if base not in tried.conflict_bases:
                    self._submit(self._job("resolve_conflict", pr=pr.number, base_sha=base))
                continue
            required = rules.setdefault(pr.base_ref, self.forge.branch_rules(pr.base_ref)).required
            checks = self.forge.check_state(pr.head_sha, required)
            if checks.state == "failure" and pr.head_sha not in tried.ci_fix_shas:
                self._submit(self._job("fix_ci", pr=pr.number, branch=pr.head_ref, head_sha=pr.head_sha))
            elif checks.state == "success" and self._mergeable_now(pr.number):
                self._submit(self._job("maybe_merge", pr=pr.number, branch=pr.head_ref, head_sha=pr.head_sha))

    def _queue(self, pulls: list[PullSummary]) -> None:
        """PRs in the orchestra's merge queue → the `land` job (it advances, rebuilds or expires the batch)."""
        merge = self.config.merge
        if merge.policy != "auto" or merge.queue == "off":
            return
        if any(self.config.label(QUEUED) in p.labels for p in pulls):
            self._submit(self._job("land"))

    def _mergeable_now(self, number: int) -> bool:
        """The merge policy lets the bot merge a green PR now (`auto`, with the approvals it asks for)."""
        policy = self.config.merge
        if policy.policy != "auto":
            return False
        return (
            not policy.required_approvals
            or steering.approvals(self.forge, self.config, number) >= policy.required_approvals
        )

    def _claims(self, backlog: Backlog, pulls: list[PullSummary]) -> None:
        """`working` with no open PR and no live implement job: run it again, or ask a person when it failed."""
        with_pr = {p.head_ref for p in pulls}
        for issue in sorted(backlog.tasks.values(), key=lambda i: i.number):
            state = state_from_labels(self.config.label_prefix, issue.labels)
            if state != State.WORKING or branch_name(issue.number, issue.title) in with_pr:
                continue
            job = implement_job(self.forge.repo_full_name, issue.number, self.installation_id)
            if failed(self.executor, job.job_id) and not self.executor.live(job.job_id):
                labels.set_state(self.forge, issue.number, State.NEEDS_HUMAN, self.config)
                self.report.repaired.append(f"#{issue.number} working → needs-human (its implement job failed)")
            else:
                self._submit(job)

    # -- labels and dispatch ---------------------------------------------------------------------
    def _closed(self) -> None:
        """Closed tasks and sub-goals lose their state label."""
        for kind in (Kind.TASK, Kind.GOAL):
            for issue in self.forge.list_issues(
                [label_name(self.config.label_prefix, kind)], state="closed", since=self.since
            ):
                if state_from_labels(self.config.label_prefix, issue.labels) is not None:
                    labels.clear_state(self.forge, issue.number, self.config)
                    self.report.repaired.append(f"#{issue.number} closed: state label removed")

    def _dispatch(self, backlog: Backlog) -> None:
        result = dispatch_repository(self.forge, self.config, self.executor, self.installation_id, backlog)
        for submitted in result.submitted:
            self.report.add(submitted.job_id, submitted.new)
        for number in result.live:
            self.report.add(implement_job(self.forge.repo_full_name, number, self.installation_id).job_id, False)
        self.report.repaired += [f"#{n} waiting ⇄ ready" for n in result.relabelled]


def reconcile(
    forge: Forge, config: RepoConfig, executor: Executor, installation_id: int | None = None, since: str | None = None
) -> ReconcileReport:
    """Submit the jobs the forge's state calls for (comments and closed tasks: updated since `since`,
    ISO 8601; None: all). Returns what was submitted."""
    report = Sweep(forge, config, executor, installation_id, since).run()
    log.info(
        "sweep of %s: %d submitted, %d live, %d repaired",
        forge.repo_full_name,
        len(report.new),
        len(report.live),
        len(report.repaired),
    )
    return report


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def next_tick(interval_s: float, now: float | None = None) -> tuple[int, datetime]:
    """The next sweep tick after `now` (epoch seconds) and when it starts: ticks are `interval_s` apart."""
    moment = time.time() if now is None else now
    tick = int(moment // interval_s) + 1
    return tick, datetime.fromtimestamp(tick * interval_s, UTC)


def schedule_sweeps(executor: Executor, interval_s: float, now: float | None = None) -> SubmitResult | None:
    """Schedule the next tick's `sweep_all` (its id is the tick: every worker's call for one tick folds
    into one job). None when the executor cannot schedule (in-process executors)."""
    if not isinstance(executor, Scheduler):
        return None
    tick, at = next_tick(interval_s, now)
    return executor.schedule(JobRequest.make("sweep_all", tick=tick, installation_id=None), at)
