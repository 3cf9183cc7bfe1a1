"""`orchestra worker --metrics-port`: after real jobs on localhub, the pool's /metrics counts them by kind and
outcome, with their durations, model tokens by role, forge calls by verb, the rate limit left and queue depths."""

from __future__ import annotations

import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.model_server import Turn
from tests.support.ports import free_port
from tests.support.waiting import wait_for
from tests.support.worker_bed import Bed, finish, steps, write

pytestmark = pytest.mark.slow

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(port: int) -> Samples:
    """Every sample of the worker's /metrics: (name, sorted labels) → value."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        assert answer.status == 200
        text = answer.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum over every series of `name` whose labels include `labels`."""
    return sum(v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= set(ls))


def test_worker_metrics_count_the_jobs_that_ran_by_kind_and_outcome(bed: Bed) -> None:
    done = bed.add_task("Add item m", ["test -f items/m.txt"], ["items/m.txt"])
    bed.script(done, "worker", steps(write("items/m.txt", "item m\n"), finish("Added items/m.txt")))
    stuck = bed.add_task("Add item s", ["test -f items/s.txt"], ["items/s.txt"])
    bed.script(stuck, "worker", steps(Turn(tool_calls=[("finish", {"status": "blocked", "summary": "cannot"})])))
    port = free_port()
    bed.start_pool(2, "--metrics-port", str(port), "--metrics-host", "127.0.0.1")
    assert len(bed.reconcile().new) == 2

    wait_for(lambda: bed.forge().get_issue(done).state == "closed", timeout=150, what=f"#{done} merged and closed")
    wait_for(
        lambda: "orchestra:needs-human" in bed.forge().get_issue(stuck).labels,
        timeout=60,
        what=f"#{stuck} labelled needs-human",
    )

    def counted() -> Samples | None:
        samples = scrape(port)
        ok = value(samples, "orchestra_jobs_total", kind="implement", outcome="ok")
        needs_human = value(samples, "orchestra_jobs_total", kind="implement", outcome="needs_human")
        woke = value(samples, "orchestra_jobs_total", kind="on_task_closed", outcome="ok")
        return samples if (ok, needs_human) == (1, 1) and woke >= 1 else None

    # The closed task woke its goal: a job of another kind, counted in another worker process maybe.
    samples = wait_for(counted, timeout=30, interval=0.2, what="both implement jobs and on_task_closed counted")
    assert value(samples, "orchestra_job_seconds_count", kind="implement") == 2
    assert value(samples, "orchestra_job_seconds_sum", kind="implement") > 0
    assert total(samples, "orchestra_jobs_total", outcome="lost") == 0
    # The forge client's calls, by verb; the rate limit localhub's answers said was left for the token.
    assert value(samples, "orchestra_forge_calls_total", verb="get_issue") > 0
    assert total(samples, "orchestra_forge_calls_total") > 10
    assert 0 < value(samples, "orchestra_forge_ratelimit_remaining", installation="") < 1_000_000
    # The model stand-in's usage, under the worker's role.
    assert value(samples, "orchestra_model_tokens_total", role="worker", direction="input") > 0
    assert value(samples, "orchestra_model_tokens_total", role="worker", direction="output") > 0
    # Queue depths are read from Redis at scrape time.
    assert {q for (n, ls), _v in samples.items() if n == "orchestra_queue_depth" for k, q in ls if k == "queue"} == {
        "urgent",
        "default",
        "implement",
    }
