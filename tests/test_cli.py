"""The `orchestra` command: version, and `config check` on good and broken files."""

import json
import subprocess
import sys

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
