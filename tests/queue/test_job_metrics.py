"""Each job run is measured where it runs — outcome, time, the forge calls and model usage of what the runtime
built for it — and a worker process counts what its work horse measured, or `lost` when the horse said nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import generate_latest

from bot.errors import AgentFailed, ForgeUnavailable
from bot.ledger.failures import failures_reported
from bot.llm.types import Reply, Usage
from bot.metrics import jobs, worker
from bot.metrics.jobs import JobMeasure
from bot.queue.kinds import JobRequest
from bot.repoconfig import RepoConfig
from bot.runtime import Runtime
from bot.settings import Role, Settings

JOB = JobRequest.make("dispatch", repo="acme/app", number=1, installation_id=7)


class FakeForge:
    """Counts calls like the forge client does and remembers the last rate limit it saw."""

    def __init__(self, remaining: int) -> None:
        self.calls: Counter[str] = Counter()
        self.gh = SimpleNamespace(requester=SimpleNamespace(rate_limiting=(remaining, 5000)))
        self.comments: list[str] = []

    def get_issue(self) -> None:
        self.calls["get_issue"] += 1


class FakeModel:
    spec = "fake:model"
    context_window = 100_000

    def complete(self, messages: list[Any], tools: list[Any], *, max_tokens: int = 4096) -> Reply:
        return Reply(text="ok", usage=Usage(input_tokens=100, output_tokens=20, cost_usd=0.5, calls=1))


class DownForge:
    """A forge that is down: the failure boundary's comment and label fail, and are only logged."""

    bot_login = "orchestra-bot"

    def __getattr__(self, name: str) -> Any:
        def down(*args: Any, **kwargs: Any) -> Any:
            raise ForgeUnavailable(f"{name}: the forge is down")

        return down


@pytest.fixture
def measures() -> Iterator[list[JobMeasure]]:
    seen: list[JobMeasure] = []
    jobs.deliver_to(seen.append)
    yield seen
    jobs.deliver_to(None)


def runtime(job: Any, forges: list[FakeForge]) -> Runtime:
    remaining = iter([4990, 4980])

    def forge_factory(repo: str, installation_id: int | None) -> Any:
        forges.append(FakeForge(next(remaining)))
        return forges[-1]

    return Runtime(
        Settings(),
        executor=SimpleNamespace(),
        jobs={"dispatch": job},
        forge_factory=forge_factory,
        model_factory=lambda spec: FakeModel(),
    )


def test_a_job_run_is_measured_with_its_forge_calls_usage_and_rate_limit(measures: list[JobMeasure]) -> None:
    forges: list[FakeForge] = []

    def job(rt: Runtime, repo: str, number: int, installation_id: int | None) -> str:
        first, second = rt.forge(repo, installation_id), rt.forge(repo, installation_id)
        for _ in range(3):
            first.get_issue()
        second.get_issue()
        rt.model(Role.WORKER).complete([], [])
        rt.model(Role.CI_FIX).complete([], [])
        rt.model(Role.CI_FIX).complete([], [])
        return "done"

    assert runtime(job, forges).perform(JOB) == "done"

    [measure] = measures
    assert (measure.kind, measure.outcome) == ("dispatch", "ok") and measure.seconds > 0
    assert measure.forge_calls == {"get_issue": 4}
    assert measure.ratelimit_remaining == {"7": 4980}  # the lowest (latest) of the job's forges
    assert measure.usage == {
        "worker": {"input_tokens": 100, "output_tokens": 20, "cost_usd": 0.5},
        "ci_fix": {"input_tokens": 200, "output_tokens": 40, "cost_usd": 1.0},
    }
    assert JobMeasure.from_json(measure.to_json()) == measure


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (AgentFailed("gave up"), "needs_human"),  # reported, labelled needs-human, swallowed
        (ForgeUnavailable("503"), "failed"),  # reported and re-raised for the queue's retry
        (KeyError("bug"), "failed"),  # unexpected: reported as such and re-raised
    ],
)
def test_the_outcome_says_how_the_failure_boundary_ended(
    measures: list[JobMeasure], error: Exception, outcome: str
) -> None:
    forges: list[FakeForge] = []

    def job(rt: Runtime, repo: str, number: int, installation_id: int | None) -> None:
        with failures_reported(DownForge(), number, RepoConfig(), step="dispatch"):
            raise error

    rt = runtime(job, forges)
    if outcome == "failed":
        with pytest.raises(type(error)):
            rt.perform(JOB)
    else:
        rt.perform(JOB)
    assert [m.outcome for m in measures] == [outcome]


def test_a_failure_reported_by_a_job_that_goes_on_is_reported_and_no_job_outside_a_run_is_measured(
    measures: list[JobMeasure],
) -> None:
    from bot.ledger.failures import report_failure

    def job(rt: Runtime, repo: str, number: int, installation_id: int | None) -> None:
        report_failure(DownForge(), RepoConfig(), number, ForgeUnavailable("503"), step="scan")

    runtime(job, []).perform(JOB)
    assert [m.outcome for m in measures] == ["reported"]
    jobs.note_failure(True)  # outside a job: nothing to mark, nothing delivered
    assert len(measures) == 1


def test_the_worker_process_counts_the_horses_measures_or_a_lost_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker, "_directory", tmp_path)
    monkeypatch.setattr(worker, "_recorder", None)
    with worker.job_outbox("implement"):  # the horse (here: this process) measures two runs
        for outcome in ("ok", "needs_human"):
            with jobs.job_meter("implement") as meter:
                meter.reported = None if outcome == "ok" else outcome
    with worker.job_outbox("fix_ci"):  # a horse that died before it could write
        pass
    assert list(tmp_path.iterdir()) == []  # the outbox is read and removed

    counters = worker.recorder()
    assert counters is not None
    text = generate_latest(counters.registry).decode()
    assert 'orchestra_jobs_total{kind="implement",outcome="ok"} 1.0' in text
    assert 'orchestra_jobs_total{kind="implement",outcome="needs_human"} 1.0' in text
    assert 'orchestra_jobs_total{kind="fix_ci",outcome="lost"} 1.0' in text
    assert 'orchestra_job_seconds_count{kind="implement"} 2.0' in text


def test_a_metrics_port_in_use_is_one_line_naming_the_flag(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        script = (
            "from bot.cli.serve_cmd import worker_metrics\nfrom bot.settings import Settings\n"
            f"with worker_metrics(Settings(), '127.0.0.1', {port}):\n    pass\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
            cwd=Path(__file__).parents[2],
        )
    assert done.returncode != 0
    assert (
        f"ConfigError: --metrics-port {port}: cannot listen on 127.0.0.1:{port} (Address already in use); "
        "choose a free port" in done.stderr.splitlines()[-1]
    )
