"""`orchestra doctor` and the checks every command makes before it starts: each finds what it is
for against real servers (the private Redis, the model stand-in, localhub with and without an App),
says it in one line, and stays within its bound."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from pydantic import SecretStr

from bot.cli import main
from bot.doctor import (
    REDIS_WAIT_S,
    REQUIRED_APP_PERMISSIONS,
    Check,
    app_check,
    git_check,
    installation_check,
    lacking,
    model_checks,
    preflight,
    redact_url,
    redis_check,
    run_checks,
    token_check,
)
from bot.errors import PreflightFailed, Source
from bot.forge.auth import installation_for
from bot.llm import probe
from bot.llm.probe import probe_model
from bot.repoconfig import parse_repo_config
from bot.settings import Settings
from localhub.auth import AppConfig
from tests.support.git_repos import make_repo
from tests.support.localhub import LocalhubApp, LocalhubHandle
from tests.support.model_server import ModelServer

ROOT = Path(__file__).resolve().parents[1]
DOWN = "redis://:hunter2@127.0.0.1:1/0"  # nothing listens on port 1; the password must never be shown


def _result(check: Check) -> tuple[str, str]:
    [result] = run_checks([check])
    return result.status, result.detail


def test_git_check_finds_git_and_says_so_in_one_line_without_it(monkeypatch: pytest.MonkeyPatch) -> None:
    status, detail = _result(git_check())
    assert status == "ok" and detail.startswith("git version")
    monkeypatch.setenv("PATH", "/nonexistent")
    status, detail = _result(git_check())
    assert status == "fail" and detail == (
        "git is not installed: no `git` program on PATH (/nonexistent); install git and run again"
    )


def test_redis_check_answers_or_fails_after_its_bounded_wait(redis_url: str) -> None:
    assert _result(redis_check(redis_url, Source("env", "ORCHESTRA_REDIS_URL")))[0] == "ok"
    started = time.monotonic()
    with pytest.raises(PreflightFailed) as down:
        preflight([redis_check(DOWN, Source("env", "ORCHESTRA_REDIS_URL"), wait_s=1.0)])
    assert 1.0 <= time.monotonic() - started < 3.0
    assert str(down.value) == (
        "redis: Redis at redis://:***@127.0.0.1:1/0 is unreachable (tried for 1s); start it or fix ORCHESTRA_REDIS_URL"
    )
    assert "hunter2" not in down.value.comment() and "`ORCHESTRA_REDIS_URL`" in down.value.comment()
    assert (
        redact_url("redis://user:pw@h:1/0") == "redis://user:***@h:1/0" and redact_url("redis://h/0") == "redis://h/0"
    )


def test_model_check_lists_models_once_per_spec_with_the_key_it_was_given(model_server: ModelServer) -> None:
    env = {
        "OPENAI_API_KEY": "sk-right",
        "OPENAI_BASE_URL": model_server.openai_base_url,
        "ANTHROPIC_API_KEY": "sk-ant-right",
        "ANTHROPIC_BASE_URL": model_server.anthropic_base_url,
    }
    model_server.api_key = "sk-right"
    settings = Settings.from_env(
        {"ORCHESTRA_MODEL": "openai:gpt-stand-in", "ORCHESTRA_MODEL_PLANNER": "anthropic:claude-stand-in"}
    )
    checks = model_checks(settings, None, env)
    assert [c.name for c in checks] == ["model planner", "model worker, conflict, ci_fix, review"]
    results = run_checks(checks)
    # Anthropic's key is refused by the stand-in (it expects sk-right): the line names the variable.
    assert results[0].status == "fail"
    assert results[0].detail == (
        f"model anthropic:claude-stand-in: {model_server.anthropic_base_url} refused the key in "
        "ANTHROPIC_API_KEY (HTTP 401)"
    )
    assert results[0].error is not None and results[0].error.source == Source("env", "ANTHROPIC_API_KEY")
    assert results[1].status == "ok"
    assert results[1].detail == (
        f"openai:gpt-stand-in (from environment variable ORCHESTRA_MODEL): "
        f"{model_server.openai_base_url} answers, 2 models listed"
    )
    assert sorted(model_server.listings) == [("anthropic", True), ("openai", True)]
    assert model_server.requests == []  # no model call, no token spent


def test_model_check_failures_name_the_cause(model_server: ModelServer, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(spec: str, env: dict[str, str]) -> str:
        [result] = run_checks(model_checks(Settings.from_env({"ORCHESTRA_MODEL": spec}), None, env))
        assert result.status == "fail", result
        return result.detail

    assert fail("openai:gpt-5.2", {}).endswith(
        "model openai:gpt-5.2: set OPENAI_API_KEY (the provider's API key) in the environment"
    )
    assert "unknown provider 'antropic'" in fail("antropic:claude", {})
    assert "no such scripted model" in fail("scripted:nope", {})
    started = time.monotonic()
    assert "cannot reach http://127.0.0.1:1/v1" in fail("openai-compatible:m@http://127.0.0.1:1/v1", {})
    assert time.monotonic() - started < 6
    # A proxy or local server need not list the model; OpenAI's and Anthropic's own endpoints must.
    env = {"OPENAI_API_KEY": "sk-x", "OPENAI_BASE_URL": model_server.openai_base_url}
    assert "'gpt-typo' is not in its list of 2" in probe_model("openai:gpt-typo", env).note
    monkeypatch.setattr(probe, "_official", lambda spec, env: True)
    assert fail("openai:gpt-typo", env).endswith(
        "offers no model 'gpt-typo' (it lists 2, e.g. claude-stand-in, gpt-stand-in)"
    )
    model_server.models = ["claude-sonnet-4-5-20250929"]
    env = {"ANTHROPIC_API_KEY": "sk-ant", "ANTHROPIC_BASE_URL": model_server.anthropic_base_url}
    assert probe_model("anthropic:claude-sonnet-4-5", env).listed == 1  # an alias matches its dated id


def test_a_models_entry_of_the_repository_is_checked_where_no_flag_or_variable_names_the_role() -> None:
    config = parse_repo_config("models:\n  review: openai:gpt-5.2\n")
    [scripted, review] = model_checks(Settings.from_env({}), config, {})
    assert scripted.name == "model planner, worker, conflict, ci_fix" and review.name == "model review"
    [result] = run_checks([review])
    assert result.status == "fail" and result.error is not None
    assert result.error.source == Source("env", "OPENAI_API_KEY")  # the missing key, not the file, is the cause


def _app_settings(localhub: LocalhubHandle, app: LocalhubApp, **extra: object) -> Settings:
    return Settings(
        app_id=str(app.app_id), private_key=app.private_key_pem, api_url=localhub.api_url, webhook_secret="s", **extra
    )  # type: ignore[arg-type]


def test_app_check_makes_a_jwt_and_the_forge_answers_with_that_app(
    localhub: LocalhubHandle, localhub_app: LocalhubApp, tmp_path: Path
) -> None:
    localhub.add_user("acme")
    localhub.import_repo(make_repo(tmp_path / "app", {"a.txt": "a\n"}), "acme/app")
    settings = _app_settings(localhub, localhub_app)
    assert _result(app_check(settings)) == (
        "ok",
        f"App {localhub_app.app_id} (orchestra) at {localhub.api_url} asks for what the bot needs",
    )
    assert _result(installation_check(settings))[0] == "skip"  # which installation: it needs a repository

    wrong_id = settings.model_copy(update={"app_id": "999"})
    status, detail = _result(app_check(wrong_id))
    assert status == "fail" and "the forge refused the App JWT for App 999" in detail
    bad_key = settings.model_copy(update={"private_key": SecretStr("-----BEGIN RSA PRIVATE KEY-----\nnope\n")})
    status, detail = _result(app_check(bad_key))
    assert status == "fail" and detail.startswith("ORCHESTRA_PRIVATE_KEY: not an RSA private key in PEM form")
    half = Settings(app_id="4242", api_url=localhub.api_url)
    assert _result(app_check(half)) == ("fail", "App auth is half set: ORCHESTRA_PRIVATE_KEY(_PATH) is missing")
    assert _result(app_check(Settings()))[0] == "skip"

    # On a repository: the installation is found from it (reconcile needs no --installation-id).
    assert installation_for(settings, "acme/app") == localhub_app.installation_id
    assert _result(installation_check(settings, "acme/app")) == (
        "ok",
        "installation 7 on acme/app grants what the bot needs",
    )

    # An App registered with less than app.yml asks for: both rows say what is missing.
    public = serialization.load_pem_private_key(localhub_app.private_key_pem.encode(), None).public_key()
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    granted = tuple({**REQUIRED_APP_PERMISSIONS, "contents": "read"}.items())
    localhub.enable_app(
        AppConfig(app_id=localhub_app.app_id, public_key_pem=pem, installation_id=7, permissions=granted)
    )
    status, detail = _result(app_check(settings))
    assert status == "fail" and detail.startswith("App 4242 does not ask for contents: write (has read)")
    status, detail = _result(installation_check(settings, "acme/app"))
    assert status == "fail" and detail.startswith("installation 7 on acme/app lacks contents: write (has read)")


def test_permissions_the_installation_lacks_are_named() -> None:
    assert lacking(REQUIRED_APP_PERMISSIONS) == []
    assert lacking({**REQUIRED_APP_PERMISSIONS, "contents": "read", "checks": "write"}) == [
        "contents: write (has read)"
    ]
    assert lacking({}) == [f"{name}: {level} (has none)" for name, level in REQUIRED_APP_PERMISSIONS.items()]


def test_the_required_permissions_are_app_yml_s_except_the_actions_fan_out() -> None:
    manifest = yaml.safe_load((ROOT / "app.yml").read_text())["default_permissions"]
    assert {k: v for k, v in manifest.items() if k != "actions"} == REQUIRED_APP_PERMISSIONS


def test_token_check_says_whether_the_token_may_push(localhub: LocalhubHandle, tmp_path: Path) -> None:
    owner = localhub.add_user("acme")
    stranger = localhub.add_user("stranger")
    localhub.import_repo(make_repo(tmp_path / "app", {"a.txt": "a\n"}), "acme/app")
    as_owner = Settings(token=owner, api_url=localhub.api_url)  # type: ignore[arg-type]
    assert _result(token_check(as_owner)) == ("ok", f"accepted by {localhub.api_url} (ORCHESTRA_TOKEN)")
    assert _result(token_check(as_owner, "acme/app")) == ("ok", "may write to acme/app (ORCHESTRA_TOKEN)")
    as_stranger = Settings(token=stranger, api_url=localhub.api_url)  # type: ignore[arg-type]
    status, detail = _result(token_check(as_stranger, "acme/app"))
    assert status == "fail" and detail == (
        "the token in ORCHESTRA_TOKEN cannot push to acme/app: give its account write access"
    )
    bad = Settings(token="lh_nobody", api_url=localhub.api_url)  # type: ignore[arg-type]
    assert _result(token_check(bad)) == (
        "fail",
        f"the forge at {localhub.api_url} refused the token in ORCHESTRA_TOKEN (HTTP 401)",
    )
    gone = Settings(token="t", api_url="http://127.0.0.1:1/api/v3")  # type: ignore[arg-type]
    assert _result(token_check(gone)) == ("fail", "the forge at http://127.0.0.1:1 is unreachable: ConnectionError")


def test_a_check_that_hangs_fails_at_the_bound() -> None:
    def hang() -> str:
        time.sleep(5)
        return "late"

    started = time.monotonic()
    results = run_checks([Check("slow", hang), Check("quick", lambda: "fine")], bound_s=0.5)
    assert time.monotonic() - started < 1.5
    assert [(r.name, r.status) for r in results] == [("slow", "fail"), ("quick", "ok")]
    assert results[0].detail == "no answer within 0.5s"


def test_doctor_prints_one_table_and_exits_2_when_a_check_fails(
    localhub: LocalhubHandle,
    localhub_app: LocalhubApp,
    redis_url: str,
    model_server: ModelServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    localhub.add_user("acme")
    localhub.import_repo(make_repo(tmp_path / "app", {"a.txt": "a\n"}), "acme/app")
    for name in [n for n in os.environ if n.startswith(("ORCHESTRA_", "OPENAI_", "ANTHROPIC_", "GITHUB_"))]:
        monkeypatch.delenv(name)
    env = {
        "ORCHESTRA_APP_ID": str(localhub_app.app_id),
        "ORCHESTRA_PRIVATE_KEY": localhub_app.private_key_pem,
        "ORCHESTRA_WEBHOOK_SECRET": "s",
        "ORCHESTRA_API_URL": localhub.api_url,
        "ORCHESTRA_REDIS_URL": redis_url,
        "ORCHESTRA_MODEL": "openai:gpt-stand-in",
        "OPENAI_API_KEY": "sk-x",
        "OPENAI_BASE_URL": model_server.openai_base_url,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and [(c["check"], c["status"]) for c in report["checks"]] == [
        ("git", "ok"),
        ("redis", "ok"),
        ("model planner, worker, conflict, ci_fix, review", "ok"),
        ("prices", "skip"),
        ("webhook secret", "ok"),
        ("app", "ok"),
    ]
    assert main(["doctor", "--json", "--repo", "acme/app"]) == 0
    assert json.loads(capsys.readouterr().out)["checks"][-1] == {
        "check": "installation",
        "status": "ok",
        "detail": "installation 7 on acme/app grants what the bot needs",
    }

    monkeypatch.setenv("ORCHESTRA_REDIS_URL", DOWN)
    monkeypatch.delenv("OPENAI_API_KEY")
    started = time.monotonic()
    assert main(["doctor"]) == 2
    assert time.monotonic() - started < REDIS_WAIT_S + 3  # at once, not one after the other
    rows = {line.split("  ")[0].strip(): line for line in capsys.readouterr().out.splitlines()}
    assert "fail" in rows["redis"] and "hunter2" not in rows["redis"]
    assert "set OPENAI_API_KEY" in rows["model planner, worker, conflict, ci_fix, review"]
    assert rows["app"].split()[1] == "ok"
