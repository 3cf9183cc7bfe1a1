"""`orchestra run` checks before it starts: a wrong model, a missing or refused key, Redis down or no git
is one line and exit 2 within seconds, and nothing was filed (localhub never started: no run state).
And the precedence it documents: `--model` beats the repository's committed `models:` entry."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.doctor import REDIS_WAIT_S
from tests.support.git_repos import make_repo
from tests.support.local_bed import PROJECT, run_json
from tests.support.model_server import ModelServer

ROOT = Path(__file__).resolve().parents[3]
#: A run that fails its pre-flight ends within this many seconds (Python's start included).
BOUND_S = 10.0


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "textstats", PROJECT)


@pytest.fixture
def clean_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """An environment naming no model, key or Redis (the developer's own never leak in)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("ORCHESTRA_", "OPENAI_", "ANTHROPIC_", "REDIS_"))
    }
    yield env | {"ORCHESTRA_SANDBOX": "best-effort", "PYTHONPATH": str(ROOT)}


def startup_s(env: dict[str, str], cwd: Path) -> float:
    """How long this machine takes right now to start the CLI and build its parser (not the run's own time)."""
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "bot", "run", "--help"], env=env, capture_output=True, timeout=60, cwd=cwd)
    return time.monotonic() - started


def run_fails(repo: Path, env: dict[str, str], *args: str) -> str:
    """Run `orchestra run` in a fresh process; assert it failed its pre-flight within the bound (its own
    time: the interpreter's start-up, measured just before on this shared machine, is not counted)."""
    startup = startup_s(env, repo)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--repo", str(repo), "--goal", "Count lines", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=repo,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("orchestra: "), done.stderr
    assert elapsed - startup < BOUND_S, f"took {elapsed:.1f}s ({startup:.1f}s of it starting Python)"
    assert done.stdout == ""
    # Nothing was started, so nothing was filed: the run's state (localhub's database) was never made.
    assert not (repo / ".git" / "orchestra").exists()
    assert (
        "orchestra/goal-1"
        not in subprocess.run(["git", "branch", "--list"], cwd=repo, capture_output=True, text=True).stdout
    )
    return lines[0]


def test_a_wrong_model_spec_is_one_line_before_anything_starts(repo: Path, clean_env: dict[str, str]) -> None:
    line = run_fails(repo, clean_env, "--model", "antropic:claude-sonnet-4-5")
    assert line.startswith(
        "orchestra: model planner, worker, conflict, ci_fix, review: model spec "
        "'antropic:claude-sonnet-4-5': unknown provider 'antropic'"
    )


def test_a_missing_key_is_one_line_naming_the_variable(repo: Path, clean_env: dict[str, str]) -> None:
    line = run_fails(repo, clean_env, "--model", "anthropic:claude-sonnet-4-5")
    assert line == (
        "orchestra: model planner, worker, conflict, ci_fix, review: model anthropic:claude-sonnet-4-5: "
        "set ANTHROPIC_API_KEY (the provider's API key) in the environment"
    )


def test_a_refused_key_is_found_by_the_free_list_call(
    repo: Path, clean_env: dict[str, str], model_server: ModelServer
) -> None:
    model_server.api_key = "sk-right"
    env = clean_env | {"OPENAI_API_KEY": "sk-wrong-key", "OPENAI_BASE_URL": model_server.openai_base_url}
    line = run_fails(repo, env, "--model", "openai:gpt-stand-in", "--planner-model", "scripted:demo")
    assert line == (
        f"orchestra: model worker, conflict, ci_fix, review: model openai:gpt-stand-in: "
        f"{model_server.openai_base_url} refused the key in OPENAI_API_KEY (HTTP 401)"
    )
    assert "sk-wrong-key" not in line
    assert model_server.listings == [("openai", True)] and model_server.requests == []


def test_redis_down_is_one_line_after_the_bounded_wait(repo: Path, clean_env: dict[str, str]) -> None:
    started = time.monotonic()
    line = run_fails(repo, clean_env, "--model", "scripted:demo", "--redis", "redis://127.0.0.1:1/0")
    assert time.monotonic() - started >= REDIS_WAIT_S
    assert line == (
        f"orchestra: redis: Redis at redis://127.0.0.1:1/0 is unreachable (tried for {REDIS_WAIT_S:g}s); "
        "start it or fix --redis"
    )


