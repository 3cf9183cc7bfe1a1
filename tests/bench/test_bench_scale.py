"""`orchestra bench scale` on a tiny point: W=1,2, N=2, D=0 — the JSON has every field, with sane values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.cli.bench_cmd import parse_workers
from bot.errors import ConfigError
from bot.modes.bench.policy import plan

pytestmark = pytest.mark.timeout(300)


def test_tiny_point_writes_every_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, png = tmp_path / "scale.json", tmp_path / "scale.png"
    code = main(
        [
            "bench",
            "scale",
            "--workers",
            "1,2",
            "--tasks",
            "2",
            "--model-latency",
            "0",
            "--json",
            str(out),
            "--plot",
            str(png),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    result = json.loads(out.read_text())
    assert [p["workers"] for p in result["points"]] == [1, 2]
    for point in result["points"]:
        assert point["ok"] and point["merged"] == 2
        assert 0 < point["plan_s"] <= point["makespan_s"]
        assert point["implement_s"] >= 0 and point["merge_s"] >= 0
        assert abs(point["plan_s"] + point["implement_s"] + point["merge_s"] - point["makespan_s"]) < 0.05
        assert 0 < point["efficiency"] <= 1.5 and point["speedup"] > 0
        assert point["merges_per_s"] > 0
        assert point["rest_per_task"] > 0 and point["rest_charged"] >= point["rest_per_task"]
        assert point["rest_by_route"] and all(
            route.split()[0] in {"GET", "POST", "PATCH", "PUT", "DELETE"} for route in point["rest_by_route"]
        )
        assert point["tasks_per_hour_per_installation"] > 0 and point["budget_hours_at_this_rate"] > 0
        assert point["webhooks_per_task"] > 0
        assert point["cpu_jobs_per_task"] > 0 and point["cpu_process_per_task"] >= point["cpu_jobs_per_task"]
        assert point["cpu_subprocesses_per_task"] > 0  # git and CI run as subprocesses
        assert 50 < point["peak_memory_mb"] < 20_000
        assert 0 <= point["queue_wait_p50_s"] <= point["queue_wait_p99_s"] and point["jobs"] > 0
        assert len(point["load_before"]) == 1 and len(point["load_before"][0]) == 3
        kinds = point["job_seconds_by_kind"]
        assert kinds["implement"]["runs"] == 2 and kinds["plan"]["runs"] >= 1
        assert sum(row["runs"] for row in kinds.values()) >= point["jobs"]  # every run (a job may run again)
    assert result["points"][0]["efficiency"] == 1.0
    assert result["machine"]["cpus"] >= 1 and result["goals"]["rest_per_task"] == 12
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "REST calls per merged task by route" in printed and "load average" in printed
    assert "job time by kind" in printed


def test_plan_shares_one_spot() -> None:
    tasks = plan(4, 2)["tasks"]
    assert [t["key"] for t in tasks] == ["t001", "t002", "t003", "t004"]
    assert ["shared.py" in t["objective"] for t in tasks] == [True, True, False, False]
    assert len({p for t in tasks for p in t["owned_paths"]}) == 8


def test_worker_counts_are_checked() -> None:
    assert parse_workers("1,2, 4") == [1, 2, 4]
    with pytest.raises(ConfigError):
        parse_workers("1,x")
    with pytest.raises(ConfigError):
        parse_workers("0")
