"""The `orchestra` command: version, `config check` on good and broken files, and `--workers` bounded by memory."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot import __version__
from bot.cli import main


def test_version(capsys) -> None:
    try:
        main(["--version"])
    except SystemExit as exit_:
        assert exit_.code == 0
    assert capsys.readouterr().out.strip() == f"orchestra {__version__}"


def test_config_check_valid_prints_effective_config(tmp_path, capsys) -> None:
    path = tmp_path / "orchestra.yml"
    path.write_text("merge: {policy: auto}\nmax_parallel_tasks: 8\n")
    assert main(["config", "check", str(path)]) == 0
    effective = json.loads(capsys.readouterr().out)
    assert effective["merge"]["policy"] == "auto"
    assert effective["max_parallel_tasks"] == 8
    assert effective["max_ci_fix_attempts"] == 3


def test_config_check_broken_exits_2_with_path_key_message(tmp_path) -> None:
    path = tmp_path / "orchestra.yml"
    path.write_text("merge: {method: fast-forward}\n")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "config", "check", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"{path}:merge.method: 'fast-forward' is not allowed; expected 'merge', 'squash' or 'rebase'"
    )
    assert result.stdout == ""


def test_config_check_missing_file(tmp_path, capsys) -> None:
    assert main(["config", "check", str(tmp_path / "absent.yml")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_workers_are_capped_by_memory_with_a_clear_message() -> None:
    from bot.cli.run_cmd import check_workers
    from bot.errors import ConfigError

    check_workers(70, processes=True, available_mb=22_000)
    with pytest.raises(ConfigError) as info:
        check_workers(1000, processes=True, available_mb=22_000)
    assert str(info.value) == ("--workers 1000: this machine has 22,000 MB of memory available and each RQ worker "
                               "process needs about 300 MB, so at most 73 fit; pass --workers 73 or fewer")
    with pytest.raises(ConfigError, match="at most 146 fit"):
        check_workers(1000, processes=False, available_mb=22_000)
    with pytest.raises(ConfigError, match="at least 1"):
        check_workers(0, processes=False, available_mb=22_000)


def test_run_refuses_a_thousand_workers_before_starting_anything(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--repo", str(tmp_path), "--goal", "x", "--model", "scripted:demo", "--workers", "100000",
                 "--redis", "redis://127.0.0.1:1/0"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("orchestra: --workers 100000: this machine has") and "pass --workers" in err
    assert list(tmp_path.iterdir()) == []
