"""What one job run did, measured where it runs: its kind, outcome, time, model usage per role, forge calls.

`Runtime.perform` runs every job inside `job_meter(kind)`; the runtime's `forge()` and `model()`
hand what they build to the meter (`note_forge`, `metered`), and the failure boundary says when a
failure was reported (`note_failure`). At the end the meter's `JobMeasure` goes to the process's
sink: nowhere by default (local mode, the Action), or — in a worker of `orchestra worker
--metrics-port` — a file the worker process reads once the work horse has ended
(`bot/metrics/worker.py`). The measure is plain JSON, so it crosses that fork as a line of text.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.llm.usage import MeteredModel, UsageMeter

if TYPE_CHECKING:
    from bot.llm.types import ChatModel

log = logging.getLogger(__name__)

#: How a job run ended: returned, raised, reported a failure that needs a person, reported one and
#: went on, or (seen by the worker process) its work horse ended without saying.
OK, FAILED, NEEDS_HUMAN, REPORTED, LOST = "ok", "failed", "needs_human", "reported", "lost"
OUTCOMES = (OK, FAILED, NEEDS_HUMAN, REPORTED, LOST)


@dataclass
class JobMeasure:
    """One job run, as plain values."""

    kind: str
    outcome: str = OK
    seconds: float = 0.0
    #: The forge verb's name → how many times the job called it.
    forge_calls: dict[str, int] = field(default_factory=dict)
    #: The installation id ("" for a token) → the lowest `X-RateLimit-Remaining` the job's forges saw.
    ratelimit_remaining: dict[str, int] = field(default_factory=dict)
    #: The model role → {"input_tokens", "output_tokens", "cost_usd"}.
    usage: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> JobMeasure:
        data = json.loads(text)
        return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})


class JobMeter:
    """Collects what one job run builds and reports while it runs."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.started = time.monotonic()
        self.forges: list[tuple[Any, str]] = []
        self.usage = UsageMeter()
        self.reported: str | None = None

    def measure(self, outcome: str) -> JobMeasure:
        calls: Counter[str] = Counter()
        remaining: dict[str, int] = {}
        for forge, installation in self.forges:
            calls.update(getattr(forge, "calls", {}))
            seen = _rate_remaining(forge)
            if seen is not None:
                remaining[installation] = min(seen, remaining.get(installation, seen))
        usage = {
            role: {"input_tokens": u.input_tokens, "output_tokens": u.output_tokens, "cost_usd": u.cost_usd}
            for role, u in self.usage.by_role().items()
        }
        return JobMeasure(self.kind, outcome, round(time.monotonic() - self.started, 6), dict(calls), remaining, usage)


def _rate_remaining(forge: Any) -> int | None:
    """The `X-RateLimit-Remaining` of the forge's last answer that had one (PyGithub keeps it), or None."""
    requester = getattr(getattr(forge, "gh", None), "requester", None)
    remaining = getattr(requester, "rate_limiting", (-1, -1))[0]
    return remaining if isinstance(remaining, int) and remaining >= 0 else None


_meter: ContextVar[JobMeter | None] = ContextVar("orchestra_job_meter", default=None)
Sink = Callable[[JobMeasure], None]
_sink: Sink | None = None


def deliver_to(sink: Sink | None) -> None:
    """Where this process's job measures go from now on (None: nowhere). Set before a work horse forks."""
    global _sink
    _sink = sink


def outbox(path: Path) -> Sink:
    """A sink appending each measure as a JSON line to `path`."""

    def write(measure: JobMeasure) -> None:
        with path.open("a", encoding="utf-8") as out:
            out.write(measure.to_json() + "\n")

    return write


def read_outbox(path: Path) -> list[JobMeasure]:
    """The measures written to `path` (none when it is missing; a torn last line is skipped)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    measures = []
    for line in lines:
        try:
            measures.append(JobMeasure.from_json(line))
        except (ValueError, TypeError):
            log.warning("metrics: an unreadable job measure in %s", path)
    return measures


@contextlib.contextmanager
def job_meter(kind: str) -> Iterator[JobMeter]:
    """Measure the job run inside; its measure goes to the sink however the run ends."""
    meter = JobMeter(kind)
    token = _meter.set(meter)
    outcome = FAILED
    try:
        yield meter
        outcome = meter.reported or OK
    finally:
        _meter.reset(token)
        sink = _sink
        if sink is not None:
            try:
                sink(meter.measure(outcome))
            except OSError as exc:  # the metrics never fail a job
                log.warning("metrics: could not record job %s: %s", kind, exc)


def note_forge(forge: Any, installation_id: int | None) -> None:
    """Count the calls of `forge` (built for the running job) in its measure."""
    meter = _meter.get()
    if meter is not None:
        meter.forges.append((forge, "" if installation_id is None else str(installation_id)))


def metered(model: ChatModel, role: str) -> ChatModel:
    """`model`, recording its usage under `role` in the running job's measure (as is outside a job)."""
    meter = _meter.get()
    if meter is None:
        return model
    return MeteredModel(model, meter.usage, str(role))


def note_failure(needs_human: bool) -> None:
    """The running job reported a failure: one that needs a person, or one it goes on after."""
    meter = _meter.get()
    if meter is not None and meter.reported != NEEDS_HUMAN:
        meter.reported = NEEDS_HUMAN if needs_human else REPORTED