def test_no_git_is_one_line(repo: Path, clean_env: dict[str, str], tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    line = run_fails(repo, clean_env | {"PATH": str(empty)}, "--model", "scripted:demo")
    assert (
        line == f"orchestra: git: git is not installed: no `git` program on PATH ({empty}); install git and run again"
    )


@pytest.mark.timeout(120)
def test_model_flag_beats_a_committed_models_entry(
    tmp_path: Path,
    scripted_models: None,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The committed config names a model that does not exist for every role; `--model` wins for this run."""
    committed = PROJECT[".github/orchestra.yml"].replace("policy: review", "policy: auto")
    committed += "models: {planner: scripted:absent, worker: scripted:absent, review: scripted:absent}\n"
    repo = make_repo(tmp_path / "textstats", {**PROJECT, ".github/orchestra.yml": committed})
    monkeypatch.setenv("ORCHESTRA_MODEL_CONFLICT", "scripted:textstats")  # the environment beats the file too
    code, summary = run_json(
        capsys,
        "run",
        "--repo",
        str(repo),
        "--goal",
        "Count lines\n\nAdd line_count.",
        "--model",
        "scripted:textstats",
        "--json",
    )
    assert code == 0, summary
    assert summary["ok"] and summary["prs_merged"] == 2

    # Without the flag the committed entry beats ORCHESTRA_DEFAULT_MODEL, and the pre-flight finds it unknown.
    monkeypatch.setenv("ORCHESTRA_DEFAULT_MODEL", "scripted:textstats")
    assert main(["run", "--repo", str(repo), "--goal", "Count lines"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(
        "orchestra: model planner, worker, review: model 'scripted:absent': no such scripted model"
    )


def test_a_usd_cap_with_an_unpriced_model_is_refused_before_anything_starts(
    repo: Path, clean_env: dict[str, str], model_server: ModelServer
) -> None:
    """A cap in dollars cannot trip when a model's calls cost $0: refused at start, one line, nothing filed."""
    env = clean_env | {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": model_server.openai_base_url}
    line = run_fails(repo, env, "--model", "openai:gpt-stand-in", "--planner-model", "scripted:demo", "--goal-usd", "5")
    assert line == (
        "orchestra: prices: a spend cap in US dollars (--goal-usd) cannot work with the worker model "
        "openai:gpt-stand-in: it is not in the price table (prices as of 2026-11), so its calls would "
        "count as $0; price it in a file named by ORCHESTRA_PRICES, or cap tokens instead"
    )
    line = run_fails(repo, env | {"ORCHESTRA_BUDGET_DAY_USD": "20"}, "--model", "openai:gpt-stand-in")
    assert "(ORCHESTRA_BUDGET_DAY_USD) cannot work with the planner model openai:gpt-stand-in" in line
    assert model_server.requests == []  # nothing was planned


def test_a_token_cap_or_a_priced_model_passes_the_price_check(tmp_path: Path) -> None:
    from bot.doctor import Skip, prices_check
    from bot.repoconfig import parse_repo_config
    from bot.settings import RoleModels, Settings, SpendCaps

    settings = Settings(
        models=RoleModels(
            planner="openai:gpt-6.1-sol",
            worker="anthropic:claude-sonnet-5-5",
            conflict="scripted:demo",
            ci_fix="openai:gpt-6.1-terra",
            review="openai:gpt-6-luna",
        )
    )
    with pytest.raises(Skip):
        prices_check(settings, parse_repo_config("budgets: {goal: {tokens: 1000}}"), {}).run()
    capped = settings.model_copy(update={"spend_caps": SpendCaps(day_usd=3.0)})
    assert (
        "every role's model is priced (prices as of 2026-11)" in prices_check(capped, parse_repo_config(""), {}).run()
    )
    priced = tmp_path / "prices.yml"
    priced.write_text("models:\n  my-llama: {input: 0, output: 0}\n")
    local = settings.model_copy(update={"models": RoleModels(worker="openai-compatible:my-llama@http://h:1/v1")})
    config = parse_repo_config("budgets: {goal: {usd: 10}}")
    with pytest.raises(Exception, match=r"budgets.goal.usd in .github/orchestra.yml\) cannot work"):
        prices_check(local, config, {}).run()
    assert "priced" in prices_check(local, config, {"ORCHESTRA_PRICES": str(priced)}).run()
