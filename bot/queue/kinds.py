"""The job kinds: each kind's queue, timeout, retries, parameters and id — and nothing that runs it.

This table is light on purpose: the web process imports it to describe jobs (`JobRequest`)
without importing what runs them. The functions live in `bot/jobs.py` (a kind name → its entry
point), imported only where jobs run. A job's id is built from the arguments that identify its
work (`id_fields`), so the same work submitted twice has the same id and the executor keeps at
most one live copy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

#: Queues in the order workers take from them: fixing open PRs before starting new work.
URGENT, DEFAULT, IMPLEMENT = "urgent", "default", "implement"
QUEUES = (URGENT, DEFAULT, IMPLEMENT)

MINUTE = 60


@dataclass(frozen=True)
class JobKind:
    """One kind of job."""

    name: str
    queue: str
    timeout: int
    params: tuple[str, ...]
    id_fields: tuple[str, ...]
    retries: int = 2


def _kind(name: str, queue: str, timeout: int, params: str, id_fields: str, retries: int = 2) -> JobKind:
    return JobKind(name, queue, timeout, tuple(params.split()), tuple(id_fields.split()), retries)


# Every kind takes `installation_id` (None outside App mode) so the job can build its Forge;
# it never takes part in the id.
JOBS: dict[str, JobKind] = {
    kind.name: kind
    for kind in (
        _kind("plan", DEFAULT, 30 * MINUTE, "repo number installation_id", "repo number"),
        # One job per edit (its sender and resulting text); `edited_at` is the issue's `updated_at`.
        _kind(
            "goal_edited",
            DEFAULT,
            5 * MINUTE,
            "repo number sender text_sha256 edited_at installation_id",
            "repo number sender text_sha256",
        ),
        _kind("dispatch", DEFAULT, 5 * MINUTE, "repo number installation_id", "repo number"),
        # Repository-wide, one id per repository: every trigger of a pass folds into one (bot/planner/dispatch.py).
        # Urgent: a light pass that must not wait behind planning runs.
        _kind("dispatch_repo", URGENT, 10 * MINUTE, "repo installation_id", "repo"),
        # The sweep (bot/reconcile.py): one per repository; `sweep_all` lists the repositories every
        # `sweep_interval_s` (its id is the tick, so each tick runs once) and schedules the next tick.
        _kind("sweep", DEFAULT, 15 * MINUTE, "repo installation_id", "repo", 0),
        _kind("sweep_all", DEFAULT, 10 * MINUTE, "tick installation_id", "tick", 0),
        _kind("implement", IMPLEMENT, 60 * MINUTE, "repo number installation_id", "repo number"),
        # `pr` may be None (a commit status names no PR): the job finds it by `branch`.
        _kind("fix_ci", URGENT, 45 * MINUTE, "repo pr branch head_sha installation_id", "repo head_sha"),
        _kind("resolve_conflict", URGENT, 45 * MINUTE, "repo pr base_sha installation_id", "repo pr base_sha"),
        _kind("address_review", URGENT, 45 * MINUTE, "repo pr review_id installation_id", "repo pr review_id"),
        _kind(
            "command",
            URGENT,
            10 * MINUTE,
            "repo number comment_id verb text sender installation_id",
            "repo number comment_id",
            1,
        ),
        _kind("scan_conflicts", DEFAULT, 10 * MINUTE, "repo base_sha installation_id", "repo base_sha"),
        _kind("on_task_closed", DEFAULT, 5 * MINUTE, "repo number installation_id", "repo number"),
        _kind("handoff", DEFAULT, 30 * MINUTE, "repo number installation_id", "repo number"),
        _kind("maybe_merge", URGENT, 5 * MINUTE, "repo pr branch head_sha installation_id", "repo head_sha"),
        # One landing job per repository: every trigger folds into it (bot/worker/landing.py).
        _kind("land", URGENT, 15 * MINUTE, "repo installation_id", "repo"),
        # A PR that broke a merge queue batch (or a GitHub merge group) at `batch_sha`, built on `base_sha`.
        _kind(
            "fix_batch", URGENT, 45 * MINUTE, "repo pr head_sha batch_sha base_sha installation_id", "repo pr batch_sha"
        ),
    )
}

_ESCAPES = {"_": "__", ".": "_o", "/": "_s"}
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def _id_part(value: Any) -> str:
    """A value in RQ's job-id alphabet (letters, digits, `_`, `-`), reversibly escaped."""
    text = "".join(_ESCAPES.get(ch, ch) for ch in str(value))
    return _UNSAFE.sub(lambda m: f"_x{ord(m.group(0)):x}_", text)


@dataclass(frozen=True)
class JobRequest:
    """A job to run: its kind's name and its plain keyword arguments."""

    kind: str
    args: dict[str, Any]

    def __post_init__(self) -> None:
        spec = JOBS.get(self.kind)
        if spec is None:
            raise ValueError(f"unknown job kind {self.kind!r}; known: {', '.join(JOBS)}")
        missing = set(spec.params) - set(self.args)
        extra = set(self.args) - set(spec.params)
        if missing or extra:
            raise ValueError(f"job {self.kind}: missing {sorted(missing)}, unexpected {sorted(extra)}")

    @classmethod
    def make(cls, kind: str, **args: Any) -> JobRequest:
        """`JobRequest.make("plan", repo="o/r", number=5, installation_id=None)`."""
        return cls(kind, args)

    @property
    def spec(self) -> JobKind:
        return JOBS[self.kind]

    @property
    def job_id(self) -> str:
        return job_id(self.kind, self.args)


def job_id(kind: str, args: dict[str, Any]) -> str:
    """The deterministic id: ``plan-octo_scat_oweb-12`` for plan of octo/cat.web #12."""
    return "-".join([kind, *(_id_part(args[name]) for name in JOBS[kind].id_fields)])


@dataclass(frozen=True)
class SubmitResult:
    """What `submit` did: the job's id, and False when an identical job was already live."""

    job_id: str
    kind: str
    new: bool


class Executor(Protocol):
    """Where jobs run."""

    def submit(self, job: JobRequest) -> SubmitResult:
        """Run `job` (eventually), unless a job with its id is already live."""
        ...

    def live(self, job_id: str) -> bool:
        """True while a job with this id is waiting to run or running."""
        ...

    def cancel(self, job_id: str) -> bool:
        """Drop the job if it has not started; True when a waiting job was dropped. Running jobs finish."""
        ...

    def failed(self, job_id: str) -> bool:
        """True when the job's last run failed (its retries spent) and no copy is live since."""
        ...


@runtime_checkable
class Scheduler(Protocol):
    """An executor that can run a job later (RQ, with its scheduler)."""

    def schedule(self, job: JobRequest, at: datetime) -> SubmitResult:
        """Run `job` at `at`, unless a job with its id exists already (live or done)."""
        ...


def failed(executor: Executor, job_id: str) -> bool:
    """`executor.failed(job_id)`, False for an executor that keeps no failures."""
    check = getattr(executor, "failed", None)
    return bool(check(job_id)) if check is not None else False
