"""The `orchestra` command: version, `config check` on good and broken files, and `--workers` bounded by memory."""

import json
import os
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


def test_config_check_valid_prints_effective_config(tmp_path, capsys, monkeypatch) -> None:
    for name in [n for n in os.environ if n.startswith("ORCHESTRA_")]:
        monkeypatch.delenv(name)
    path = tmp_path / "orchestra.yml"
    path.write_text("merge: {policy: auto}\nmax_parallel_tasks: 8\n")
    assert main(["config", "check", str(path), "--json"]) == 0
    effective = json.loads(capsys.readouterr().out)["config"]
    assert effective["merge"]["policy"] == "auto"
    assert effective["max_parallel_tasks"] == 8
    assert effective["max_ci_fix_attempts"] == 3


def test_config_check_names_where_each_value_came_from(tmp_path, capsys, monkeypatch) -> None:
    """A flag, an environment variable by name, the file, the default: each value says which."""
    for name in [n for n in os.environ if n.startswith("ORCHESTRA_")]:
        monkeypatch.delenv(name)
    path = tmp_path / "orchestra.yml"
    path.write_text("merge: {policy: auto}\nmodels: {worker: openai:gpt-file, review: openai:gpt-file}\n")
    monkeypatch.setenv("ORCHESTRA_MODEL_REVIEW", "anthropic:claude-env")
    monkeypatch.setenv("ORCHESTRA_STATE_DIR", str(tmp_path / "state"))
    assert main(["config", "check", str(path), "--planner-model", "openai:gpt-flag", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["models"]["planner"] == {"spec": "openai:gpt-flag", "from": "command-line option --planner-model"}
    assert report["models"]["review"] == {
        "spec": "anthropic:claude-env",
        "from": "environment variable ORCHESTRA_MODEL_REVIEW",
    }
    assert report["models"]["worker"] == {"spec": "openai:gpt-file", "from": f"{path} (models.worker)"}
    assert report["models"]["conflict"] == {"spec": "scripted:demo", "from": "built-in default"}
    assert report["sources"]["merge.policy"] == str(path) and report["sources"]["merge.method"] == "default"
    assert report["settings"]["state_dir"]["from"] == "environment variable ORCHESTRA_STATE_DIR"
    assert report["settings"]["redis_url"]["from"] == "default"

    # The table says the same, one row a value; --merge is a flag too.
    assert main(["config", "check", str(path), "--merge", "review"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert rows["models.review"].endswith("environment variable ORCHESTRA_MODEL_REVIEW")
    assert rows["merge.policy"].split()[1] == '"review"' and rows["merge.policy"].endswith("--merge")


def test_config_check_broken_exits_2_with_path_key_message(tmp_path) -> None:
    path = tmp_path / "orchestra.yml"
    path.write_text("merge: {method: fast-forward}\n")
    result = subprocess.run([sys.executable, "-m", "bot", "config", "check", str(path)], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"{path}:merge.method: 'fast-forward' is not allowed; expected 'merge', 'squash' or 'rebase'"
    )
    assert result.stdout == ""


def test_config_check_missing_file(tmp_path, capsys) -> None:
    assert main(["config", "check", str(tmp_path / "absent.yml")]) == 2
    assert "cannot read" in capsys.readouterr().err


def _leaves(parser, path=()):
    """Every runnable subcommand's parser and its words (`config check`, `localhub serve`, …)."""
    import argparse

    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
        return
    for name, child in subs[0].choices.items():
        yield from _leaves(child, (*path, name))


def test_every_subcommand_has_full_help_with_defaults_and_the_variables_it_reads() -> None:
    from bot.cli import build_parser

    leaves = dict(_leaves(build_parser()))
    assert {" ".join(p) for p in leaves} >= {
        "serve",
        "worker",
        "reconcile",
        "localhub serve",
        "localhub import",
        "run",
        "demo",
        "doctor",
        "config check",
        "agent run",
        "action",
    }
    for path, parser in leaves.items():
        text = parser.format_help()
        assert parser.description and len(parser.description) > 60, path
        if path[0] == "localhub":
            assert (
                "reads no environment variables"
                in build_parser()._subparsers._group_actions[0].choices["localhub"].format_help()
            )
        else:
            assert "environment variables read:" in text, path
        for action in parser._actions:
            has_default = action.default not in (None, False, [], "==SUPPRESS==") and action.option_strings
            if has_default and action.help != "==SUPPRESS==":
                assert "default" in (action.help or ""), (path, action.option_strings)
    assert "ORCHESTRA_WEBHOOK_SECRET" in leaves[("serve",)].format_help()
    assert "ORCHESTRA_REDIS_URL" in leaves[("worker",)].format_help()
    assert "--installation-id" in leaves[("reconcile",)].format_help()
    assert "GET /repos/OWNER/NAME/installation" in leaves[("reconcile",)].format_help()


def test_workers_are_capped_by_memory_with_a_clear_message() -> None:
    from bot.cli.run_cmd import check_workers
    from bot.errors import ConfigError

    check_workers(70, processes=True, available_mb=22_000)
    with pytest.raises(ConfigError) as info:
        check_workers(1000, processes=True, available_mb=22_000)
    assert str(info.value) == (
        "--workers 1000: this machine has 22,000 MB of memory available and each RQ worker "
        "process needs about 300 MB, so at most 73 fit; pass --workers 73 or fewer"
    )
    with pytest.raises(ConfigError, match="at most 146 fit"):
        check_workers(1000, processes=False, available_mb=22_000)
    with pytest.raises(ConfigError, match="at least 1"):
        check_workers(0, processes=False, available_mb=22_000)


def test_run_refuses_a_thousand_workers_before_starting_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "run",
            "--repo",
            str(tmp_path),
            "--goal",
            "x",
            "--model",
            "scripted:demo",
            "--workers",
            "100000",
            "--redis",
            "redis://127.0.0.1:1/0",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("orchestra: --workers 100000: this machine has") and "pass --workers" in err
    assert list(tmp_path.iterdir()) == []


def test_config_check_shows_the_spend_caps_and_where_they_came_from(tmp_path, capsys, monkeypatch) -> None:
    for name in [n for n in os.environ if n.startswith("ORCHESTRA_")]:
        monkeypatch.delenv(name)
    path = tmp_path / "orchestra.yml"
    path.write_text("budgets: {goal: {usd: 40}, day: {tokens: 5000000}}\nplanning: {approval: required}\n")
    monkeypatch.setenv("ORCHESTRA_BUDGET_GOAL_USD", "10")
    assert main(["config", "check", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["config"]["budgets"]["goal"] == {"tokens": None, "usd": 10.0}
    assert report["sources"]["budgets.goal.usd"] == "environment variable ORCHESTRA_BUDGET_GOAL_USD"
    assert report["sources"]["budgets.day.tokens"] == str(path) and report["sources"]["budgets.day.usd"] == "default"
    assert report["config"]["planning"]["approval"] == "required"
