"""Settings come from the environment, once, and never print a secret."""

import pytest

from bot.errors import ConfigError
from bot.settings import DEFAULT_MODEL, Role, Settings


def test_defaults_without_environment() -> None:
    settings = Settings.from_env({})
    assert settings.api_url == "https://api.github.com"
    assert settings.models.for_role(Role.PLANNER) == DEFAULT_MODEL
    assert not settings.uses_app_auth


def test_environment_sets_app_auth_urls_and_models() -> None:
    settings = Settings.from_env(
        {
            "ORCHESTRA_APP_ID": "12345",
            "ORCHESTRA_PRIVATE_KEY": "-----BEGIN KEY-----\\nabc\\n-----END KEY-----",
            "ORCHESTRA_WEBHOOK_SECRET": "s3cret-value",
            "ORCHESTRA_API_URL": "http://127.0.0.1:9999/api/v3",
            "REDIS_URL": "redis://127.0.0.1:7777/1",
            "ORCHESTRA_MODEL": "openai:gpt-5.2",
            "ORCHESTRA_MODEL_PLANNER": "anthropic:claude-opus-4-5",
            "ORCHESTRA_MAX_STEPS": "12",
        }
    )
    assert settings.uses_app_auth
    assert settings.private_key is not None
    assert settings.private_key.get_secret_value() == "-----BEGIN KEY-----\nabc\n-----END KEY-----"
    assert settings.api_url == "http://127.0.0.1:9999/api/v3"
    assert settings.redis_url == "redis://127.0.0.1:7777/1"
    assert settings.models.planner == "anthropic:claude-opus-4-5"
    assert settings.models.worker == "openai:gpt-5.2"
    assert settings.task_budget.max_steps == 12
    assert settings.task_budget.max_usd == 5.0
    assert "s3cret-value" not in repr(settings) and "s3cret-value" not in str(settings.model_dump())


def test_github_action_variables_are_understood() -> None:
    settings = Settings.from_env({"GITHUB_TOKEN": "tok", "GITHUB_API_URL": "https://ghe.example/api/v3"})
    assert settings.token is not None and settings.token.get_secret_value() == "tok"
    assert settings.api_url == "https://ghe.example/api/v3"


def test_bad_number_is_a_config_error_naming_the_setting() -> None:
    with pytest.raises(ConfigError, match=r"settings: task_budget.max_steps \(ORCHESTRA_MAX_STEPS\): ") as bad:
        Settings.from_env({"ORCHESTRA_MAX_STEPS": "many"})
    assert "environment variable `ORCHESTRA_MAX_STEPS`" in bad.value.comment()


def test_unreadable_private_key_path_is_a_config_error(tmp_path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(ConfigError, match=f"ORCHESTRA_PRIVATE_KEY_PATH: cannot read {missing}"):
        Settings.from_env({"ORCHESTRA_PRIVATE_KEY_PATH": str(missing)})


def test_the_default_model_builds_in_a_fresh_process() -> None:
    """`scripted:demo` is the default spec: it must build without anyone importing bot.modes.demo first."""
    import subprocess
    import sys

    code = (
        "from bot.modes.server import worker_runtime; from bot.settings import Settings; "
        "print(worker_runtime(Settings()).model('worker').spec)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "scripted:demo"


def test_spend_caps_come_from_the_environment_and_flags_beat_them_then_the_file() -> None:
    """flag > environment > `.github/orchestra.yml` > no cap, per cap."""
    from bot.repoconfig import parse_repo_config
    from bot.settings import SpendCaps

    settings = Settings.from_env({"ORCHESTRA_BUDGET_GOAL_USD": "12.5", "ORCHESTRA_BUDGET_DAY_TOKENS": "900"})
    assert settings.spend_caps == SpendCaps(goal_usd=12.5, day_tokens=900)
    assert settings.origins["spend_caps.goal_usd"] == "ORCHESTRA_BUDGET_GOAL_USD"
    caps = SpendCaps(goal_usd=3.0).laid_over(settings.spend_caps)  # `orchestra run --goal-usd 3`
    assert caps == SpendCaps(goal_usd=3.0, day_tokens=900)
    config = parse_repo_config("budgets: {goal: {usd: 50, tokens: 1000}, day: {usd: 80}}").with_caps(caps)
    assert (config.budgets.goal.usd, config.budgets.goal.tokens) == (3.0, 1000)
    assert (config.budgets.day.usd, config.budgets.day.tokens) == (80.0, 900)
    assert parse_repo_config("").budgets.capped is False and config.budgets.capped_in_usd
    with pytest.raises(ConfigError, match="ORCHESTRA_BUDGET_DAY_USD"):
        Settings.from_env({"ORCHESTRA_BUDGET_DAY_USD": "lots"})
