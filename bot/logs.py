"""One logging setup for every entry point: JSON lines for the services, timestamped lines for people.

`orchestra serve`, `orchestra worker` and `orchestra reconcile` log one JSON object a line
(`JsonFormatter`): time, level, logger, message, the process id, and — when known — the webhook
delivery being answered and the job being run (its id, kind, repository and goal, task, PR or
issue). Local mode, the demo and the Action log human lines (`HUMAN_FORMAT`), a timestamp on
each. `ORCHESTRA_LOG_FORMAT` (`json` or `human`) overrides a command's default;
`ORCHESTRA_LOG_LEVEL` takes a level name in any case (`bot.settings.parse_log_level`).

A job's fields come from a context variable that `Runtime.perform` binds around every job
(`job_context`), and otherwise from RQ's current job; a delivery's id from the Flask request
being answered. Nothing here is read at import time.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from bot.errors import ConfigError, Source

if TYPE_CHECKING:  # imported where used: a process configures its logs before it loads the queue (and Redis)
    from bot.queue.kinds import JobRequest

FORMAT_ENV = "ORCHESTRA_LOG_FORMAT"
FORMATS = ("json", "human")
#: Local mode's and the Action's lines (the same as local mode's `<state>/orchestra.log`).
HUMAN_FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"

#: The job kind's key in RQ's `job.meta` (`bot.queue.runs.KIND_META`; not imported: runs imports the runtime).
KIND_META = "orchestra_kind"
#: What a job's `number` is, by kind (the rest name a PR, or an issue that may be either).
NUMBER_FIELD = {
    "plan": "goal",
    "dispatch": "goal",
    "handoff": "goal",
    "implement": "task",
    "on_task_closed": "task",
    "command": "issue",
}

_fields: contextvars.ContextVar[Mapping[str, object] | None] = contextvars.ContextVar(
    "orchestra_log_fields", default=None
)


def parse_format(value: str | None, default: str) -> str:
    """`json` or `human` from ORCHESTRA_LOG_FORMAT (any case), else `default`; ConfigError for anything else."""
    if not value:
        return default
    chosen = value.strip().lower()
    if chosen not in FORMATS:
        raise ConfigError(
            f"{FORMAT_ENV}: {value!r} is not a log format; use json or human", source=Source("env", FORMAT_ENV)
        )
    return chosen


def job_fields(job: JobRequest, job_id: str | None = None) -> dict[str, object]:
    """The log fields of one job: id, kind, repository and what its number or PR is."""
    fields: dict[str, object] = {"job_id": job_id or job.job_id, "job_kind": job.kind, "repo": job.args.get("repo")}
    if job.args.get("number") is not None:
        fields[NUMBER_FIELD.get(job.kind, "issue")] = job.args["number"]
    if job.args.get("pr") is not None:
        fields["pr"] = job.args["pr"]
    return fields


@contextlib.contextmanager
def bound(**fields: object) -> Iterator[None]:
    """Every line logged inside (in this thread or task) carries `fields` (None values are left out)."""
    token = _fields.set({**(_fields.get() or {}), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _fields.reset(token)


@contextlib.contextmanager
def job_context(job: JobRequest) -> Iterator[None]:
    """Bind `job`'s fields (RQ's job id when RQ runs it, else the deterministic id) for the lines inside."""
    rq_job = _rq_job()
    with bound(**job_fields(job, rq_job.id if rq_job is not None else None)):
        yield


def _rq_job() -> Any:
    from rq import get_current_job

    try:
        return get_current_job()
    except Exception:  # noqa: BLE001 - a log line never fails for want of a job
        return None


def _rq_fields() -> dict[str, object]:
    """The current RQ job's fields, for RQ's own lines around a job (outside `Runtime.perform`)."""
    job = _rq_job()
    if job is None:
        return {}
    from bot.queue.kinds import JobRequest

    kind = job.meta.get(KIND_META)
    try:
        return job_fields(JobRequest(kind, dict(job.kwargs)), job.id) if kind else {"job_id": job.id}
    except (ValueError, TypeError):
        return {"job_id": job.id, "job_kind": kind}


def _delivery() -> dict[str, object]:
    """The delivery id of the webhook being answered (only where Flask is loaded: the web process)."""
    flask = sys.modules.get("flask")
    if flask is None or not flask.has_request_context():
        return {}
    delivery = flask.request.headers.get("X-GitHub-Delivery")
    return {"delivery_id": delivery} if delivery else {}


def current_fields() -> dict[str, object]:
    """Everything known about what this thread is doing now."""
    return {**_rq_fields(), **_delivery(), **(_fields.get() or {})}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601, ms), level, logger, message, pid, context, exception."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        entry: dict[str, object] = {
            "time": f"{stamp}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        entry.update(current_fields())
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def formatter(kind: str) -> logging.Formatter:
    """The formatter of a log format: `json` or `human`."""
    return JsonFormatter() if kind == "json" else logging.Formatter(HUMAN_FORMAT)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is when a line is logged (not the one at set-up)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure(kind: str, level: str | int) -> logging.Handler:
    """Send every logger's lines to stderr in format `kind` at `level`, replacing an earlier `configure`.

    RQ adds its own handlers only when none is configured, so its worker lines come out in this
    format too.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "orchestra", False):
            root.removeHandler(handler)
    handler = _StderrHandler()
    handler.orchestra = True  # type: ignore[attr-defined]
    handler.setFormatter(formatter(kind))
    root.addHandler(handler)
    root.setLevel(level)
    return handler
